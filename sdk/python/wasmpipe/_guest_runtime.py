# The wrapper around a component function, inside the component.
#
# Not imported on the host: the DSL copies this file verbatim into every generated app.py,
# after the header that imports the bindings as `_wp_t` (wit_world.imports.types) and
# `_WpErr` (componentize_py_types.Err), and after _status.py.

_WP_PORT_TYPES = {
    "string": _wp_t.PortType_Str, "int": _wp_t.PortType_Int, "float": _wp_t.PortType_Float,
    "bool": _wp_t.PortType_Boolean, "list": _wp_t.PortType_ListOf, "dict": _wp_t.PortType_DictOf,
    "any": _wp_t.PortType_Any, "final_status": _wp_t.PortType_FinalStatus,
}
_WP_STATES = {_wp_t.State.SUCCEEDED: "SUCCEEDED", _wp_t.State.FAILED: "FAILED",
              _wp_t.State.CANCELLED: "CANCELLED"}


def _wp_to_value(obj):
    """A Python value as a flattened WIT value (nodes[0] is the root)."""
    nodes = []

    def add(o):
        i = len(nodes)
        nodes.append(None)
        if o is None:
            nodes[i] = _wp_t.Node_Null()
        elif isinstance(o, bool):  # before int: a bool is an int in Python
            nodes[i] = _wp_t.Node_Boolean(o)
        elif isinstance(o, int):
            if not -(1 << 63) <= o < (1 << 63):
                raise ValueError(f"the int {o} does not fit in 64 bits")
            nodes[i] = _wp_t.Node_Int(o)
        elif isinstance(o, float):
            nodes[i] = _wp_t.Node_Float(o)
        elif isinstance(o, str):
            nodes[i] = _wp_t.Node_Str(o)
        elif isinstance(o, (list, tuple)):
            nodes[i] = _wp_t.Node_ListOf([add(x) for x in o])
        elif isinstance(o, dict):
            items = []
            for k, v in o.items():
                if not isinstance(k, str):
                    raise ValueError(f"dict keys must be strings, not {type(k).__name__} ({k!r})")
                items.append((k, add(v)))
            nodes[i] = _wp_t.Node_DictOf(items)
        else:
            raise ValueError(f"a {type(o).__name__} is not a value wasmpipe can pass "
                             "(str, int, float, bool, list, dict or None)")
        return i

    add(obj)
    return _wp_t.Value(nodes)


def _wp_from_value(value):
    """A flattened WIT value as a Python value."""
    nodes = value.nodes

    def get(i):
        n = nodes[i]
        if isinstance(n, _wp_t.Node_Null):
            return None
        if isinstance(n, _wp_t.Node_ListOf):
            return [get(j) for j in n.value]
        if isinstance(n, _wp_t.Node_DictOf):
            return {k: get(j) for k, j in n.value}
        return n.value

    return get(0) if nodes else None


def _wp_status(fs):
    return PipelineTaskFinalStatus(
        state=_WP_STATES.get(fs.state, str(fs.state)),
        run_id=fs.run_id,
        group=fs.group,
        failures=[TaskFailure(task=f.task, kind=f.kind.name.lower(), message=f.message,
                              trap_code=f.trap_code, cached=f.cached, exit_handler=f.exit_handler)
                  for f in fs.failures],
    )


def _wp_port_type(ty):
    if ty.startswith("artifact:"):  # an artifact of a kind ("artifact:Dataset"), a single file
        return _wp_t.PortType_Artifact(_wp_t.ArtifactType(kind=ty[len("artifact:"):], directory=False))
    return _WP_PORT_TYPES[ty]()


def _wp_describe(spec):
    inputs = []
    for i in spec["inputs"]:
        default = _wp_to_value(i["default"]) if "default" in i else None
        inputs.append(_wp_t.InputSpec(i["name"], _wp_port_type(i["type"]), i["required"],
                                      default, i.get("description", "")))
    outputs = [_wp_t.OutputSpec(o["name"], _wp_port_type(o["type"]), o.get("description", ""))
               for o in spec["outputs"]]
    return _wp_t.Signature(spec["name"], spec["description"], inputs, outputs)


def _wp_check_output(name, ty, v):
    """The value of output `name` as its declared type wants it, or an error message."""
    ok = {
        "string": lambda: isinstance(v, str),
        "int": lambda: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda: isinstance(v, (int, float)) and not isinstance(v, bool),
        "bool": lambda: isinstance(v, bool),
        "list": lambda: isinstance(v, (list, tuple)),
        "dict": lambda: isinstance(v, dict),
        "any": lambda: True,
    }[ty]()
    if not ok:
        raise _WpErr(f"output `{name}` is declared {ty} but the function returned "
                     f"{type(v).__name__} {v!r}")
    if ty == "float":
        v = float(v)
    try:
        return _wp_to_value(v)
    except ValueError as e:
        raise _WpErr(f"output `{name}`: {e}")


def _wp_artifact_outputs(spec, artifacts):
    """The output artifacts (Output[...] parameters): each must have been written at its
    path, /out/<name>; its metadata goes back to the host."""
    import os
    ret = []
    for o in spec["outputs"]:
        if not o.get("param") or not o["type"].startswith("artifact:"):
            continue
        name, art = o["name"], artifacts[o["name"]]
        path = "/out/" + name
        if not os.path.exists(path) and getattr(art, "schema_title", "") == "system.Metrics":
            # KFP writes a Metrics artifact's logged metrics as its file when the function
            # writes none (`metrics.log_metric(...)` alone).
            import json
            with open(path, "w") as f:
                json.dump(art.metadata or {}, f)
        if not os.path.exists(path):
            raise _WpErr(f"`{spec['func']}` did not write its output artifact `{name}` "
                         f"(write the file at `{name}.path`, {path})")
        metadata = art.metadata if art.metadata is not None else {}
        if not isinstance(metadata, dict):
            raise _WpErr(f"output artifact `{name}`: metadata must be a dict, not "
                         f"{type(metadata).__name__}")
        try:
            value = _wp_to_value(metadata)
        except ValueError as e:
            raise _WpErr(f"output artifact `{name}`, metadata: {e}")
        ret.append((name, _wp_t.OutputValue_Artifact(_wp_t.Artifact(
            path=path, name=name, size=0, digest="", metadata=value))))
    return ret


def _wp_outputs(spec, result):
    outs = [o for o in spec["outputs"] if not o.get("param")]
    if not outs:
        return []
    if spec["single"]:
        values = {outs[0]["name"]: result}
    elif isinstance(result, dict):
        values = result
    elif isinstance(result, tuple) and len(result) == len(outs):
        values = dict(zip([o["name"] for o in outs], result))
    elif result is not None and all(hasattr(result, o["name"]) for o in outs):
        values = {o["name"]: getattr(result, o["name"]) for o in outs}
    else:
        names = ", ".join(o["name"] for o in outs)
        raise _WpErr(f"`{spec['func']}` must return its outputs ({names}) as a tuple or "
                     f"NamedTuple, not {type(result).__name__} {result!r}")
    ret = []
    for o in outs:
        name = o["name"]
        if name not in values or values[name] is None:
            raise _WpErr(f"`{spec['func']}` returned no value for output `{name}`")
        if o["type"].startswith("artifact:"):
            ret.append((name, _wp_returned_artifact(spec, name, values[name])))
            continue
        ret.append((name, _wp_t.OutputValue_Value(_wp_check_output(name, o["type"], values[name]))))
    return ret


class _WpVirtualFiles:
    """Files that live in memory for the length of one call: the paths a component gets for
    KFP's `InputPath(str)` (a file holding the value) and `OutputPath(int)` (where it writes
    one). A task with only value outputs has no writable directory in its sandbox, so `open`
    (builtins and `io`, which pathlib uses), `os.makedirs` and `os.path.exists` see these paths
    in memory while the function runs; every other path goes to the real functions."""

    def __init__(self):
        self.files = {}    # path -> bytes, or None while not written
        self.buffers = {}  # path -> the buffer of a file still open for writing
        self._saved = None

    def _key(self, file):
        import os
        try:
            key = os.fspath(file)
        except TypeError:
            return None
        if isinstance(key, bytes):
            key = key.decode("utf-8", "surrogateescape")
        return key if key in self.files else None

    def open(self, real_open, file, mode="r", buffering=-1, encoding=None, errors=None,
             newline=None, closefd=True, opener=None):
        import io
        key = self._key(file)
        if key is None:
            return real_open(file, mode, buffering, encoding, errors, newline, closefd, opener)
        if any(c in mode for c in "wax+"):
            old = self._value(key)
            if "x" in mode and old is not None:
                raise FileExistsError(17, "File exists", key)
            files = self

            class _Buf(io.BytesIO):
                def close(self):
                    if not self.closed:
                        files.files[key] = self.getvalue()
                        files.buffers.pop(key, None)
                    super().close()

            buf = _Buf(b"" if "w" in mode or old is None else old)
            if "a" in mode:
                buf.seek(0, 2)
            self.buffers[key] = buf
        else:
            data = self._value(key)
            if data is None:
                raise FileNotFoundError(2, "No such file or directory", key)
            buf = io.BytesIO(data)
        if "b" in mode:
            return buf
        return io.TextIOWrapper(buf, encoding=encoding or "utf-8", errors=errors, newline=newline,
                                write_through=True)

    def _value(self, key):
        buf = self.buffers.get(key)
        if buf is not None and not buf.closed:
            return buf.getvalue()
        return self.files.get(key)

    def read(self, path):
        """What was written at `path` (bytes), or None."""
        return self._value(path)

    def __enter__(self):
        import builtins
        import io
        import os
        real_open, real_makedirs, real_exists = builtins.open, os.makedirs, os.path.exists
        self._saved = (real_open, io.open, real_makedirs, real_exists)
        dirs = {p.rsplit("/", 1)[0] or "/" for p in self.files}

        def open_(file, *args, **kwargs):
            return self.open(real_open, file, *args, **kwargs)

        def makedirs(name, mode=0o777, exist_ok=False):
            if os.fspath(name).rstrip("/") in dirs:
                return None
            return real_makedirs(name, mode, exist_ok)

        def exists(path):
            key = self._key(path)
            if key is not None:
                return self._value(key) is not None
            return os.fspath(path).rstrip("/") in dirs or real_exists(path)

        builtins.open = io.open = open_
        os.makedirs, os.path.exists = makedirs, exists
        return self

    def __exit__(self, *exc):
        import builtins
        import io
        import os
        builtins.open, io.open, os.makedirs, os.path.exists = self._saved
        return False


def _wp_null_device():
    """WASI has no /dev/null, which Python code opens (dill at import, with `open` and
    `_pyio.open`, to learn the types of files; code that silences output): `open(os.devnull)`
    gives a null file instead, of the type the mode gives (reads find nothing, writes are
    dropped). Every other path goes to the real `open`."""
    import builtins
    import io
    import _pyio
    if getattr(builtins.open, "_wp_null_device", False):
        return
    builtins.open = io.open = _wp_null_open(io, builtins.open)
    _pyio.open = _wp_null_open(_pyio, _pyio.open)


def _wp_default_tempdir():
    """tempfile.gettempdir() looks for a writable directory by writing in each candidate, and
    a task's sandbox has none: packages that ask for it when imported (dill) get /tmp without
    the search; creating a temporary file there fails, naming the path."""
    import tempfile
    if tempfile.tempdir is None:
        tempfile.tempdir = "/tmp"


def _wp_null_open(iomod, real_open):
    """`real_open` of the module `iomod` (io or _pyio), but for os.devnull: a null file made
    of that module's classes."""
    import os

    class _NullRaw(iomod.RawIOBase):
        name = os.devnull

        def __init__(self, mode):
            super().__init__()
            self.mode = mode

        def readable(self):
            return True

        def writable(self):
            return True

        def seekable(self):
            return True

        def seek(self, pos, whence=0):
            return 0

        def readinto(self, b):
            return 0

        def write(self, b):
            return len(b)

    def open_(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
              closefd=True, opener=None):
        try:
            is_null = os.fspath(file) in (os.devnull, os.devnull.encode())
        except TypeError:
            is_null = False
        if not is_null:
            return real_open(file, mode, buffering, encoding, errors, newline, closefd, opener)
        raw = _NullRaw(mode.replace("t", ""))
        if "b" in mode and buffering == 0:
            return raw
        if "+" in mode:
            buf = iomod.BufferedRandom(raw)
        elif any(c in mode for c in "wax"):
            buf = iomod.BufferedWriter(raw)
        else:
            buf = iomod.BufferedReader(raw)
        if "b" in mode:
            return buf
        return iomod.TextIOWrapper(buf, encoding=encoding or "utf-8", errors=errors,
                                   newline=newline)

    open_._wp_null_device = True
    return open_


def _wp_path_text(value, ty):
    """An input value as the text of the file `InputPath(ty)` names (as KFP writes it)."""
    import json
    if ty == "string" and isinstance(value, str):
        return value
    return json.dumps(value)


def _wp_parse_path_value(spec, name, ty, data):
    """The value a function wrote for `OutputPath(ty)`, read as KFP's launcher reads it: a
    string as written, a number or bool from its text (`True`, `true`, `1`), a list or dict as
    JSON."""
    import json
    if data is None:
        raise _WpErr(f"`{spec['func']}` did not write its output `{name}` (OutputPath): write "
                     f"the value in the file at the path it is given, /out/{name}")
    text = data.decode("utf-8", "replace")
    if ty == "string":
        return text
    t = text.strip()
    try:
        if ty == "int":
            try:
                return int(t)
            except ValueError:
                f = float(t)
                if f != int(f):
                    raise
                return int(f)
        if ty == "float":
            return float(t)
        if ty == "bool":
            low = t.lower()
            if low in ("true", "t", "1"):
                return True
            if low in ("false", "f", "0"):
                return False
            raise ValueError(t)
        if ty in ("list", "dict"):
            v = json.loads(t)
            if not isinstance(v, list if ty == "list" else dict):
                raise ValueError(t)
            return v
    except ValueError:
        raise _WpErr(f"output `{name}` (OutputPath) is declared {ty} but the function wrote "
                     f"{text[:200]!r}")
    try:  # any
        return json.loads(t)
    except ValueError:
        return text


def _wp_returned_artifact(spec, name, value):
    """A returned artifact (`-> Dataset`, or a NamedTuple field of an artifact class): its file
    must end up at /out/<name>. An artifact object written elsewhere (`uri=dsl.get_uri('x')`)
    is moved there; anything else is written there as text, as KFP does."""
    import os
    import shutil
    dest = "/out/" + name
    if isinstance(value, Artifact):
        src = value.path or ""
        if not src:
            raise _WpErr(f"`{spec['func']}` returned an artifact with no path for output "
                         f"`{name}`: create it with `uri=dsl.get_uri()` and write its file at "
                         "`.path`")
        if src.rstrip("/") != dest:
            if not os.path.exists(src):
                raise _WpErr(f"`{spec['func']}` returned an artifact for output `{name}` whose "
                             f"file {src} does not exist: write it before returning")
            try:
                os.replace(src, dest)
            except OSError:
                shutil.copyfile(src, dest)
        elif not os.path.exists(dest):
            raise _WpErr(f"`{spec['func']}` returned the artifact `{name}` without writing its "
                         f"file at {dest}")
        metadata = value.metadata if value.metadata is not None else {}
    else:
        with open(dest, "w") as f:
            f.write(str(value))
        metadata = {}
    if not isinstance(metadata, dict):
        raise _WpErr(f"output artifact `{name}`: metadata must be a dict, not "
                     f"{type(metadata).__name__}")
    try:
        meta = _wp_to_value(metadata)
    except ValueError as e:
        raise _WpErr(f"output artifact `{name}`, metadata: {e}")
    return _wp_t.OutputValue_Artifact(_wp_t.Artifact(path=dest, name=name, size=0, digest="",
                                                     metadata=meta))


def _wp_artifact_list(value, kind):
    """The artifacts a loop's iterations made, as the host describes them (`{path, name, kind,
    metadata, ...}`, a list per loop), as artifact objects of the declared class."""
    if isinstance(value, list):
        return [_wp_artifact_list(v, kind) for v in value]
    if isinstance(value, dict) and "path" in value:
        cls = _WP_ARTIFACT_KINDS.get(kind, Artifact)
        metadata = value.get("metadata")
        return cls(name=value.get("name"), uri=value["path"],
                   metadata=metadata if isinstance(metadata, dict) else {})
    return value


def _wp_run(spec, func, ctx, inputs):
    import sys
    import traceback
    given = dict(inputs)
    kwargs = {}
    for stream in (sys.stdout, sys.stderr):  # print's lines reach the log even if the task is killed
        try:
            stream.reconfigure(line_buffering=True)
        except Exception:
            pass
    vfs = _WpVirtualFiles()
    try:
        for i in spec["inputs"]:
            name = i["name"]
            v = given.get(name)
            if isinstance(v, _wp_t.InputValue_FinalStatus):
                kwargs[name] = _wp_status(v.value)
            elif isinstance(v, _wp_t.InputValue_Value):
                kwargs[name] = _wp_from_value(v.value)
                if i.get("artifact_list"):  # List[Dataset]: artifacts collected over a loop
                    kwargs[name] = _wp_artifact_list(kwargs[name], i["artifact_list"])
                if i.get("path"):  # InputPath(str): the path of a file holding the value
                    path = "/in/" + name
                    vfs.files[path] = _wp_path_text(kwargs[name], i["type"]).encode("utf-8")
                    kwargs[name] = path
            elif isinstance(v, _wp_t.InputValue_Artifact):
                if not i["type"].startswith("artifact:"):
                    raise _WpErr(f"input `{name}` received an artifact, which this component "
                                 "does not take")
                a = v.value
                metadata = _wp_from_value(a.metadata) if a.metadata.nodes else {}
                cls = _WP_ARTIFACT_KINDS.get(i["type"][len("artifact:"):], Artifact)
                kwargs[name] = cls(name=a.name, uri=a.path,
                                   metadata=metadata if isinstance(metadata, dict) else {})
                if i.get("path"):  # InputPath('Dataset'): the artifact's path alone
                    kwargs[name] = a.path
            elif not i["py_default"]:
                kwargs[name] = None  # an optional input left unbound, without a Python default
        artifacts = {}
        for o in spec["outputs"]:
            if not o.get("param"):
                continue
            path = "/out/" + o["name"]
            if not o["type"].startswith("artifact:"):
                vfs.files[path] = None  # OutputPath(int): written in memory, read back below
                kwargs[o["name"]] = path
                continue
            # an output artifact: the function writes it at /out/<name>
            cls = _WP_ARTIFACT_KINDS.get(o["type"][len("artifact:"):], Artifact)
            artifacts[o["name"]] = kwargs[o["name"]] = cls(name=o["name"], uri=path, metadata={})
            if o.get("path"):  # OutputPath('Dataset'): the path alone
                kwargs[o["name"]] = path
        try:
            if vfs.files:
                with vfs:
                    result = func(**kwargs)
            else:
                result = func(**kwargs)
        except SystemExit as e:
            code = e.code
            if code is None or code == 0:
                result = None
            elif isinstance(code, int):
                raise _WpErr(f"`{spec['func']}` exited with status {code} (sys.exit)")
            else:
                raise _WpErr(str(code))
        except _WpErr:
            raise
        except BaseException as e:
            traceback.print_exc()
            raise _WpErr(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__)
        written = []
        for o in spec["outputs"]:
            if o.get("param") and not o["type"].startswith("artifact:"):
                name = o["name"]
                value = _wp_parse_path_value(spec, name, o["type"], vfs.read("/out/" + name))
                written.append((name, _wp_t.OutputValue_Value(_wp_check_output(name, o["type"], value))))
        return _wp_outputs(spec, result) + written + _wp_artifact_outputs(spec, artifacts)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass

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
        if not o.get("param"):
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
        ret.append((name, _wp_t.OutputValue_Value(_wp_check_output(name, o["type"], values[name]))))
    return ret


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
    try:
        for i in spec["inputs"]:
            name = i["name"]
            v = given.get(name)
            if isinstance(v, _wp_t.InputValue_FinalStatus):
                kwargs[name] = _wp_status(v.value)
            elif isinstance(v, _wp_t.InputValue_Value):
                kwargs[name] = _wp_from_value(v.value)
            elif isinstance(v, _wp_t.InputValue_Artifact):
                if not i["type"].startswith("artifact:"):
                    raise _WpErr(f"input `{name}` received an artifact, which this component "
                                 "does not take")
                a = v.value
                metadata = _wp_from_value(a.metadata) if a.metadata.nodes else {}
                cls = _WP_ARTIFACT_KINDS.get(i["type"][len("artifact:"):], Artifact)
                kwargs[name] = cls(name=a.name, uri=a.path,
                                   metadata=metadata if isinstance(metadata, dict) else {})
            elif not i["py_default"]:
                kwargs[name] = None  # an optional input left unbound, without a Python default
        artifacts = {}
        for o in spec["outputs"]:
            if o.get("param"):  # an output artifact: the function writes it at /out/<name>
                cls = _WP_ARTIFACT_KINDS.get(o["type"][len("artifact:"):], Artifact)
                artifacts[o["name"]] = kwargs[o["name"]] = cls(
                    name=o["name"], uri="/out/" + o["name"], metadata={})
        try:
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
        return _wp_outputs(spec, result) + _wp_artifact_outputs(spec, artifacts)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass

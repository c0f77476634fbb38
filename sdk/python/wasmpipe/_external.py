"""Components the DSL does not build from Python: a `.wasm` loaded from a component spec or a
pipeline file (`components.load_component_from_file`), and a WASI command declared with
`@dsl.container_component`. Each is used as a task like a `@dsl.component`; the compiler puts
its files beside the pipeline file and writes its `components:` entry."""
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import _types
from ._component import DSLError, InputSpec, OutputSpec, checked_default

# wasmpipe's type names, as the pipeline file writes them.
_VALUE_TYPES = ("string", "int", "float", "bool", "list", "dict", "any")
_temp_store: Optional[Path] = None


def stable_copy(path: Path, where: str) -> Path:
    """A copy of the file at `path` that outlives it (KFP users load a component from a
    temporary directory, then compile after it is gone): a hard link or copy in the cache
    directory, named by content hash."""
    from ._build import cache_root, place
    global _temp_store
    try:
        data_hash = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    except OSError as e:
        raise DSLError(f"{where}: cannot read {path}: {e.strerror or e}") from None
    root = cache_root()
    if root is None:
        if _temp_store is None:
            _temp_store = Path(tempfile.mkdtemp(prefix="wasmpipe-loaded-"))
        store = _temp_store
    else:
        store = root / "loaded-components"
    store.mkdir(parents=True, exist_ok=True)
    dest = store / f"{data_hash}{path.suffix}"
    if not dest.is_file():
        place(path, dest)
    return dest


def _port_type(spec: Any, where: str) -> str:
    """A port written as in a pipeline file (`{type: int}`, `{type: artifact, kind: Dataset}`)
    as the DSL's type name."""
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, dict) or "type" not in spec:
        raise DSLError(f"{where}: write it as {{type: TYPE}}, with TYPE one of "
                       f"{', '.join(_VALUE_TYPES)} or artifact")
    ty = spec["type"]
    if ty == "artifact":
        kind = spec.get("kind") or "Artifact"
        return _types.ARTIFACT + str(kind)
    if ty not in _VALUE_TYPES:
        raise DSLError(f"{where}: type `{ty}` is not one of {', '.join(_VALUE_TYPES)} or artifact")
    return ty


def inputs_from(ports: Dict[str, Any], where: str) -> List[InputSpec]:
    out = []
    for name, spec in (ports or {}).items():
        w = f"{where}, input `{name}`"
        ty = _port_type(spec, w)
        has_default = isinstance(spec, dict) and "default" in spec
        i = InputSpec(name, ty, required=not has_default, description=(spec or {}).get(
            "description", "") if isinstance(spec, dict) else "")
        if has_default and spec["default"] is not None and not _types.is_artifact(ty):
            i.has_default, i.default = True, checked_default(spec["default"], ty, w)
        out.append(i)
    return out


def outputs_from(ports: Dict[str, Any], where: str) -> List[OutputSpec]:
    return [OutputSpec(name, _port_type(spec, f"{where}, output `{name}`"),
                       (spec.get("description", "") if isinstance(spec, dict) else ""))
            for name, spec in (ports or {}).items()]


class ExternalComponent:
    """What a task needs of a component (name, typed inputs and outputs), for one the DSL
    does not build. Subclasses place their files and write their `components:` entry."""

    is_pipeline = False

    def __init__(self, name: str, inputs: List[InputSpec], outputs: List[OutputSpec],
                 description: str = ""):
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.description = description
        self.single_output = [o.name for o in outputs] == ["output"]

    def __call__(self, *args, **kwargs):
        from . import dsl
        return dsl._create_task(self, args, kwargs)

    def entry(self, key: str, path: Optional[str]) -> dict:
        """The `components:` entry, given where `place` put the file."""
        raise NotImplementedError

    def place(self, key: str, out_dir: Path) -> Optional[str]:
        """Puts the component's files beside the pipeline file in `out_dir`; returns the path
        to write in its entry, relative to `out_dir`."""
        raise NotImplementedError

    def __repr__(self):
        return f"<wasmpipe {type(self).__name__} {self.name}>"


def _place_file(src: Path, dest: Path):
    from ._build import place
    dest.parent.mkdir(parents=True, exist_ok=True)
    place(src, dest)


class WasmComponent(ExternalComponent):
    """A `.wasm` (or `.wat`) component: a task-world component, or with `command`, a plain
    WASI command whose interface the entry declares (KFP's container component)."""

    def __init__(self, name: str, wasm: Path, inputs, outputs, command: Optional[dict] = None,
                 description: str = ""):
        super().__init__(name, inputs, outputs, description)
        self.wasm = wasm
        self.command = command

    def place(self, key: str, out_dir: Path) -> str:
        rel = f"components/{key}{self.wasm.suffix}"
        _place_file(self.wasm, out_dir / rel)
        return rel

    def entry(self, key: str, path: Optional[str]) -> dict:
        d: Dict[str, Any] = {"path": path or f"components/{key}{self.wasm.suffix}"}
        if self.command is not None:
            d["command"] = self.command
        return d


class PipelineFileComponent(ExternalComponent):
    """A wasmpipe pipeline file used as a component (a sub-pipeline): its parameters are the
    task's inputs, its `outputs` the task's (typed `any`: the file does not say their types;
    `wasmpipe validate` checks them when the pipeline runs)."""

    is_pipeline = True

    def __init__(self, doc: dict, where: str, files: Dict[str, Any]):
        name = str(doc.get("name") or "pipeline").replace("-", "_")
        ins = []
        for k, spec in (doc.get("params") or {}).items():
            ty = _port_type(spec, f"{where}, parameter `{k}`")
            has_default = isinstance(spec, dict) and "default" in spec
            ins.append(InputSpec(k, ty, required=not has_default, has_default=has_default,
                                 default=spec.get("default") if has_default else None))
        outs = [OutputSpec(k, "any") for k in (doc.get("outputs") or {})]
        super().__init__(name, ins, outs, str(doc.get("description") or ""))
        self.doc = doc
        self.files = files  # component key -> stable .wasm path, or a PipelineFileComponent

    def place(self, key: str, out_dir: Path) -> str:
        doc = dict(self.doc)
        comps = {}
        for k, entry in (doc.get("components") or {}).items():
            target = self.files[k]
            entry = dict(entry)
            entry.pop("build", None)  # its sources were beside the loaded file
            if isinstance(target, PipelineFileComponent):
                entry["pipeline"] = target.place(f"{key}__{k}", out_dir)
            else:
                rel = f"components/{key}__{k}{target.suffix}"
                _place_file(target, out_dir / rel)
                entry["path"] = rel
            comps[k] = entry
        doc["components"] = comps
        rel = f"{key}.yaml"
        from . import _yaml
        text = _yaml.dumps(doc, header=f"The pipeline `{self.doc.get('name')}`, loaded by "
                                       "wasmpipe's components.load_component_from_file; "
                                       "do not edit.")
        tmp = out_dir / f".{rel}.tmp{os.getpid()}"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out_dir / rel)
        return rel

    def entry(self, key: str, path: Optional[str]) -> dict:
        return {"pipeline": path or f"{key}.yaml"}


def read_spec_text(text: str, where: str) -> Any:
    """A spec file's data: JSON, or YAML (read with PyYAML, which the DSL needs only here)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml
    except ImportError:
        raise DSLError(f"{where}: reading YAML needs PyYAML (`pip install pyyaml`, or "
                       "`pip install 'wasmpipe[yaml]'`); or write the spec as JSON") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise DSLError(f"{where}: not valid YAML: {e}") from None


def from_data(data: Any, base: Optional[Path], where: str,
              default_name: Optional[str] = None) -> ExternalComponent:
    """A component from a spec's data: a wasmpipe pipeline file (it has `steps`), or a
    component spec: a pipeline file's `components:` entry with a `name`, and for a task-world
    component its `inputs` and `outputs`. Paths are relative to `base`."""
    if not isinstance(data, dict):
        raise DSLError(f"{where}: a component spec is a mapping (a wasmpipe pipeline file, or "
                       "{name, path, inputs, outputs}), not " + type(data).__name__)
    if "steps" in data:
        return _pipeline_file(data, base, where)
    known = {"name", "description", "path", "command", "inputs", "outputs"}
    unknown = sorted(set(data) - known)
    if unknown:
        hint = (" (this looks like KFP's component YAML, which runs a container image: "
                "wasmpipe loads a .wasm with its interface, see the DSL guide)"
                if {"implementation", "deploymentSpec", "pipelineInfo"} & set(data) else "")
        raise DSLError(f"{where}: unknown field(s) {', '.join(unknown)}; a component spec has "
                       f"{', '.join(sorted(known))}{hint}")
    if "path" not in data:
        raise DSLError(f"{where}: a component spec needs `path`, the .wasm file (relative to "
                       "the spec)")
    name = str(data.get("name") or default_name or Path(str(data["path"])).stem)
    wasm = _resolve(str(data["path"]), base, where)
    command = data.get("command")
    if command is not None:
        if not isinstance(command, dict):
            raise DSLError(f"{where}: `command` is {{args, env, inputs, outputs}}")
        if "inputs" in data or "outputs" in data:
            raise DSLError(f"{where}: a command declares its inputs and outputs inside "
                           "`command:`, not beside it")
        ins = inputs_from(command.get("inputs"), f"{where}, command")
        outs = outputs_from(command.get("outputs"), f"{where}, command")
    else:
        ins = inputs_from(data.get("inputs"), where)
        outs = outputs_from(data.get("outputs"), where)
    return WasmComponent(name.replace("-", "_"), stable_copy(wasm, where), ins, outs, command,
                         str(data.get("description") or ""))


def _resolve(path: str, base: Optional[Path], where: str) -> Path:
    p = Path(path)
    if not p.is_absolute():
        if base is None:
            raise DSLError(f"{where}: `{path}` is relative, and a spec given as text has no "
                           "directory: give an absolute path, or load it from its file")
        p = base / p
    if not p.is_file():
        raise DSLError(f"{where}: the component file {p} does not exist")
    return p


def _pipeline_file(doc: dict, base: Optional[Path], where: str) -> PipelineFileComponent:
    files: Dict[str, Any] = {}
    doc = dict(doc)
    for k, entry in (doc.get("components") or {}).items():
        w = f"{where}, component `{k}`"
        if not isinstance(entry, dict):
            raise DSLError(f"{w}: not a components: entry")
        if entry.get("pipeline"):
            sub = _resolve(str(entry["pipeline"]), base, w)
            files[k] = _pipeline_file(read_spec_text(sub.read_text(encoding="utf-8"), str(sub)),
                                      sub.parent, str(sub))
        elif entry.get("path"):
            files[k] = stable_copy(_resolve(str(entry["path"]), base, w), w)
        else:
            raise DSLError(f"{w}: has neither `path` nor `pipeline`")
    params = {}
    for k, spec in (doc.get("params") or {}).items():
        spec = dict(spec) if isinstance(spec, dict) else spec
        if isinstance(spec, dict) and spec.get("type") == "artifact" and isinstance(
                spec.get("default"), str) and base is not None:
            # a host file beside the loaded pipeline: keep pointing at it
            spec["default"] = str((base / spec["default"]).resolve())
        params[k] = spec
    if params:
        doc["params"] = params
    return PipelineFileComponent(doc, where, files)


# --------------------------------------------------------------------------------------------
# KFP's container components, as WASI commands
# --------------------------------------------------------------------------------------------
class ContainerSpec:
    """KFP's `dsl.ContainerSpec`: what a `@dsl.container_component` runs. For wasmpipe,
    `image` names a WASI command's `.wasm` (or `.wat`) file, relative to the Python file that
    defines the component (or absolute); `command[1:]` then `args` are its arguments
    (`command[0]`, if given, names the program, which is the .wasm itself)."""

    def __init__(self, image: str, command: Optional[List[Any]] = None,
                 args: Optional[List[Any]] = None):
        self.image, self.command, self.args = image, list(command or []), list(args or [])


class ConcatPlaceholder(str):
    """KFP's `dsl.ConcatPlaceholder(items)`: the items as one string (an f-string does the same)."""

    def __new__(cls, items: List[Any]):
        return super().__new__(cls, "".join(str(i) for i in items))


class _ArtifactPlaceholder:
    """An artifact parameter of a container component: `.path` (and `.uri`) is its path in the
    sandbox, `/in/NAME` or `/out/NAME`, as a template."""

    def __init__(self, where: str, ref: str):
        self._where, self.path, self.uri = where, ref, ref

    @property
    def metadata(self):
        raise DSLError(f"{self._where}: a WASI command cannot read or set an artifact's "
                       "metadata; pass its .path")

    def __str__(self):
        return self.path


class ContainerComponent(WasmComponent):
    """A `@dsl.container_component` whose image is a `.wasm`: a WASI command, declared in the
    pipeline file's `command:` entry. Any other image is refused when the component is used
    (or compiled), naming the image."""

    def __init__(self, func):
        import inspect
        import typing
        self.python_func = func
        name = func.__name__
        where = f"container component `{name}`"
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception as e:
            raise DSLError(f"{where}: its annotations could not be resolved: {e}") from None
        ins: Dict[str, dict] = {}
        outs: Dict[str, dict] = {}
        kwargs: Dict[str, Any] = {}
        for p in inspect.signature(func).parameters.values():
            w = f"{where}, parameter `{p.name}`"
            ann = hints.get(p.name, str)
            try:
                by_path = _types.path_param(ann)
                art = None if by_path else _types.artifact_param(ann)
                if by_path:
                    direction, ty = by_path
                elif art:
                    direction, ty = art[0], art[1]
                else:
                    direction, (ty, _) = "in", _types.wasm_type(ann)
            except Exception as e:
                raise DSLError(f"{w}: {e}") from None
            if ty == "final_status":
                raise DSLError(f"{w}: a WASI command cannot take a final status")
            port: Dict[str, Any] = ({"type": "artifact", "kind": _types.kind(ty)}
                                    if _types.is_artifact(ty) else {"type": ty})
            if direction == "out":
                outs[p.name] = port
                ref = "{{outputs.%s}}" % p.name
            else:
                if p.default is not inspect.Parameter.empty:
                    port["default"] = (None if p.default is None
                                       else checked_default(p.default, ty, w))
                ins[p.name] = port
                ref = "{{inputs.%s}}" % p.name
            kwargs[p.name] = _ArtifactPlaceholder(w, ref) if (art and not by_path) else ref
        spec = func(**kwargs)
        if not isinstance(spec, ContainerSpec):
            raise DSLError(f"{where} must return a dsl.ContainerSpec(image=..., command=..., "
                           f"args=...), not {spec!r}")
        self.image = str(spec.image)
        try:
            source = Path(inspect.getsourcefile(func) or ".").resolve().parent
        except TypeError:
            source = Path.cwd()
        self.refused: Optional[str] = None
        if not self.image.endswith((".wasm", ".wat")):
            self.refused = (
                f"{where}: image `{self.image}` is a container image, which wasmpipe cannot run: "
                "a task is a WebAssembly component. Build the program for WASI (wasm32-wasip1 or "
                "wasm32-wasip2) and name its .wasm as the image (`image='tools/x.wasm'`, relative "
                "to the Python file), or write the step as a Python @dsl.component")
        wasm = Path(self.image) if Path(self.image).is_absolute() else source / self.image
        args = [str(a) for a in spec.command[1:] + spec.args]
        command: Dict[str, Any] = {}
        if args:
            command["args"] = args
        if ins:
            command["inputs"] = ins
        if outs:
            command["outputs"] = outs
        super().__init__(name, wasm, inputs_from(ins, where), outputs_from(outs, where), command,
                         description=(inspect.getdoc(func) or "").split("\n\n")[0])

    def check_usable(self):
        if self.refused:
            raise DSLError(self.refused)
        if not self.wasm.is_file():
            raise DSLError(f"container component `{self.name}`: its image {self.wasm} does not "
                           "exist; build it, or fix the path (relative to the Python file that "
                           "defines the component)")

    def __call__(self, *args, **kwargs):
        self.check_usable()
        return super().__call__(*args, **kwargs)

    def place(self, key: str, out_dir: Path) -> str:
        self.check_usable()
        return super().place(key, out_dir)


def container_component(func):
    """KFP's `@dsl.container_component`: the function returns a `dsl.ContainerSpec`; its
    parameters are the inputs (`{{inputs.NAME}}` in the arguments: the value, or the path of
    an input artifact), and `dsl.OutputPath(T)` / `dsl.Output[Kind]` parameters the outputs
    (`{{outputs.NAME}}`: the path where the command writes them). The image must be a `.wasm`
    (a WASI command)."""
    return ContainerComponent(func)

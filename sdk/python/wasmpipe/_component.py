"""`@dsl.component`: a typed, self-contained Python function as a wasmpipe component."""
import ast
import builtins
import dis
import inspect
import re
import textwrap
import types
import typing
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import _artifacts, _build, _types
from ._types import _Unsupported

_HERE = Path(__file__).resolve().parent
_RESERVED = {"Component", "PipelineTaskFinalStatus", "TaskFailure", "Input", "Output",
             "InputPath", "OutputPath", "dsl", "get_uri", *_artifacts._WP_ARTIFACT_KINDS}
# Names a KFP component may use without importing them: KFP runs its source after
# `from kfp import dsl`, `from kfp.dsl import *` and `from typing import *`; the generated
# app.py defines these (and _RESERVED) too.
_TYPING_NAMES = ("Any", "Dict", "List", "NamedTuple", "Optional", "Tuple", "Union")


class DSLError(ValueError):
    """A mistake in a pipeline or component definition, found at authoring time."""


def checked_default(default: Any, ty: str, where: str) -> Any:
    """A Python default as the plain value of wasmpipe type `ty` (an int default of a float
    becomes a float), or a `DSLError` naming `where` when it does not fit."""
    try:
        value = _types.plain(default, where)
    except TypeError as e:
        raise DSLError(str(e)) from None
    vt = _types.type_of_value(value)
    if not _types.accepts(ty, vt):
        raise DSLError(f"{where}: the default {default!r} is {_types.a(vt)}, not {_types.a(ty)}")
    return float(value) if ty == "float" and isinstance(value, int) else value


class InputSpec:
    """One input of a component: `type` is a wasmpipe type name (or `final_status`)."""

    def __init__(self, name: str, type: str, required: bool, has_default: bool = False,
                 default: Any = None, py_default: bool = False, description: str = "",
                 path: bool = False, artifact_list: Optional[str] = None):
        self.name, self.type, self.required = name, type, required
        # `List[Dataset]`: a list of artifacts of this kind (collected over a loop)
        self.artifact_list = artifact_list
        self.path = path  # KFP's InputPath: the function gets a path, not the value
        self.has_default, self.default, self.py_default = has_default, default, py_default
        self.description = description

    def __repr__(self):
        d = f", default={self.default!r}" if self.has_default else ""
        return f"InputSpec({self.name!r}, {self.type!r}, required={self.required}{d})"


class OutputSpec:
    """One output: a returned value, or (`param=True`) an output artifact, which is a parameter
    of the function (`name: dsl.Output[dsl.Model]`), as in KFP."""

    def __init__(self, name: str, type: str, description: str = "", param: bool = False,
                 path: bool = False):
        self.name, self.type, self.description, self.param = name, type, description, param
        self.path = path  # KFP's OutputPath: the function gets the path to write

    def __repr__(self):
        return f"OutputSpec({self.name!r}, {self.type!r})"


def _is_artifact_annotation(ann) -> bool:
    base = typing.get_args(ann)[0] if typing.get_origin(ann) is typing.Annotated else ann
    return isinstance(base, type) and issubclass(base, _artifacts.Artifact)


def _function_source(func) -> str:
    """The function's source, dedented, without its decorators."""
    try:
        src = inspect.getsource(func)
    except (OSError, TypeError) as e:
        raise DSLError(f"component `{func.__name__}`: its source is not available ({e}); define "
                       "components in a .py file") from None
    src = textwrap.dedent(src)
    tree = ast.parse(src)
    fn = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fn is None or fn.name != func.__name__:
        raise DSLError(f"component `{func.__name__}`: could not find its `def` in its source")
    if isinstance(fn, ast.AsyncFunctionDef):
        raise DSLError(f"component `{func.__name__}`: async functions are not supported")
    lines = src.splitlines()
    return "\n".join(lines[fn.lineno - 1:fn.end_lineno]) + "\n"


def _globals_used(code) -> set:
    """Names a function reads as globals (LOAD_GLOBAL/LOAD_NAME), nested code included, less
    those it assigns with `global`."""
    loads, stores = set(), set()
    stack = [code]
    while stack:
        c = stack.pop()
        for ins in dis.get_instructions(c):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                loads.add(ins.argval if isinstance(ins.argval, str) else ins.argrepr.split(" ")[-1])
            elif ins.opname in ("STORE_GLOBAL", "DELETE_GLOBAL"):
                stores.add(ins.argval)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return {n for n in loads if isinstance(n, str)} - stores


# Modules the standard library imports lazily (on first use), which componentize-py therefore
# leaves out unless they are imported up front.
_LAZY = {"datetime": ["_strptime"], "time": ["_strptime"]}


def _imports(source: str, name: str) -> List[str]:
    """Modules the function imports anywhere in its body. componentize-py only bundles modules
    imported while it pre-initializes the component, so app.py imports these up front."""
    mods = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            mods.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise DSLError(f"component `{name}`: relative imports are not supported inside a "
                               "component (it runs on its own)")
            mods.append(node.module)
            # `from pkg import mod` may name a submodule
            mods.extend(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
    for m in list(mods):
        mods.extend(_LAZY.get(m, []))
    return list(dict.fromkeys(mods))


def _uses_http(source: str, imports: List[str]) -> bool:
    """Whether the function uses `wasmpipe.http` (`from wasmpipe import http`, `import
    wasmpipe.http`, or `import wasmpipe` and `wasmpipe.http.fetch(...)`): its component is
    then built against a world that imports wasi:http."""
    if any(m == "wasmpipe.http" or m.startswith("wasmpipe.http.") for m in imports):
        return True
    return "wasmpipe" in imports and any(
        isinstance(n, ast.Attribute) and n.attr == "http" and isinstance(n.value, ast.Name)
        and n.value.id == "wasmpipe" for n in ast.walk(ast.parse(source)))


def _literal_defaults(source: str, name: str):
    """Defaults are evaluated again inside the component, where nothing of the defining module
    exists: they must be literals."""
    fn = ast.parse(source).body[0]
    for arg, default in zip(fn.args.args[::-1], fn.args.defaults[::-1]):
        _literal(default, name, arg.arg)
    for arg, default in zip(fn.args.kwonlyargs, fn.args.kw_defaults):
        if default is not None:
            _literal(default, name, arg.arg)


def _literal(node, name, arg):
    try:
        ast.literal_eval(node)
    except ValueError:
        raise DSLError(f"component `{name}`, input `{arg}`: its default `{ast.unparse(node)}` is "
                       "not a literal; a component runs on its own, so write the value itself") from None


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$")


def _docstring(func):
    """(description, {input: description}, return description) from a Google-style docstring."""
    doc = inspect.getdoc(func) or ""
    lines = doc.splitlines()
    summary, args, returns = [], {}, []
    section, current = None, None
    for line in lines:
        m = _SECTION.match(line.strip())
        if m and not line.startswith(" "):
            section, current = m.group(1), None
            continue
        if section is None:
            summary.append(line)
        elif section in ("Args", "Arguments", "Parameters"):
            am = re.match(r"^\s{0,8}(\w+)\s*(\([^)]*\))?:\s*(.*)$", line)
            if am and (len(line) - len(line.lstrip())) <= 4:
                current = am.group(1)
                args[current] = am.group(3).strip()
            elif current and line.strip():
                args[current] = (args[current] + " " + line.strip()).strip()
        elif section in ("Returns", "Return") and line.strip():
            returns.append(line.strip())
    text = "\n".join(summary).strip().split("\n\n")[0]
    return " ".join(text.split()), args, " ".join(returns)


class Component:
    """A component made from a Python function by `@dsl.component`.

    Calling it inside a `@dsl.pipeline` function creates a task (`PipelineTask`). The original
    function is `python_func`; `inputs` and `outputs` describe its signature, and `app_py()` is
    the component's generated source.
    """

    def __init__(self, func, base_image: Optional[str] = None,
                 packages_to_install: Optional[List[str]] = None,
                 preload: Optional[List[str]] = None, **ignored):
        if not inspect.isfunction(func):
            raise DSLError(f"@dsl.component takes a function, not {func!r}")
        self.python_func = func
        self.name = func.__name__
        self.description, self._arg_docs, self._return_doc = _docstring(func)
        if self.name in _RESERVED or self.name.startswith("_wp_"):
            raise DSLError(f"component `{self.name}`: the name is reserved by the generated "
                           "component; rename the function")
        # Pure-Python packages are bundled into the component when it is built; one with
        # native code (no pure-Python wheel) is refused then, by name (`_build.site_packages`).
        self.packages = sorted({str(p) for p in (packages_to_install or [])})
        if base_image is not None or ignored:
            opts = ", ".join(["base_image"] * (base_image is not None) + sorted(ignored))
            warnings.warn(f"component `{self.name}`: {opts} ignored (a wasmpipe component is a "
                          ".wasm file, not a container image)", stacklevel=3)
        self.inputs: List[InputSpec] = []
        self.outputs: List[OutputSpec] = []
        self.single_output = False
        self._read_signature(func)
        self.source = _function_source(func)
        _literal_defaults(self.source, self.name)
        self.imports = _imports(self.source, self.name) + list(preload or [])
        self.uses_http = _uses_http(self.source, self.imports)
        if any(o.param and "Metrics" in o.type for o in self.outputs):
            # The runtime writes a Metrics artifact's logged metrics as JSON when the function
            # writes no file: the module must be bundled.
            self.imports.append("json")
        if any(i.path for i in self.inputs) or any(o.path for o in self.outputs):
            # InputPath / OutputPath of values: files in memory (io), values as JSON text.
            self.imports += ["io", "json"]
        if any(_types.is_artifact(o.type) and not o.param for o in self.outputs):
            self.imports.append("shutil")  # a returned artifact written elsewhere is moved
        self._check_self_contained(func)
        self._app_py: Optional[str] = None

    # -- signature ---------------------------------------------------------------------------
    def _hints(self, func) -> Dict[str, Any]:
        try:
            return typing.get_type_hints(func, include_extras=True)
        except Exception as e:
            raise DSLError(f"component `{self.name}`: its annotations could not be resolved: {e}")

    def _read_signature(self, func):
        hints = self._hints(func)
        sig = inspect.signature(func)
        for p in sig.parameters.values():
            where = f"component `{self.name}`, input `{p.name}`"
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
                raise DSLError(f"{where}: *args, **kwargs and positional-only parameters are not "
                               "supported; declare each input by name")
            ann = hints.get(p.name, Any)
            has_py_default = p.default is not inspect.Parameter.empty
            try:
                by_path = _types.path_param(ann)
            except _Unsupported as e:
                raise DSLError(f"{where}: {e}") from None
            if by_path is not None:
                direction, ty = by_path
                if direction == "out":
                    if has_py_default:
                        raise DSLError(f"{where}: an OutputPath cannot have a default")
                    self.outputs.append(OutputSpec(p.name, ty, self._arg_docs.get(p.name, ""),
                                                   param=True, path=True))
                    continue
                spec = InputSpec(p.name, ty, required=not has_py_default, py_default=has_py_default,
                                 description=self._arg_docs.get(p.name, ""), path=True)
                if has_py_default and p.default is not None:
                    if _types.is_artifact(ty):
                        raise DSLError(f"{where}: an input artifact's default can only be None")
                    spec.has_default, spec.default = True, checked_default(p.default, ty, where)
                self.inputs.append(spec)
                continue
            try:
                kinds = _types.artifact_list_param(ann)
            except _Unsupported as e:
                raise DSLError(f"{where}: {e}") from None
            if kinds is not None:
                # artifacts collected over a loop: a list input of artifact descriptions
                self.inputs.append(InputSpec(p.name, "list", required=not has_py_default,
                                             py_default=has_py_default,
                                             description=self._arg_docs.get(p.name, ""),
                                             artifact_list=kinds))
                continue
            try:
                art = _types.artifact_param(ann)
                if art is not None and art[0] == "out":
                    if has_py_default:
                        raise _Unsupported("an output artifact cannot have a default")
                    self.outputs.append(OutputSpec(p.name, art[1], self._arg_docs.get(p.name, ""),
                                                   param=True))
                    continue
                ty, optional = _types.wasm_type(ann)
                if _types.is_artifact(ty) and has_py_default and p.default is not None:
                    raise _Unsupported("an input artifact's default can only be None")
            except _Unsupported as e:
                raise DSLError(f"{where}: {e}") from None
            spec = InputSpec(p.name, ty, required=not (optional or has_py_default),
                             py_default=has_py_default, description=self._arg_docs.get(p.name, ""))
            if ty == "final_status":
                spec.required = False
            elif has_py_default and p.default is not None:
                spec.has_default, spec.default = True, checked_default(p.default, ty, where)
            self.inputs.append(spec)
        self._read_returns(func, sig, hints)
        names = [o.name for o in self.outputs]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise DSLError(f"component `{self.name}`: two outputs are named `{dup}` (an "
                           "Output[...] parameter and a returned value); rename one")

    def _read_returns(self, func, sig, hints):
        ret = hints.get("return", inspect.Signature.empty)
        if sig.return_annotation is inspect.Signature.empty or ret is None or ret is type(None):
            return
        if _types.is_named_tuple(ret):
            fields = typing.get_type_hints(ret) if getattr(ret, "__annotations__", None) else {}
            for f in ret._fields:
                ty = self._return_type(fields.get(f, Any), f"output `{f}`")
                self.outputs.append(OutputSpec(f, ty))
            return
        ty = self._return_type(ret, "return value")
        self.outputs.append(OutputSpec("output", ty, self._return_doc))
        self.single_output = True

    def _return_type(self, ann, what: str) -> str:
        """The type of a returned output: a value, or an artifact class (KFP's `-> Dataset`: the
        function returns the artifact object, made with `uri=dsl.get_uri()`, or data to write as
        the artifact's file)."""
        where = f"component `{self.name}`, {what}"
        if _is_artifact_annotation(ann):
            base = typing.get_args(ann)[0] if typing.get_origin(ann) is typing.Annotated else ann
            if _artifacts._WP_ARTIFACT_KINDS.get(base.__name__) is not base:
                raise DSLError(f"{where}: the artifact class {base.__name__} is not one the "
                               f"component can build; use one of "
                               f"{', '.join(_artifacts._WP_ARTIFACT_KINDS)}")
            return _types.ARTIFACT + base.__name__
        origin = typing.get_origin(ann)
        if origin in (list, List) and any(_is_artifact_annotation(a) for a in typing.get_args(ann)):
            raise DSLError(f"{where}: returning a list of artifacts is not supported (a wasmpipe "
                           "output artifact is one file); return one artifact, or declare one "
                           "output artifact per file")
        try:
            ty, optional = _types.wasm_type(ann)
        except _Unsupported as e:
            raise DSLError(f"{where}: {e}") from None
        if ty == "final_status" or optional:
            raise DSLError(f"{where}: an output cannot be optional or a final status; return a "
                           "value, or a NamedTuple for several")
        return ty

    def _check_self_contained(self, func):
        code = func.__code__
        if code.co_freevars:
            names = ", ".join(f"`{n}`" for n in code.co_freevars)
            raise DSLError(f"component `{self.name}` is not self-contained: it uses {names} from "
                           "an enclosing function; a component runs on its own, so pass it as an "
                           "input or define it inside the function")
        allowed = set(dir(builtins)) | _RESERVED | set(_TYPING_NAMES) | {self.name}
        missing = sorted(_globals_used(code) - allowed)
        if missing:
            names = ", ".join(f"`{n}`" for n in missing)
            raise DSLError(f"component `{self.name}` is not self-contained: it uses the global(s) "
                           f"{names}; a component runs on its own (KFP's lightweight components), "
                           "so import modules inside the function and pass values as inputs")

    # -- the generated component -------------------------------------------------------------
    def spec(self) -> dict:
        """What the generated component's `describe` returns, as plain data."""
        ins = []
        for i in self.inputs:
            d = {"name": i.name, "type": i.type, "required": i.required, "py_default": i.py_default,
                 "description": i.description}
            if i.has_default:
                d["default"] = i.default
            if i.path:
                d["path"] = True
            if i.artifact_list:
                d["artifact_list"] = i.artifact_list
            ins.append(d)
        return {"name": self.name, "description": self.description, "func": self.name,
                "single": self.single_output, "inputs": ins,
                "outputs": [dict({"name": o.name, "type": o.type, "description": o.description},
                                 **({"param": True} if o.param else {}),
                                 **({"path": True} if o.path else {}))
                            for o in self.outputs]}

    def app_py(self) -> str:
        """The source of the component's app.py (built with componentize-py, world `task`)."""
        if self._app_py is None:
            status = (_HERE / "_status.py").read_text(encoding="utf-8")
            status += ("\n# ---- wasmpipe/_artifacts.py ----\n"
                       + (_HERE / "_artifacts.py").read_text(encoding="utf-8"))
            runtime = (_HERE / "_guest_runtime.py").read_text(encoding="utf-8")
            http = ""
            if self.uses_http:
                # wasmpipe.http, with requests through wasi:http (`_guest_http._send`)
                source = (_HERE / "http.py").read_text(encoding="utf-8") + "\n" + (
                    _HERE / "_guest_http.py").read_text(encoding="utf-8")
                http = _HTTP_SETUP.format(source=repr(source))
            self._app_py = (_build.HTTP_WORLD_MARKER + "\n") * self.uses_http + _APP_TEMPLATE.format(
                http_setup=http,
                name=self.name, status=status, runtime=runtime, spec=repr(self.spec()),
                imports=repr(["sys", "traceback"] + self.imports),
                typing_names=", ".join(_TYPING_NAMES),
                # packages may ask tempfile for its directory when imported (dill)
                packages_setup="_wp_default_tempdir()\n" if self.packages else "",
                source=self.source, func=self.name)
        return self._app_py

    def __call__(self, *args, **kwargs):
        from . import dsl
        return dsl._create_task(self, args, kwargs)

    def __repr__(self):
        return f"<wasmpipe component {self.name}>"


_APP_TEMPLATE = '''\
"""wasmpipe component `{name}`, generated by the wasmpipe Python DSL from the function below.
Do not edit: it is regenerated (and rebuilt with componentize-py) when the function changes."""
from __future__ import annotations

from wit_world import exports as _wp_exports
from componentize_py_types import Err as _WpErr
from wit_world.imports import types as _wp_t

# componentize-py bundles only the modules imported while it pre-initializes the component:
# import those the function imports (and those the wrapper needs) now.
def _wp_preimport(names):
    import importlib
    for n in names:
        try:
            importlib.import_module(n)
        except ModuleNotFoundError as e:
            # `from pkg import name` where name is not a module: only that name is missing.
            if "." not in n or e.name != n:
                raise


# ---- wasmpipe/_status.py ----
{status}
# ---- wasmpipe/_guest_runtime.py ----
{runtime}
_WP_SPEC = {spec}

# KFP runs a component's source after `from kfp import dsl`, `from kfp.dsl import *` and
# `from typing import *`: the same names here, and `kfp.dsl` / `wasmpipe.dsl` as modules for
# imports inside the function.
from typing import {typing_names}


def _wp_dsl_module():
    import sys
    import types
    dsl = types.ModuleType("dsl")
    for n in ("Artifact", "Dataset", "Model", "Metrics", "HTML", "Markdown", "Input", "Output",
              "InputPath", "OutputPath", "get_uri", "PipelineTaskFinalStatus", "TaskFailure"):
        setattr(dsl, n, globals()[n])
    for top in ("kfp", "wasmpipe"):
        module = sys.modules.setdefault(top, types.ModuleType(top))
        module.dsl = dsl
        sys.modules.setdefault(top + ".dsl", dsl)
    return dsl


dsl = _wp_dsl_module()
{http_setup}# WASI's Python has no POSIX user ids and no HOME; packages (platformdirs, getpass) ask for
# them when imported: root's ids and a home that does not exist, as Pyodide gives.
import os as _wp_os
for _wp_n in ("getuid", "geteuid", "getgid", "getegid"):
    if not hasattr(_wp_os, _wp_n):
        setattr(_wp_os, _wp_n, lambda: 0)
_wp_os.environ.setdefault("HOME", "/nonexistent")
_wp_null_device()
{packages_setup}_wp_preimport({imports})


# ---- the component function ----
{source}

class Component(_wp_exports.Component):
    def describe(self):
        return _wp_describe(_WP_SPEC)

    def run(self, ctx, inputs):
        return _wp_run(_WP_SPEC, {func}, ctx, inputs)
'''


# In app.py, for a function that uses wasmpipe.http: the module (wasmpipe/http.py, then
# wasmpipe/_guest_http.py, whose `_send` uses wasi:http).
_HTTP_SETUP = '''

def _wp_http_module(source):
    import sys
    import types
    http = types.ModuleType("wasmpipe.http")
    exec(compile(source, "wasmpipe/http.py", "exec"), http.__dict__)
    sys.modules["wasmpipe"].http = sys.modules["wasmpipe.http"] = http


_wp_http_module({source})
'''


def component(func=None, *, base_image: Optional[str] = None,
              packages_to_install: Optional[List[str]] = None,
              preload: Optional[List[str]] = None, **kwargs):
    """Turns a typed, self-contained Python function into a wasmpipe component (KFP's
    `@dsl.component`). Usable as `@dsl.component` or `@dsl.component(...)`.

    The modules the function imports are bundled (componentize-py keeps only the modules
    imported while it builds); `preload=["mod", ...]` adds modules it imports another way
    (importlib, or lazily inside the standard library). `base_image` is ignored with a warning;
    `packages_to_install` names pure-Python packages (and pip's version specifiers), bundled
    into the component when it is built; a package with native code, which WASI cannot load,
    is refused then, by name."""
    def wrap(f):
        return Component(f, base_image=base_image, packages_to_install=packages_to_install,
                         preload=preload, **kwargs)
    if func is None:
        return wrap
    return wrap(func)

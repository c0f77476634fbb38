"""Python annotations -> wasmpipe types, and the compatibility rules of `wasmpipe validate`."""
import collections.abc
import typing
from typing import Any, Optional, Tuple

from ._artifacts import (_WP_ARTIFACT_KINDS, Artifact, InputPath, OutputPath, _WpInputAnnotation,
                         _WpOutputAnnotation)
from ._status import PipelineTaskFinalStatus

# wasmpipe's type names (the pipeline file's), plus final_status (an exit task's input).
SCALARS = {str: "string", int: "int", float: "float", bool: "bool", list: "list", dict: "dict",
           tuple: "list"}
NONE_TYPE = type(None)


class _Unsupported(Exception):
    pass


ARTIFACT = "artifact:"  # an artifact's type is "artifact:<kind>", e.g. "artifact:Dataset"


def is_artifact(ty: str) -> bool:
    return ty.startswith(ARTIFACT)


def kind(ty: str) -> str:
    return ty[len(ARTIFACT):]


def artifact_param(annotation) -> Optional[Tuple[str, str, bool]]:
    """(direction "in" or "out", type "artifact:<kind>", optional) for `Input[Dataset]`,
    `Output[Model]`, `Optional[Input[...]]`, and a bare artifact class (`Dataset`: an input, as
    KFP's pythonic artifacts); None for anything else. Raises _Unsupported for a kind the DSL
    does not know."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        args = [a for a in typing.get_args(annotation) if a is not NONE_TYPE]
        if len(args) != 1 or artifact_param(args[0]) is None:
            return None
        annotation, optional = args[0], True
        origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        direction = ("in" if _WpInputAnnotation in extras else
                     "out" if _WpOutputAnnotation in extras else None)
        if direction is None:
            return None
    elif isinstance(annotation, type) and issubclass(annotation, Artifact):
        # KFP's pythonic artifacts: a parameter of an artifact class alone is an input artifact.
        base, direction = annotation, "in"
    else:
        return None
    if not (isinstance(base, type) and issubclass(base, Artifact)):
        name = getattr(base, "__name__", repr(base))
        raise _Unsupported(f"dsl.Input[...] and dsl.Output[...] take an artifact class "
                           f"({', '.join(_WP_ARTIFACT_KINDS)}), not {name}")
    if _WP_ARTIFACT_KINDS.get(base.__name__) is not base:
        raise _Unsupported(f"the artifact class {base.__name__} is not one the component can "
                           f"build; use one of {', '.join(_WP_ARTIFACT_KINDS)}")
    if direction == "out" and optional:
        raise _Unsupported("an output artifact cannot be optional")
    return direction, ARTIFACT + base.__name__, optional


# KFP's names of value types (`OutputPath('Integer')`, component specs), lower-cased.
_KFP_VALUE_NAMES = {"integer": "int", "int": "int", "double": "float", "float": "float",
                    "string": "string", "str": "string", "text": "string", "bool": "bool",
                    "boolean": "bool", "dict": "dict", "list": "list", "jsonobject": "dict",
                    "jsonarray": "list"}


def type_from_name(name: str) -> str:
    """A type written as a name, as KFP writes them (`'Integer'`, `'Dataset'`, `'List[str]'`):
    a value type, or an artifact (of its kind when the DSL knows it, else `Artifact`, as KFP)."""
    short = name.strip().split("[")[0].split(".")[-1]
    if short.lower() in _KFP_VALUE_NAMES:
        return _KFP_VALUE_NAMES[short.lower()]
    for k in _WP_ARTIFACT_KINDS:
        if k.lower() == short.lower():
            return ARTIFACT + k
    return ARTIFACT + "Artifact"


def path_param(annotation) -> Optional[Tuple[str, str]]:
    """(direction "in" or "out", type) for KFP's `InputPath(...)` / `OutputPath(...)`, None for
    anything else. The type is an artifact type (the function gets the artifact's path) or a
    value type (it gets the path of a file holding the value)."""
    if not isinstance(annotation, (InputPath, OutputPath)):
        return None
    direction = "in" if isinstance(annotation, InputPath) else "out"
    t = annotation.type
    if t is None:
        return direction, ARTIFACT + "Artifact"
    if isinstance(t, str):
        return direction, type_from_name(t)
    if isinstance(t, type) and issubclass(t, Artifact):
        if _WP_ARTIFACT_KINDS.get(t.__name__) is not t:
            raise _Unsupported(f"the artifact class {t.__name__} is not one the component can "
                               f"build; use one of {', '.join(_WP_ARTIFACT_KINDS)}")
        return direction, ARTIFACT + t.__name__
    ty, _ = wasm_type(t)
    if ty == "final_status":
        raise _Unsupported("a final status cannot be passed as a path")
    return direction, ty


def artifact_list_param(annotation) -> Optional[str]:
    """The kind of the artifacts in `List[Dataset]` or `Input[List[Dataset]]` (KFP's input of
    artifacts collected over a loop: a `list` input, one artifact per iteration), else None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extras = typing.get_args(annotation)
        if _WpInputAnnotation not in extras:
            return None
        annotation, origin = base, typing.get_origin(base)
    if origin not in (list, typing.List):
        return None
    args = typing.get_args(annotation)
    item = args[0] if len(args) == 1 else None
    if not (isinstance(item, type) and issubclass(item, Artifact)):
        return None
    if _WP_ARTIFACT_KINDS.get(item.__name__) is not item:
        raise _Unsupported(f"the artifact class {item.__name__} is not one the component can "
                           f"build; use one of {', '.join(_WP_ARTIFACT_KINDS)}")
    return item.__name__


def wasm_type(annotation) -> Tuple[str, bool]:
    """(type, optional) for a parameter annotation; raises _Unsupported with the reason."""
    art = artifact_param(annotation)
    if art is not None:
        if art[0] == "out":
            raise _Unsupported("an output artifact (dsl.Output[...]) is not a value")
        return art[1], art[2]
    if annotation is PipelineTaskFinalStatus:
        return "final_status", False
    if annotation is Any or annotation is None or annotation is typing.Any:
        return "any", False
    if isinstance(annotation, str):
        raise _Unsupported(f"the annotation {annotation!r} could not be resolved")
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (origin is not None and getattr(origin, "__name__", "") == "UnionType"):
        args = [a for a in typing.get_args(annotation) if a is not NONE_TYPE]
        has_none = len(args) != len(typing.get_args(annotation))
        if len(args) == 1 and has_none:
            ty, _ = wasm_type(args[0])
            if ty == "final_status":
                raise _Unsupported("a final status cannot be optional")
            return ty, True
        raise _Unsupported(f"{annotation} is a union; wasmpipe types are str, int, float, bool, "
                           "list, dict, Any and Optional[...] of those")
    if origin is typing.Annotated:
        return wasm_type(typing.get_args(annotation)[0])
    base = origin if origin is not None else annotation
    if base in SCALARS:
        return SCALARS[base], False
    if isinstance(base, type) and base is not str and base is not bytes:
        if issubclass(base, collections.abc.Mapping):
            return "dict", False
        if issubclass(base, collections.abc.Sequence):
            return "list", False
    name = getattr(annotation, "__name__", repr(annotation))
    raise _Unsupported(f"{name} is not a type wasmpipe passes; use str, int, float, bool, list, "
                       "dict, Any, Optional[...] or dsl.PipelineTaskFinalStatus")


def is_named_tuple(annotation) -> bool:
    return (isinstance(annotation, type) and issubclass(annotation, tuple)
            and hasattr(annotation, "_fields"))


def type_of_value(value) -> Optional[str]:
    """The wasmpipe type of a Python literal (None: not a value wasmpipe can pass)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "dict"
    if value is None:
        return "any"
    return None


def a(ty: str) -> str:
    """`ty` with its article: "an int", "a string", "a Dataset artifact"."""
    if is_artifact(ty):
        return "an artifact" if kind(ty) == "Artifact" else f"a {kind(ty)} artifact"
    return ("an " if ty[0] in "aeiou" else "a ") + ty


def accepts(dest: str, source: str) -> bool:
    """Whether a value of type `source` may be bound to an input of type `dest` (wasmpipe's
    rule: an int may feed a float, never the reverse; `any` feeds and takes every value; an
    artifact feeds only an artifact of the same kind, and `Artifact` feeds and takes any kind)."""
    if is_artifact(dest) or is_artifact(source):
        return (is_artifact(dest) and is_artifact(source)
                and (kind(dest) == kind(source) or "Artifact" in (kind(dest), kind(source))))
    return dest == source or dest == "any" or source == "any" or (dest == "float" and source == "int")


def plain(value, where: str):
    """`value` as plain JSON data (tuples become lists); raises TypeError naming `where`."""
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, int) and not isinstance(value, bool) and not -(1 << 63) <= value < (1 << 63):
            raise TypeError(f"{where}: the int {value} does not fit in 64 bits")
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v, where) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"{where}: dict keys must be strings, not {k!r}")
            out[k] = plain(v, where)
        return out
    raise TypeError(f"{where}: a {type(value).__name__} ({value!r}) is not a value wasmpipe can "
                    "pass (str, int, float, bool, list, dict or None)")

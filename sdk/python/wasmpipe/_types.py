"""Python annotations -> wasmpipe types, and the compatibility rules of `wasmpipe validate`."""
import collections.abc
import typing
from typing import Any, Optional, Tuple

from ._status import PipelineTaskFinalStatus

# wasmpipe's type names (the pipeline file's), plus final_status (an exit task's input).
SCALARS = {str: "string", int: "int", float: "float", bool: "bool", list: "list", dict: "dict",
           tuple: "list"}
NONE_TYPE = type(None)


class _Unsupported(Exception):
    pass


def wasm_type(annotation) -> Tuple[str, bool]:
    """(type, optional) for a parameter annotation; raises _Unsupported with the reason."""
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
    """`ty` with its article: "an int", "a string"."""
    return ("an " if ty[0] in "aeiou" else "a ") + ty


def accepts(dest: str, source: str) -> bool:
    """Whether a value of type `source` may be bound to an input of type `dest` (wasmpipe's
    rule: an int may feed a float, never the reverse; `any` feeds and takes everything)."""
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

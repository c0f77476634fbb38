"""A small YAML writer for pipeline files (no dependency): block style, with short mappings
and lists on one line, and every string double-quoted (JSON escapes are valid YAML)."""
import json
import math
import re

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_PLAIN_STR = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _key(k: str) -> str:
    return k if _PLAIN_KEY.match(k) and k.lower() not in _RESERVED else json.dumps(k)


def _scalar(v) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        r = repr(v)
        mantissa, e, exp = r.partition("e")
        if "." not in mantissa:  # YAML 1.1 readers want a dot: 1.0e+20, not 1e+20
            mantissa += ".0"
        return mantissa + e + exp
    if isinstance(v, str):
        if _PLAIN_STR.match(v) and v.lower() not in _RESERVED:
            return v
        return json.dumps(v, ensure_ascii=False)
    raise TypeError(f"cannot write {type(v).__name__} to YAML")


def flow(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)}: {flow(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(flow(x) for x in v) + "]"
    return _scalar(v)


def _block(v, indent: int, width: int) -> list:
    pad = " " * indent
    lines = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                f = flow(x)
                if indent > 0 and k != "steps" and len(pad) + len(_key(k)) + 2 + len(f) <= width and _shallow(x):
                    lines.append(f"{pad}{_key(k)}: {f}")
                else:
                    lines.append(f"{pad}{_key(k)}:")
                    lines.extend(_block(x, indent + 2, width))
            else:
                lines.append(f"{pad}{_key(k)}: {flow(x)}")
    elif isinstance(v, list):
        for x in v:
            f = flow(x)
            if not isinstance(x, (dict, list)) or not x or (len(pad) + 2 + len(f) <= width and _shallow(x)):
                lines.append(f"{pad}- {f}")
            else:
                sub = _block(x, indent + 2, width)
                sub[0] = f"{pad}- " + sub[0][indent + 2:]
                lines.extend(sub)
    else:
        lines.append(pad + _scalar(v))
    return lines


def _shallow(v, depth: int = 0) -> bool:
    """Whether a value is simple enough for one line (groups of steps are never)."""
    if isinstance(v, dict):
        if any(k in v for k in ("steps", "exit_handler", "if", "elif", "else", "parallel_for")):
            return False
        return all(_shallow(x, depth + 1) for x in v.values())
    if isinstance(v, list):
        return all(_shallow(x, depth + 1) for x in v)
    return True


def dumps(doc: dict, header: str = "", width: int = 100) -> str:
    head = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return head + "\n".join(_block(doc, 0, width)) + "\n"

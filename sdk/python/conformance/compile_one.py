"""Compiles one KFP pipeline file with wasmpipe's DSL in place of KFP's: `kfp`, `kfp.dsl`,
`kfp.compiler`, ... name wasmpipe's modules, the file runs without its `__main__` block, and the
pipeline it defines (or the one its `__main__` block compiles, when it defines several) is
compiled to OUT/pipeline.yaml. Prints one JSON line: {"ok": true, "pipeline": NAME} or
{"ok": false, "stage": "import"|"find"|"compile", "error": "..."}.

    python compile_one.py FILE OUT_DIR
"""
import ast
import json
import runpy
import sys
import traceback
import types
from pathlib import Path

import wasmpipe
from wasmpipe import compiler, dsl


class Client:
    """`kfp.Client` talks to a KFP cluster; files import it for their `__main__` block, which
    the harness does not run."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("kfp.Client talks to a KFP cluster; wasmpipe runs pipelines with `wasmpipe run`")


def alias_kfp():
    """`import kfp` and its submodules give wasmpipe's DSL (the only change a KFP user makes)."""
    kfp = types.ModuleType("kfp")
    kfp.dsl = dsl
    kfp.compiler = compiler
    kfp.Client = Client
    kfp.__version__ = "2.0.0 (wasmpipe " + wasmpipe.__version__ + ")"
    sys.modules["kfp"] = kfp
    sys.modules["kfp.dsl"] = dsl
    sys.modules["kfp.compiler"] = compiler
    for optional in ("components",):
        module = getattr(wasmpipe, optional, None)
        if module is not None:
            setattr(kfp, optional, module)
            sys.modules["kfp." + optional] = module


def named_in_main(source: str, known) -> list:
    """The names of known pipelines or components the file's `__main__` block hands to a call
    (`compile(pipeline_func=X, ...)`, `create_run_from_pipeline_func(X, ...)`), in order."""
    names = []
    for top in ast.parse(source).body:
        if not (isinstance(top, ast.If) and "__main__" in ast.unparse(top.test)):
            continue
        for node in ast.walk(top):
            if isinstance(node, ast.Call):
                args = list(node.args) + [kw.value for kw in node.keywords if kw.arg == "pipeline_func"]
                names += [a.id for a in args if isinstance(a, ast.Name) and a.id in known]
    return names


def main():
    file, out = Path(sys.argv[1]), Path(sys.argv[2])
    alias_kfp()
    sys.path.insert(0, str(file.parent))
    try:
        names = runpy.run_path(str(file), run_name="kfp_conformance")
    except Exception:
        return {"ok": False, "stage": "import", "error": traceback.format_exc(limit=3)}
    pipelines = {k: v for k, v in names.items() if isinstance(v, dsl.Pipeline)}
    components = {k: v for k, v in names.items()
                  if isinstance(v, (wasmpipe._component.Component, wasmpipe._external.ExternalComponent))}
    chosen = named_in_main(file.read_text(), {**pipelines, **components})
    if chosen:
        pipeline = {**pipelines, **components}[chosen[0]]
    elif len(pipelines) == 1:
        pipeline = next(iter(pipelines.values()))
    else:
        return {"ok": False, "stage": "find",
                "error": f"{len(pipelines)} pipelines ({', '.join(pipelines)}), and no call in `__main__` naming one"}
    try:
        compiler.Compiler().compile(pipeline, out / "pipeline.yaml")
    except Exception:
        return {"ok": False, "stage": "compile", "error": traceback.format_exc(limit=3)}
    return {"ok": True, "pipeline": getattr(pipeline, "name", "?")}


if __name__ == "__main__":
    print(json.dumps(main()))

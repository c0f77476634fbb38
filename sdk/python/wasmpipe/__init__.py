"""wasmpipe's Python DSL: KFP-style pipelines of Python components, compiled to a wasmpipe
pipeline file and WebAssembly components (built with componentize-py).

    from wasmpipe import dsl, compiler
    compiler.Compiler().compile(my_pipeline, "pipeline.yaml")   # or wasmpipe.compile(...)

and runs them in this process (the native module, `wasmpipe._native`), a file or a pipeline:

    record = wasmpipe.run(my_pipeline, params={"n": 3})   # the run record, as a dict
"""
from . import compiler, components, dsl
from ._build import BuildError
from ._component import DSLError
from ._inprocess import CancelToken, run
from .compiler import Compiler, compile
from ._status import PipelineTaskFinalStatus

__version__ = "0.1.0"
__all__ = ["dsl", "compiler", "components", "compile", "Compiler", "DSLError", "BuildError",
           "PipelineTaskFinalStatus", "build_component", "run", "CancelToken"]


def build_component(component):
    """Builds one `@dsl.component` (cached by source hash) and returns the path of its .wasm."""
    from ._build import build_app
    return build_app(component.app_py(), component.name, packages=component.packages)

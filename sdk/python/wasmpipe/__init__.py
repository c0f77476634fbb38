"""wasmpipe's Python DSL: KFP-style pipelines of Python components, compiled to a wasmpipe
pipeline file and WebAssembly components (built with componentize-py).

    from wasmpipe import dsl, compiler
    compiler.Compiler().compile(my_pipeline, "pipeline.yaml")   # or wasmpipe.compile(...)
"""
from . import compiler, components, dsl
from ._build import BuildError
from ._component import DSLError
from .compiler import Compiler, compile
from ._status import PipelineTaskFinalStatus

__version__ = "0.1.0"
__all__ = ["dsl", "compiler", "components", "compile", "Compiler", "DSLError", "BuildError",
           "PipelineTaskFinalStatus", "build_component"]


def build_component(component):
    """Builds one `@dsl.component` (cached by source hash) and returns the path of its .wasm."""
    from ._build import build_app
    return build_app(component.app_py(), component.name, packages=component.packages)

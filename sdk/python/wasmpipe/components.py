"""KFP's `kfp.components`: components loaded from a spec file, used as tasks like a
`@dsl.component`.

    from wasmpipe import components
    add = components.load_component_from_file("add.component.yaml")
    # in a pipeline: add(a=1, b=2).output

A spec is YAML or JSON, one of:

- a wasmpipe pipeline file (what `compiler.Compiler().compile(...)` writes, also for a single
  component): the task runs it as a sub-pipeline, its parameters the task's inputs and its
  `outputs` the task's;
- a component: a pipeline file's `components:` entry with a `name`. For a component of the
  `task` world (`wit/pipeline.wit`), its `inputs` and `outputs`, typed as pipeline parameters:

      name: add
      path: add.wasm                # relative to the spec file
      inputs: {a: {type: int}, b: {type: int, default: 1}}
      outputs: {output: {type: int}}

  for a WASI command (KFP's container component), `command:` as the pipeline file has it:

      name: wc
      path: wc.wasm
      command:
        args: ["{{inputs.data}}", "{{outputs.lines}}"]
        inputs: {data: {type: artifact, kind: Dataset}}
        outputs: {lines: {type: int}}

Files are copied when the spec is loaded (into the cache directory), so they may be removed
before the pipeline is compiled; the compiler puts them beside the pipeline file.
"""
import os
from pathlib import Path
from typing import Union

from ._component import DSLError
from ._external import ExternalComponent, from_data, read_spec_text

__all__ = ["load_component_from_file", "load_component_from_text", "load_component_from_url",
           "ExternalComponent"]


def load_component_from_file(file_path: Union[str, os.PathLike]) -> ExternalComponent:
    """A component from a spec file (paths in it are relative to the file)."""
    path = Path(file_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DSLError(f"load_component_from_file: cannot read {path}: {e.strerror or e}") from None
    stem = path.name.split(".")[0]
    return from_data(read_spec_text(text, str(path)), path.resolve().parent, str(path), stem)


def load_component_from_text(text: str) -> ExternalComponent:
    """A component from a spec's text (its paths must be absolute)."""
    return from_data(read_spec_text(text, "load_component_from_text"), None,
                     "load_component_from_text")


def load_component_from_url(url: str, auth=None) -> ExternalComponent:
    """A component spec fetched from `url`, whose paths must then be absolute local paths:
    a wasmpipe component is a local .wasm file, not a container image in a registry."""
    import urllib.request
    if auth is not None:
        raise DSLError("load_component_from_url: auth is not supported; download the spec and "
                       "use load_component_from_file")
    with urllib.request.urlopen(url, timeout=60) as r:
        text = r.read().decode("utf-8")
    return from_data(read_spec_text(text, url), None, url)

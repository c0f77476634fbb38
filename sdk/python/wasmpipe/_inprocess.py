"""Runs pipelines in this process (`wasmpipe.run`), through the native module
`wasmpipe._native`: the same runner, sandbox and semantics as `wasmpipe run`, no subprocess.

    import wasmpipe
    record = wasmpipe.run("pipeline.yaml", params={"n": 3})        # a pipeline file
    record = wasmpipe.run(my_pipeline, params={"n": 3})             # or a @dsl.pipeline
    record["state"], record["outputs"]

A run started on one thread is cancelled from another with a `CancelToken`:

    token = wasmpipe.CancelToken()
    threading.Thread(target=wasmpipe.run, args=("p.yaml",), kwargs={"cancel": token}).start()
    token.cancel()       # body tasks stop; exit handlers still run

Known limits: Ctrl-C does not interrupt a run the main thread is waiting for (the interpreter
is released; run it on another thread and cancel it with a token from a signal handler); the
runner and its threads do not survive `fork`, so use `multiprocessing` with the "spawn" start
method; a token, once cancelled, cancels every run it is given to (make one per run).
"""
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Union

try:
    from . import _native
except ImportError as e:  # a source tree used without building the package
    _native = None
    _native_error = e


def _require_native():
    if _native is None:
        raise ImportError(
            "wasmpipe.run needs the native module wasmpipe._native, which this installation lacks "
            f"({_native_error}); install the package with pip (`pip install sdk/python`, which "
            "builds it with maturin), or run pipelines with the `wasmpipe` CLI") from None
    return _native


class CancelToken:
    """Cancels the run it is given to (`wasmpipe.run(..., cancel=token)`) from any thread, as
    Ctrl-C cancels `wasmpipe run`: running body tasks stop and exit handlers run; a second
    `cancel()` stops them too. Cancelled before the run starts, the run ends at once."""

    def __init__(self):
        self._token = _require_native().CancelToken()

    def cancel(self) -> None:
        self._token.cancel()


def _param_text(value: Any) -> str:
    """A parameter value as `-p` takes it: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def run(pipeline, params: Optional[Dict[str, Any]] = None, *,
        artifacts: Optional[Dict[str, Union[str, os.PathLike]]] = None,
        run_dir: Optional[Union[str, os.PathLike]] = None, jobs: int = 0, cache: bool = False,
        timeout: Union[None, str, float] = None, memory: Union[None, str, int] = None,
        deadline: Union[None, str, float] = None, memory_budget: Union[None, str, int] = None,
        write_record: bool = True, cancel: Optional[CancelToken] = None,
        package_dir: Optional[Union[str, os.PathLike]] = None) -> dict:
    """Runs `pipeline` (a pipeline file's path, or a `@dsl.pipeline` function, compiled first
    into `package_dir` or a temporary directory) and returns its run record as a dict, as
    `wasmpipe run --output json` prints it. A failed run returns its record too (its
    `state` says so); an invalid pipeline raises `ValueError` listing every problem.

    `params` and `artifacts` are `-p` and `-a`; `timeout`, `memory` (task defaults),
    `deadline`, `memory_budget`, `jobs`, `cache` and `run_dir` are `wasmpipe run`'s options
    (durations as `"30s"` or seconds, sizes as `"256MiB"` or bytes). The record is also
    written to `run_dir` unless `write_record=False`."""
    native = _require_native()
    from .dsl import Pipeline
    temp = None
    if isinstance(pipeline, Pipeline):
        from . import compiler
        if package_dir is None:
            temp = tempfile.TemporaryDirectory(prefix="wasmpipe-run-")
            package_dir = temp.name
        path = compiler.compile(pipeline, Path(package_dir) / "pipeline.yaml")
    elif isinstance(pipeline, (str, os.PathLike)):
        path = Path(pipeline)
    else:
        raise TypeError(f"wasmpipe.run takes a pipeline file's path or a @dsl.pipeline, not {pipeline!r}")
    try:
        text = native.run(
            str(path),
            [(k, _param_text(v)) for k, v in (params or {}).items()],
            [(k, str(v)) for k, v in (artifacts or {}).items()],
            str(run_dir) if run_dir is not None else None,
            jobs, cache, timeout, memory, deadline, memory_budget, write_record,
            cancel._token if cancel is not None else None)
    finally:
        if temp is not None:
            temp.cleanup()
    return json.loads(text)

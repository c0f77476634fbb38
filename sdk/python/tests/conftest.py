"""Shared fixtures: the repository, the wasmpipe CLI, a run helper and the example module."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent          # sdk/python/tests -> repository root
EXAMPLE = ROOT / "examples/python-dsl/exit_handler.py"
sys.path.insert(0, str(HERE))


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def sample():
    """examples/python-dsl/exit_handler.py, KFP's sample ported."""
    return load_module(EXAMPLE, "exit_handler_sample")


@pytest.fixture(scope="session")
def wasmpipe_bin():
    """The wasmpipe CLI: $WASMPIPE_BIN, else target/release/wasmpipe (check.sh builds it)."""
    b = os.environ.get("WASMPIPE_BIN") or str(ROOT / "target/release/wasmpipe")
    if not Path(b).is_file():
        pytest.fail(f"{b} is missing: run `cargo build --release -p wasmpipe` (check.sh does)")
    return b


@pytest.fixture(scope="session")
def rust_components():
    """The Rust example components (print_op, fail_op, ...), built for wasm32-wasip2."""
    d = ROOT / "examples/components/target/wasm32-wasip2/release"
    if not (d / "print_op.wasm").is_file() or os.environ.get("WASMPIPE_REBUILD_EXAMPLES"):
        subprocess.run(["cargo", "build", "--quiet", "--release", "--target", "wasm32-wasip2",
                        "--target-dir", str(ROOT / "examples/components/target")],
                       cwd=ROOT / "examples/components", check=True)
    return d


@pytest.fixture
def run(wasmpipe_bin, tmp_path):
    """run(pipeline_file, *args) -> (exit code, record or None, stderr)."""
    def go(path, *args):
        p = subprocess.run([wasmpipe_bin, "run", str(path), "--output", "json",
                            "--run-dir", str(tmp_path / "runs"), *args],
                           capture_output=True, text=True, timeout=600)
        record = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, record, p.stderr
    return go


def copy_with(src: Path, dest_dir: Path, wasm: dict) -> Path:
    """Copies a pipeline file into dest_dir with the given components/<name>.wasm files."""
    (dest_dir / "components").mkdir(parents=True, exist_ok=True)
    for name, path in wasm.items():
        shutil.copyfile(path, dest_dir / "components" / f"{name}.wasm")
    out = dest_dir / src.name
    shutil.copyfile(src, out)
    return out

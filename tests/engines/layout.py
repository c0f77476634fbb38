"""What the export suites share: a pipeline of the repository laid out in a temporary
directory as the tasks' containers would see it."""
import shutil
from pathlib import Path


def lay_out(root: Path, rel: str, tmp: Path) -> None:
    """Lays out pipeline `rel` (under `examples/`, or `tests/...` as it is) in `tmp`: as
    `pipeline.yaml`, with the pipeline files beside it (its sub-pipelines) and the built
    example components under `components/`."""
    source = root / rel if rel.startswith("tests/") else root / "examples" / rel
    for other in source.parent.glob("*.yaml"):
        shutil.copyfile(other, tmp / other.name)
    shutil.copyfile(source, tmp / "pipeline.yaml")
    built = root / "examples/components/target/wasm32-wasip2/release"
    shutil.copytree(built, tmp / "components",
                    ignore=shutil.ignore_patterns("*.d", "build", "deps", "incremental", ".fingerprint", "examples"))

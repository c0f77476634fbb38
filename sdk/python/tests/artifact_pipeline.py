"""Components and pipelines passing artifacts, KFP's way (Input[...] / Output[...]); used by
test_authoring.py and test_run.py."""
from typing import NamedTuple

from wasmpipe import dsl


@dsl.component
def make_numbers_op(n: int, data: dsl.Output[dsl.Dataset], skip: bool = False) -> str:
    """Writes 1..n, one per line.

    Args:
        n: how many numbers
        data: the numbers, one per line
    """
    if not skip:
        with open(data.path, "w") as f:
            f.write("".join(f"{i}\n" for i in range(1, n + 1)))
    data.metadata["rows"] = n
    data.metadata["source"] = {"generator": "range", "start": 1}
    return data.path


@dsl.component
def sum_lines_op(data: dsl.Input[dsl.Dataset]) -> NamedTuple(
        "Outputs", [("total", int), ("rows", int), ("seen", dict)]):
    """Sums the numbers of a dataset, one per line."""
    with open(data.path) as f:
        total = sum(int(line) for line in f if line.strip())
    seen = {"path": data.path, "uri": data.uri, "name": data.name, "metadata": data.metadata,
            "class": type(data).__name__}
    return total, data.metadata.get("rows", -1), seen


@dsl.component
def train_op(data: dsl.Input[dsl.Model]):
    pass


@dsl.component
def any_artifact_op(data: dsl.Input[dsl.Artifact]) -> str:
    return data.name


@dsl.pipeline(name="artifacts")
def artifact_pipeline(raw: dsl.Input[dsl.Dataset], n: int = 4, skip: bool = False):
    made = make_numbers_op(n=n, skip=skip)
    summed = sum_lines_op(data=made.outputs["data"])
    sum_lines_op(data=raw)  # a host file, given with `-a raw=PATH`
    return {"data": made.outputs["data"], "total": summed.outputs["total"]}

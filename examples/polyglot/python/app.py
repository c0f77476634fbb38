"""stats_py: a wasmpipe component in Python (componentize-py).

Reads a Dataset artifact (a text file, one integer per line), returns how many numbers it holds
and their mean, and writes a new Dataset artifact with each number doubled.

Build: examples/polyglot/build.sh python   (bindings are generated from wit/pipeline.wit)
"""
from wit_world import exports
from componentize_py_types import Err
from wit_world.imports import host
from wit_world.imports import types as t

import stats_core

FACTOR = 2
DATASET = t.PortType_Artifact(t.ArtifactType(kind="Dataset", directory=False))


def to_value(obj) -> t.Value:
    """A Python value (None, bool, int, float, str, list, dict) as a flattened wasmpipe value:
    nodes[0] is the root, containers refer to their children by index."""
    nodes: list = []

    def add(o) -> int:
        i = len(nodes)
        nodes.append(None)
        if o is None:
            nodes[i] = t.Node_Null()
        elif isinstance(o, bool):  # before int: bool is an int in Python
            nodes[i] = t.Node_Boolean(o)
        elif isinstance(o, int):
            nodes[i] = t.Node_Int(o)
        elif isinstance(o, float):
            nodes[i] = t.Node_Float(o)
        elif isinstance(o, str):
            nodes[i] = t.Node_Str(o)
        elif isinstance(o, (list, tuple)):
            nodes[i] = t.Node_ListOf([add(x) for x in o])
        elif isinstance(o, dict):
            nodes[i] = t.Node_DictOf([(str(k), add(v)) for k, v in o.items()])
        else:
            raise TypeError(f"cannot pass a {type(o).__name__} to wasmpipe")
        return i

    add(obj)
    return t.Value(nodes)


class Component(exports.Component):
    def describe(self) -> t.Signature:
        return t.Signature(
            name="stats_py",
            description="Counts the numbers of a dataset (one integer per line), their mean, "
            "and writes them doubled as a new dataset.",
            inputs=[
                t.InputSpec("data", DATASET, True, None, "the numbers, one per line"),
            ],
            outputs=[
                t.OutputSpec("count", t.PortType_Int(), "how many numbers"),
                t.OutputSpec("mean", t.PortType_Float(), "their mean"),
                t.OutputSpec("scaled", DATASET, f"each number times {FACTOR}, one per line"),
            ],
        )

    def run(self, ctx: t.Context, inputs):
        data = dict(inputs).get("data")
        if not isinstance(data, t.InputValue_Artifact):
            raise Err("input `data` must be an artifact")
        try:
            with open(data.value.path, encoding="utf-8") as f:
                numbers = stats_core.parse_numbers(f.read())
            count, mean = stats_core.stats(numbers)
        except (OSError, ValueError) as e:
            raise Err(f"{data.value.path}: {e}")
        # An output artifact N is the file /out/N; the host measures and hashes it.
        with open("/out/scaled", "w", encoding="utf-8") as f:
            f.write(stats_core.scaled(numbers, FACTOR))
        host.log(host.Level.INFO, f"stats_py ({ctx.task_id}): {count} numbers, mean {mean}")
        scaled = t.Artifact(path="/out/scaled", name="scaled", size=0, digest="",
                            metadata=to_value({"factor": FACTOR}))
        return [
            ("count", t.OutputValue_Value(to_value(count))),
            ("mean", t.OutputValue_Value(to_value(float(mean)))),
            ("scaled", t.OutputValue_Artifact(scaled)),
        ]

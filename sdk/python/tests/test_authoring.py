"""Authoring: the pipeline file the DSL writes, and the mistakes it reports (no builds here)."""
import re
from typing import NamedTuple, Optional

import pytest
import yaml

from conftest import EXAMPLE, ROOT
from wasmpipe import _yaml, dsl
from wasmpipe.dsl import DSLError
import typed_pipeline as tp

KFP_SAMPLE = ROOT.parent / "shared/bench/kfp/exit_handler_sample.py"


# ------------------------------------------------------------------------------------------
# Components used below (defined at module level: a component needs its source).
@dsl.component
def print_op(message: str):
    print(message)


@dsl.component
def add_op(a: int, b: int = 1) -> int:
    return a + b


@dsl.component
def mean_op(values: list) -> float:
    return sum(values) / len(values)


@dsl.component
def info_op(data: dict, tags: list, flag: bool, name: str, ratio: float) -> str:
    return name


@dsl.component
def exit_op(status: dsl.PipelineTaskFinalStatus, message: str,
            summary: Optional[float] = None) -> str:
    return status.state


@dsl.component
def stats_op(n: int) -> NamedTuple('Outputs', [('count', int), ('mean', float)]):
    return n, n / 2


def without_paths(doc):
    for c in doc["components"].values():
        c.pop("path")
    return doc


def errors_of(pipeline_func):
    with pytest.raises(DSLError) as e:
        pipeline_func.to_dict()
    return str(e.value)


# ------------------------------------------------------------------------------------------
def test_sample_compiles_to_the_yaml_example(sample):
    """KFP's sample, ported, gives examples/exit-handler/pipeline.yaml (apart from paths)."""
    expected = yaml.safe_load((ROOT / "examples/exit-handler/pipeline.yaml").read_text())
    doc = sample.pipeline_exit_handler.to_dict()
    assert without_paths(doc) == without_paths(expected)
    # and the YAML the compiler writes reads back as the same data
    assert yaml.safe_load(_yaml.dumps(doc, header="x")) == doc


def test_sample_reads_like_kfps():
    """exit_handler.py is KFP's sample apart from its docstring, imports and __main__ block."""
    if not KFP_SAMPLE.is_file():
        pytest.skip(f"{KFP_SAMPLE} is not here")

    def body(text):
        start = text.index("@dsl.component")
        return text[start:text.index("if __name__ == '__main__':")]

    assert body(EXAMPLE.read_text()) == body(KFP_SAMPLE.read_text())


def test_task_names_follow_kfp():
    @dsl.pipeline(name="names")
    def p():
        for _ in range(3):
            print_op(message="x")
        add_op(a=1)

    steps = p.to_dict()["steps"]
    assert [s["task"] for s in steps] == ["print-op", "print-op-2", "print-op-3", "add-op"]


def test_params_types_defaults_and_references():
    @dsl.pipeline(name="params", description="d")
    def p(n: int = 3, ratio: float = 1, name: str = "x", flag: bool = False,
          tags: list = [1, 2], data: dict = {"a": 1}, required: str = None if False else "r"):
        a = add_op(a=n)
        info_op(data=data, tags=tags, flag=flag, name=f"{name}-{a.output}", ratio=a.output)
        add_op(a=a.output, b=2).after(a).set_retry(2, backoff_duration="1s").set_caching_options(True)

    doc = p.to_dict()
    assert doc["description"] == "d"
    assert doc["params"]["n"] == {"type": "int", "default": 3}
    assert doc["params"]["ratio"] == {"type": "float", "default": 1.0}
    assert doc["params"]["tags"] == {"type": "list", "default": [1, 2]}
    info = doc["steps"][1]
    assert info["inputs"] == {"data": "{{params.data}}", "tags": "{{params.tags}}",
                              "flag": "{{params.flag}}", "name": "{{params.name}}-{{tasks.add-op.output}}",
                              "ratio": "{{tasks.add-op.output}}"}
    assert doc["steps"][2] == {"task": "add-op-2", "component": "add_op",
                               "inputs": {"a": "{{tasks.add-op.output}}", "b": 2},
                               "after": ["add-op"], "retries": 2, "backoff": {"initial": "1s"},
                               "cache": True}


def test_component_signature():
    assert [(i.name, i.type, i.required, i.default) for i in add_op.inputs] == [
        ("a", "int", True, None), ("b", "int", False, 1)]
    assert [(o.name, o.type) for o in stats_op.outputs] == [("count", "int"), ("mean", "float")]
    assert [(i.name, i.type, i.required) for i in exit_op.inputs] == [
        ("status", "final_status", False), ("message", "string", True), ("summary", "float", False)]
    spec = exit_op.spec()
    assert spec["outputs"] == [{"name": "output", "type": "string", "description": ""}]
    assert "@dsl.component" not in exit_op.app_py() and "def exit_op(" in exit_op.app_py()


def test_exit_handler_nesting_bind_exit_and_control_flow():
    @dsl.pipeline(name="flow")
    def p(n: int = 4):
        outer = exit_op(message="outer")
        with dsl.ExitHandler(outer, name="outer") as h:
            s = stats_op(n=n)
            with dsl.If(s.outputs["count"] > 2, name="big"):
                inner = exit_op(message="inner")
                with dsl.ExitHandler(inner):
                    mean_op(values=[1, 2])
            with dsl.Elif((s.outputs["mean"] <= 1.5) & ~(s.outputs["count"] == 0)):
                print_op(message="mid")
            with dsl.Else():
                print_op(message="small")
            with dsl.ParallelFor([{"a": 1}, {"a": 2}], parallelism=2) as item:
                a = add_op(a=item.a)
                with dsl.ParallelFor([1, 2]) as j:
                    add_op(a=j, b=item.a)
            total = mean_op(values=dsl.Collected(a.output))
            h.bind_exit(summary=total.output)

    doc = p.to_dict()
    eh = doc["steps"][0]["exit_handler"]
    assert eh["name"] == "outer"
    assert eh["exit"]["inputs"] == {"message": "outer", "summary": "{{tasks.mean-op-2.output}}"}
    body = eh["steps"]
    assert body[1]["if"]["condition"] == "{{tasks.stats-op.outputs.count}} > 2"
    assert body[1]["if"]["steps"][0]["exit_handler"]["exit"]["task"] == "exit-op-2"
    assert body[2]["elif"]["condition"] == ("{{tasks.stats-op.outputs.mean}} <= 1.5 and "
                                            "not {{tasks.stats-op.outputs.count}} == 0")
    assert body[3]["else"]["steps"][0]["inputs"] == {"message": "small"}
    loop = body[4]["parallel_for"]
    assert loop["items"] == [{"a": 1}, {"a": 2}] and loop["parallelism"] == 2
    assert loop["steps"][0]["inputs"] == {"a": "{{item.a}}"}
    inner = loop["steps"][1]["parallel_for"]
    assert inner["as"] == "item_2"
    assert inner["steps"][0]["inputs"] == {"a": "{{item_2}}", "b": "{{item.a}}"}
    assert body[5]["inputs"] == {"values": "{{tasks.add-op.output}}"}


def test_yaml_writer_round_trips_awkward_values():
    doc = {"version": 1, "name": "x", "params": {"on": {"type": "string", "default": "yes"}},
           "components": {}, "steps": [{"task": "t", "component": "c",
                                        "inputs": {"a": "12", "b": 1e20, "c": "x: y", "d": None,
                                                   "e": "é\n\"q\"", "f": [], "g": {}, "h": -0.5}}]}
    assert yaml.safe_load(_yaml.dumps(doc)) == doc


# ------------------------------------------------------------------------------------------
# Authoring errors: each names the task.
def test_error_exit_task_read_in_its_own_body():
    @dsl.pipeline(name="e")
    def p():
        t = exit_op(message="m")
        with dsl.ExitHandler(t):
            print_op(message=t.output)
    msg = errors_of(p)
    assert "exit task `exit-op`" in msg and "inside its own body" in msg and "print-op" in msg


def test_error_exit_task_after_in_its_own_body():
    @dsl.pipeline(name="e")
    def p():
        t = exit_op(message="m")
        with dsl.ExitHandler(t):
            print_op(message="x").after(t)
    assert "exit task `exit-op` is used inside its own body" in errors_of(p)


def test_error_exit_task_handler_inside_its_own_body():
    @dsl.pipeline(name="e")
    def p():
        t = exit_op(message="m")
        with dsl.ExitHandler(t):
            with dsl.ExitHandler(t):
                print_op(message="x")
    assert "exit task `exit-op` is used inside its own body" in errors_of(p)


def test_error_exit_task_used_by_two_handlers():
    @dsl.pipeline(name="e")
    def p():
        t = exit_op(message="m")
        with dsl.ExitHandler(t):
            print_op(message="a")
        with dsl.ExitHandler(t):
            print_op(message="b")
    assert "exit task `exit-op` is used by two exit handlers" in errors_of(p)


@dsl.component
def needs_op(status: dsl.PipelineTaskFinalStatus, count: int, label: Optional[str] = None):
    print(count, label)


def test_bind_exit_optional_inputs_are_fine():
    @dsl.pipeline(name="ok")
    def p():
        t = needs_op(count=1)
        with dsl.ExitHandler(t) as h:
            a = add_op(a=1)
            h.bind_exit(label=f"got {a.output}")   # a formatted string, into an optional str
        t2 = tp.report_op()
        with dsl.ExitHandler(t2) as h2:
            s = stats_op(n=1)
        h2.bind_exit(half=s.outputs["count"], checked=s.outputs["mean"], note="n")  # after the with
    eh = p.to_dict()["steps"][1]["exit_handler"]["exit"]
    assert eh["inputs"] == {"half": "{{tasks.stats-op.outputs.count}}",
                            "checked": "{{tasks.stats-op.outputs.mean}}", "note": "n"}


def test_error_required_exit_input_bound_to_body_output():
    @dsl.pipeline(name="e")
    def p():
        t = needs_op(count=1)
        with dsl.ExitHandler(t) as h:
            a = add_op(a=1)
            h.bind_exit(count=a.output)
    msg = errors_of(p)
    assert msg.startswith("exit task `needs-op`: required input `count` is bound to "
                          "{{tasks.add-op.output}}, an output of body task `add-op`")
    assert "optional inputs only" in msg and "`count: Optional[int] = None`" in msg

    @dsl.pipeline(name="e")
    def q():
        t = needs_op(count=1)
        with dsl.ExitHandler(t) as h:
            add_op(a=1)
        h.bind_exit(count=2)   # not a body output, but bound already
    assert "exit task `needs-op`: input `count` is already bound to 1" in errors_of(q)

    @dsl.pipeline(name="e")
    def r():
        t = needs_op(count=1)
        with dsl.ExitHandler(t) as h:
            s = stats_op(n=2)
            h.bind_exit(label=s.outputs["count"])  # an int into an optional str: a type error
    msg = errors_of(r)
    assert "task `needs-op`, input `label` (string): {{tasks.stats-op.outputs.count}} is an int" in msg


def test_error_type_mismatches_name_the_task():
    cases = {
        "float output into an int input": lambda: add_op(a=stats_op(n=1).outputs["mean"]),
        "string param into an int input": None,
        "list output into a string input": lambda: print_op(message=tp.split_op(n=1).outputs["ratio"]),
        "literal string into an int input": lambda: add_op(a="three"),
        "literal float into an int input": lambda: add_op(a=1.5),
        "literal dict into a list input": lambda: mean_op(values={"a": 1}),
        "formatted string into an int input": lambda: add_op(a=f"{add_op(a=1).output}+1"),
    }
    for what, make in cases.items():
        if make is None:
            continue

        @dsl.pipeline(name="e")
        def p():
            make()
        msg = errors_of(p)
        assert re.search(r"task `[a-z0-9-]+`, input `\w+`", msg), (what, msg)

    @dsl.pipeline(name="e")
    def q(s: str = "x"):
        add_op(a=s)
    msg = errors_of(q)
    assert "task `add-op`, input `a` (int): {{params.s}} is a string parameter" in msg

    @dsl.pipeline(name="e")
    def r():
        m = mean_op(values=[1, 2])
        add_op(a=m.output)
    msg = errors_of(r)
    assert "task `add-op`, input `a` (int): {{tasks.mean-op.output}} is a float output" in msg
    assert "never the reverse" in msg

    @dsl.pipeline(name="ok")
    def ok():
        a = add_op(a=1)
        info_op(data={}, tags=[], flag=True, name="n", ratio=a.output)  # int feeds float
        info_op(data={}, tags=[], flag=True, name="n", ratio=2)
    ok.to_dict()


def test_error_unknown_and_missing_inputs():
    @dsl.pipeline(name="e")
    def p():
        add_op(a=1, c=2)
    msg = errors_of(p)
    assert "task `add-op`: component `add_op` has no input `c`; its inputs: `a`, `b`" in msg

    @dsl.pipeline(name="e")
    def q():
        print_op(message="x")
        add_op(b=2)
    msg = errors_of(q)
    assert "task `add-op`: required input(s) `a` of component `add_op` not given" in msg

    @dsl.pipeline(name="e")
    def r():
        t = exit_op(message="m")
        with dsl.ExitHandler(t) as h:
            add_op(a=1)
            h.bind_exit(nope=1)
    assert "exit task `exit-op`: component `exit_op` has no input `nope`" in errors_of(r)


def test_error_other_mistakes():
    @dsl.pipeline(name="e")
    def positional():
        add_op(1)
    assert "keyword arguments only" in errors_of(positional)

    @dsl.pipeline(name="e")
    def status_not_exit():
        exit_op(message="m")
    msg = errors_of(status_not_exit)
    assert "task `exit-op`" in msg and "only an exit task receives" in msg

    @dsl.pipeline(name="e")
    def bind_status():
        exit_op(message="m", status=1)
    assert "task `exit-op`, input `status`" in errors_of(bind_status)

    @dsl.pipeline(name="e")
    def dangling_else():
        print_op(message="x")
        with dsl.Else():
            print_op(message="y")
    assert "dsl.Else must directly follow" in errors_of(dangling_else)

    @dsl.pipeline(name="e")
    def bad_condition():
        a = add_op(a=1)
        with dsl.If(a.output == "one"):
            print_op(message="y")
    assert "an int cannot be compared with a string" in errors_of(bad_condition)

    @dsl.pipeline(name="e")
    def python_if():
        a = add_op(a=1)
        if a.output > 1:
            print_op(message="y")
    assert "dsl.If" in errors_of(python_if)

    @dsl.pipeline(name="e")
    def several_outputs():
        print_op(message=stats_op(n=1).output)
    assert "task `stats-op`: component `stats_op` has several outputs" in errors_of(several_outputs)

    @dsl.pipeline(name="e")
    def no_output():
        add_op(a=print_op(message="x").output)
    assert "task `print-op`: component `print_op` has no output" in errors_of(no_output)

    @dsl.pipeline(name="e")
    def nested_ref():
        mean_op(values=[add_op(a=1).output, 2])
    assert "inside a list or dict is not supported" in errors_of(nested_ref)

    with pytest.raises(DSLError, match="outside a @dsl.pipeline"):
        print_op(message="x")


COUNTER = 0


def test_error_components_must_be_self_contained():
    with pytest.raises(DSLError, match="uses the global\\(s\\) `COUNTER`"):
        @dsl.component
        def uses_global() -> int:
            return COUNTER + 1

    limit = 3
    with pytest.raises(DSLError, match="uses `limit` from an enclosing function"):
        @dsl.component
        def uses_closure() -> int:
            return limit

    with pytest.raises(DSLError, match="input `x`: .*not a type wasmpipe passes"):
        @dsl.component
        def bad_type(x: bytes):
            pass


def test_annotations_map_to_wasmpipe_types():
    from typing import Any, Dict, List

    @dsl.component
    def typed_op(a: list[int], b: Dict[str, int], c: Optional[List[str]], d: "int | None",
                 e: Any, f, g: tuple = (1, 2), h: float = 2, i: bool = True) -> dict:
        return {}

    assert [(i.name, i.type, i.required, i.has_default and i.default) for i in typed_op.inputs] == [
        ("a", "list", True, False), ("b", "dict", True, False), ("c", "list", False, False),
        ("d", "int", False, False), ("e", "any", True, False), ("f", "any", True, False),
        ("g", "list", False, [1, 2]), ("h", "float", False, 2.0), ("i", "bool", False, True)]
    assert typed_op.outputs[0].type == "dict" and typed_op.single_output

    with pytest.raises(DSLError, match="input `x`: its default `len\\(\\[\\]\\)` is not a literal"):
        @dsl.component
        def default_op(x: int = len([])):
            pass

    with pytest.raises(DSLError, match="input `x`: the default 'a' is a string, not an int"):
        @dsl.component
        def default_type_op(x: int = 'a'):
            pass


def test_pipeline_docstring_gives_descriptions():
    @dsl.pipeline
    def documented_pipeline(n: int = 1):
        """Adds one.

        Args:
            n: the number
        """
        add_op(a=n)

    doc = documented_pipeline.to_dict()
    assert doc["name"] == "documented-pipeline" and doc["description"] == "Adds one."
    assert doc["params"] == {"n": {"type": "int", "default": 1, "description": "the number"}}


def test_committed_example_pipeline_is_current(sample):
    committed = yaml.safe_load((EXAMPLE.parent / "pipeline.yaml").read_text())
    assert committed == sample.pipeline_exit_handler.to_dict()


# ------------------------------------------------------------------------------------------
# Artifacts: Input[...] / Output[...] parameters, as in KFP
def test_artifact_signature_and_pipeline_file():
    import artifact_pipeline as ap
    assert [(i.name, i.type, i.required) for i in ap.make_numbers_op.inputs] == [
        ("n", "int", True), ("skip", "bool", False)]  # the Output[...] parameter is no input
    assert [(o.name, o.type, o.param, o.description) for o in ap.make_numbers_op.outputs] == [
        ("data", "artifact:Dataset", True, "the numbers, one per line"),
        ("output", "string", False, "")]
    assert [(i.name, i.type, i.required) for i in ap.sum_lines_op.inputs] == [
        ("data", "artifact:Dataset", True)]
    assert ap.train_op.inputs[0].type == "artifact:Model"
    doc = ap.artifact_pipeline.to_dict()
    # nothing special in the pipeline file: artifacts are ports of the components
    assert doc["params"]["raw"] == {"type": "artifact", "kind": "Dataset"}
    assert doc["steps"][1] == {"task": "sum-lines-op", "component": "sum_lines_op",
                               "inputs": {"data": "{{tasks.make-numbers-op.outputs.data}}"}}
    assert doc["steps"][2]["inputs"] == {"data": "{{params.raw}}"}
    assert doc["outputs"]["data"] == "{{tasks.make-numbers-op.outputs.data}}"

    @dsl.component
    def only_artifact_op(model: dsl.Output[dsl.Model]):
        pass

    @dsl.pipeline(name="single")
    def p():
        m = only_artifact_op()
        ap.train_op(data=m.output)          # .output: the only output is the artifact
        ap.any_artifact_op(data=m.output)   # Artifact takes any kind
    assert p.to_dict()["steps"][1]["inputs"] == {"data": "{{tasks.only-artifact-op.outputs.model}}"}


def test_error_artifact_kind_mismatch_names_the_task():
    import artifact_pipeline as ap

    @dsl.pipeline(name="mismatch")
    def p():
        made = ap.make_numbers_op(n=3)
        ap.train_op(data=made.outputs["data"])
    assert errors_of(p) == (
        "task `train-op`, input `data` (Model artifact): {{tasks.make-numbers-op.outputs.data}} "
        "is a Dataset artifact output; a Model artifact input cannot take it")

    @dsl.pipeline(name="value-to-artifact")
    def p2():
        ap.sum_lines_op(data=add_op(a=1).output)
    assert "task `sum-lines-op`, input `data` (Dataset artifact): {{tasks.add-op.output}} is an int" \
        in errors_of(p2)

    @dsl.pipeline(name="artifact-to-value")
    def p3():
        made = ap.make_numbers_op(n=3)
        print_op(message=made.outputs["data"])
    assert "task `print-op`, input `message` (string): {{tasks.make-numbers-op.outputs.data}} " \
        "is a Dataset artifact output" in errors_of(p3)

    @dsl.pipeline(name="formatted")
    def p4():
        made = ap.make_numbers_op(n=3)
        print_op(message=f"at {made.outputs['data']}")
    assert "an artifact cannot be formatted into a string" in errors_of(p4)

    @dsl.pipeline(name="literal")
    def p5():
        ap.sum_lines_op(data="numbers.txt")
    assert "task `sum-lines-op`, input `data` (Dataset artifact): got the string 'numbers.txt'" \
        in errors_of(p5)

    @dsl.pipeline(name="fan-in")
    def p6():
        with dsl.ParallelFor([1, 2]) as n:
            made = ap.make_numbers_op(n=n)
        ap.sum_lines_op(data=made.outputs["data"])
    # collected over the loop, the artifacts are a list: a single-artifact input cannot take them
    assert "which gives a list of artifacts here: declare the input `List[Dataset]`" in errors_of(p6)


def test_error_artifact_annotations():
    # KFP's pythonic artifacts: an artifact class alone is an input artifact.
    @dsl.component
    def bare_op(d: dsl.Dataset):
        pass
    assert [(i.name, i.type) for i in bare_op.inputs] == [("d", "artifact:Dataset")]

    # returning an artifact (KFP's `-> Model`) is an output artifact named `output`
    @dsl.component
    def returns_op() -> dsl.Model:
        pass
    assert [(o.name, o.type, o.param) for o in returns_op.outputs] == [("output", "artifact:Model", False)]

    class MyModel(dsl.Model):
        pass

    with pytest.raises(DSLError, match="return value: the artifact class MyModel is not one"):
        @dsl.component
        def subclass_op() -> MyModel:
            pass

    with pytest.raises(DSLError, match="two outputs are named `output`"):
        @dsl.component
        def clash_op(output: dsl.Output[dsl.Model]) -> int:
            return 1

    with pytest.raises(DSLError, match="take an artifact class .* not int"):
        @dsl.component
        def int_op(d: dsl.Input[int]):
            pass


def test_fail_fast_is_written_on_the_groups_that_opt_in():
    @dsl.pipeline(name="ff")
    def p():
        e = exit_op(message="cleanup")
        with dsl.ExitHandler(e, fail_fast=True):
            print_op(message="a")
            with dsl.If("{{params.n}} > 0" if False else "1 > 0", fail_fast=True):
                print_op(message="b")
            with dsl.Else(fail_fast=True):
                print_op(message="c")
            with dsl.ParallelFor([1, 2], fail_fast=True):
                print_op(message="d")
        e2 = exit_op(message="default")
        with dsl.ExitHandler(e2):
            print_op(message="e")

    steps = p.to_dict()["steps"]
    eh = steps[0]["exit_handler"]
    assert eh["fail_fast"] is True
    assert [list(s.values())[0].get("fail_fast") for s in eh["steps"][1:]] == [True, True, True]
    assert "fail_fast" not in steps[1]["exit_handler"], "the default is not written"


def test_one_of_binds_the_output_of_the_branch_that_ran():
    """KFP's dsl.OneOf: a task input and the pipeline's output bound with `one_of`."""
    @dsl.pipeline(name="one-of")
    def p(n: int = 3) -> int:
        with dsl.If(n > 2):
            big = add_op(a=100)
        with dsl.Else():
            small = add_op(a=1)
        picked = dsl.OneOf(big.output, small.output)
        add_op(a=picked)
        return picked

    doc = p.to_dict()
    both = {"one_of": ["{{tasks.add-op.output}}", "{{tasks.add-op-2.output}}"]}
    assert doc["steps"][2] == {"task": "add-op-3", "component": "add_op", "inputs": {"a": both}}
    assert doc["outputs"] == {"output": both}
    assert yaml.safe_load(_yaml.dumps(doc, header="x")) == doc


def test_one_of_mistakes_are_reported():
    @dsl.pipeline(name="one")
    def single(n: int = 1):
        with dsl.If(n > 0):
            t = add_op(a=1)
        dsl.OneOf(t.output)

    assert "dsl.OneOf takes two or more task outputs" in errors_of(single)

    @dsl.pipeline(name="types")
    def types(n: int = 1):
        with dsl.If(n > 0):
            a = add_op(a=1)
        with dsl.Else():
            b = mean_op(values=[1])
        dsl.OneOf(a.output, b.output)

    assert "its outputs must have one type" in errors_of(types)

    @dsl.pipeline(name="text")
    def text(n: int = 1):
        with dsl.If(n > 0):
            a = add_op(a=1)
        with dsl.Else():
            b = add_op(a=2)
        print_op(message=f"got {dsl.OneOf(a.output, b.output)}")

    assert "cannot be formatted into a string" in errors_of(text)


def test_a_none_default_makes_an_optional_parameter():
    """KFP's `x: int = None`: `default: null`, passed alone to inputs that have a default."""
    @dsl.pipeline(name="optional")
    def p(b: int = None):
        add_op(a=1, b=b)

    doc = p.to_dict()
    assert doc["params"]["b"] == {"type": "int", "default": None}
    assert "default: null" in _yaml.dumps(doc, header="x")
    assert doc["steps"][0]["inputs"] == {"a": 1, "b": "{{params.b}}"}

    @dsl.pipeline(name="required")
    def required(a: int = None):
        add_op(a=a)

    assert "parameter `a` defaults to None, so it may have no value; a required input needs one" in errors_of(required)

    @dsl.pipeline(name="formatted")
    def formatted(a: int = None):
        print_op(message=f"a is {a}")

    assert "it cannot be formatted into a string" in errors_of(formatted)


def test_a_component_compiles_as_a_pipeline_of_one_task():
    """KFP's compiler takes a component on its own: a pipeline whose parameters are the
    component's inputs, one task, and the task's output as the pipeline's."""
    from wasmpipe.compiler import _component_pipeline
    doc = _component_pipeline(add_op).to_dict()
    assert doc["name"] == "add-op"
    assert doc["params"] == {"a": {"type": "int"}, "b": {"type": "int", "default": 1}}
    assert doc["steps"] == [{"task": "add-op", "component": "add_op",
                             "inputs": {"a": "{{params.a}}", "b": "{{params.b}}"}}]
    assert doc["outputs"] == {"output": "{{tasks.add-op.output}}"}
    # A component with no output is a task too.
    assert _component_pipeline(print_op).to_dict()["steps"] == [
        {"task": "print-op", "component": "print_op", "inputs": {"message": "{{params.message}}"}}]


def test_kubernetes_task_options_are_accepted_with_a_warning():
    """What has no meaning in a sandbox (CPU, accelerators) warns and changes nothing; a
    display name is kept on the task; neither is an AttributeError."""
    @dsl.pipeline(name="opts")
    def p():
        t = add_op(a=1).set_display_name("Add one")
        with pytest.warns(UserWarning, match="set_cpu_limit ignored"):
            t.set_cpu_limit("2")
        with pytest.warns(UserWarning, match="set_accelerator_type ignored"):
            t.set_accelerator_type("nvidia.com/gpu")
        assert t.display_name == "Add one"

    assert p.to_dict()["steps"] == [{"task": "add-op", "component": "add_op", "inputs": {"a": 1}}]


def test_loop_items_written_as_json_strings_are_read_by_field():
    """KFP's loop_static sample loops over `json.dumps({...})` strings and reads `item.a`: the
    strings become the objects; a list of other strings stays as it is."""
    import json

    @dsl.pipeline(name="json-items")
    def p():
        with dsl.ParallelFor([json.dumps({"a": 1, "b": "x"}), json.dumps({"a": 2, "b": "y"})]) as item:
            add_op(a=item.a)
        with dsl.ParallelFor(["{not json", "plain"]) as word:
            print_op(message=word)

    loops = [s["parallel_for"] for s in p.to_dict()["steps"]]
    assert loops[0]["items"] == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]
    assert loops[1]["items"] == ["{not json", "plain"]


def test_a_pipeline_used_in_another_is_a_sub_pipeline():
    """KFP's pipelines-as-components: a pipeline called inside another is a task that runs it
    from a file of its own; its parameters are the task's inputs, its outputs the task's."""
    @dsl.pipeline(name="inner")
    def inner(n: int, step: int = 1) -> int:
        return add_op(a=n, b=step).output

    @dsl.pipeline(name="outer")
    def outer(start: int = 1):
        first = inner(n=start)
        add_op(a=first.output)
        inner(n=first.output, step=2)

    doc = outer.to_dict()
    assert doc["components"]["inner"] == {"pipeline": "inner.yaml"}
    assert doc["steps"][0] == {"task": "inner", "component": "inner", "inputs": {"n": "{{params.start}}"}}
    assert doc["steps"][1]["inputs"] == {"a": "{{tasks.inner.output}}"}
    assert doc["steps"][2] == {"task": "inner-2", "component": "inner",
                               "inputs": {"n": "{{tasks.inner.output}}", "step": 2}}, doc["steps"][2]
    with pytest.raises(DSLError, match="no input `m`"):
        @dsl.pipeline(name="wrong")
        def wrong():
            inner(m=1)
        wrong.to_dict()

    @dsl.pipeline(name="again")
    def again(n: int = 1):
        again(n=n)
    with pytest.raises(DSLError, match="pipeline `again` uses itself"):
        again.to_dict()


@dsl.component(packages_to_install=["six==1.16.0", "attrs"])
def with_packages_op() -> int:
    import six  # noqa: F401
    return 1


def test_packages_to_install_are_kept_for_the_build():
    """`packages_to_install` is accepted: the packages are bundled when the component is built
    (pure-Python wheels only; one with native code is refused then, by name)."""
    assert with_packages_op.packages == ["attrs", "six==1.16.0"]
    assert "'six'" in with_packages_op.app_py()  # imported up front, to be bundled

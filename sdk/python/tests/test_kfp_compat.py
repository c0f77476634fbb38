"""What a KFP user brings along: InputPath / OutputPath, returned artifacts and dsl.get_uri,
KFP's `Output` name, container components (WASI commands), loaded components, dsl.importer.
The tests marked `build` build components with componentize-py and run them."""
import json
import shutil
import tempfile
import textwrap
import uuid
import warnings
from pathlib import Path
from typing import List

import pytest
import yaml

import kfp_style as ks
import wasmpipe
from wasmpipe import compiler, components, dsl
from wasmpipe.dsl import DSLError

HERE = Path(__file__).resolve().parent


def outputs_of(comp):
    return [(o.name, o.type, o.param, o.path) for o in comp.outputs]


# ------------------------------------------------------------------------------------------
# Authoring (no builds)
def test_input_and_output_paths_are_ports_the_function_gets_paths_for():
    assert outputs_of(ks.write_values) == [
        ("text", "string", True, True), ("flag", "bool", True, True), ("n", "int", True, True),
        ("ratio", "float", True, True), ("data", "dict", True, True),
        ("raw", "artifact:Dataset", True, True)]
    assert [(i.name, i.type, i.required, i.path) for i in ks.read_values.inputs][:3] == [
        ("text", "string", True, True), ("raw", "artifact:Dataset", True, True),
        ("items", "list", True, True)]
    # the values are parsed back as JSON (io and json bundled)
    assert "'io', 'json'" in ks.write_values.app_py()
    doc = ks.kfp_style.to_dict()
    read = doc["steps"][1]
    assert read["inputs"]["text"] == "{{tasks.write-values.outputs.text}}"
    assert read["inputs"]["raw"] == "{{tasks.write-values.outputs.raw}}"
    assert read["inputs"]["n"] == "{{tasks.write-values.outputs.n}}"


def test_unknown_path_type_names_are_artifacts_as_in_kfp():
    from wasmpipe import _types
    assert _types.path_param(dsl.OutputPath("MyCustomType")) == ("out", "artifact:Artifact")
    assert _types.path_param(dsl.InputPath("Integer")) == ("in", "int")
    assert _types.path_param(dsl.InputPath()) == ("in", "artifact:Artifact")
    assert _types.path_param(dsl.OutputPath(dsl.Model)) == ("out", "artifact:Model")

    def bad(x: dsl.OutputPath(str) = "x"):
        pass
    with pytest.raises(DSLError, match="input `x`: an OutputPath cannot have a default"):
        dsl.component(bad)


def test_a_single_return_value_is_also_kfps_output():
    assert outputs_of(ks.make_model) == [("output", "artifact:Model", False, False)]
    assert outputs_of(ks.make_pair) == [("first", "artifact:Dataset", False, False),
                                        ("size", "int", False, False)]
    doc = ks.kfp_style.to_dict()
    by_task = {s["task"]: s for s in doc["steps"]}
    assert by_task["read-model"]["inputs"] == {"model": "{{tasks.make-model.output}}"}
    assert by_task["read-any"]["inputs"] == {"a": "{{tasks.make-text.output}}"}

    @dsl.pipeline(name="p")
    def p():
        t = ks.shout(text="x")
        assert t.outputs["Output"] is t.output is t.outputs["output"]
        with pytest.raises(DSLError, match=r"no output `Outputs`; its outputs: `output`"):
            t.outputs["Outputs"]
    p.to_dict()

    with pytest.raises(DSLError, match="returning a list of artifacts is not supported"):
        @dsl.component
        def many() -> list[dsl.Dataset]:
            return []


def test_dsl_names_a_kfp_component_uses_are_defined_inside_it():
    app = ks.make_model.app_py()
    # `dsl.get_uri` and `Model` resolve inside the component, as after KFP's `from kfp import dsl`
    assert "\ndsl = _wp_dsl_module()\n" in app and "def get_uri(" in app
    with pytest.raises(RuntimeError, match="only be called inside a component"):
        dsl.get_uri()


def test_a_container_component_is_a_wasi_command():
    doc = ks.containers.to_dict()
    entry = doc["components"]["echo_to"]
    assert entry["command"] == {
        "args": ["{{inputs.message}}", "{{outputs.said}}"],
        "inputs": {"message": {"type": "string"}},
        "outputs": {"said": {"type": "string"}}}
    assert entry["path"] == "components/echo_to.wat"
    assert doc["steps"][1]["inputs"] == {"text": "{{tasks.echo-to.outputs.said}}"}
    assert ks.echo_to.wasm == HERE / "data/echo_to.wat"  # relative to the defining file


def test_a_container_image_is_refused_naming_it_and_the_fix(tmp_path):
    @dsl.pipeline(name="p")
    def p():
        ks.in_alpine(message="x")
    with pytest.raises(DSLError) as e:
        p.to_dict()
    msg = str(e.value)
    assert "container component `in_alpine`: image `alpine` is a container image" in msg
    assert "name its .wasm as the image" in msg
    with pytest.raises(DSLError, match="image `alpine`"):
        compiler.Compiler().compile(ks.in_alpine, tmp_path / "alone.yaml")

    @dsl.container_component
    def missing(x: int):
        return dsl.ContainerSpec(image="nowhere/tool.wasm", args=[x])

    @dsl.pipeline(name="q")
    def q():
        missing(x=1)
    with pytest.raises(DSLError, match=r"its image .*nowhere/tool.wasm does not exist"):
        compiler.Compiler().compile(q, tmp_path / "q.yaml")


def test_load_component_from_text_and_file(tmp_path):
    wat = tmp_path / "lib" / "echo.wat"
    wat.parent.mkdir()
    shutil.copyfile(HERE / "data/echo_to.wat", wat)
    spec = textwrap.dedent("""\
        name: echo
        path: echo.wat
        command:
          args: ["{{inputs.msg}}", "{{outputs.said}}"]
          inputs: {msg: {type: string, default: hi}}
          outputs: {said: {type: string}}
        """)
    (wat.parent / "echo.yaml").write_text(spec)
    echo = components.load_component_from_file(wat.parent / "echo.yaml")
    assert [(i.name, i.type, i.required, i.default) for i in echo.inputs] == [
        ("msg", "string", False, "hi")]
    task_comp = components.load_component_from_text(json.dumps({
        "name": "add", "path": str(wat), "inputs": {"a": {"type": "int"}},
        "outputs": {"output": {"type": "int"}}}))
    assert task_comp.single_output

    @dsl.pipeline(name="loaded")
    def p():
        e = echo()
        task_comp(a=e.outputs["said"])  # a string output to an int input

    with pytest.raises(DSLError, match=r"task `add`, input `a` \(int\).*a string output"):
        p.to_dict()

    @dsl.pipeline(name="loaded")
    def q():
        e = echo(msg="yo")
        ks.shout(text=e.outputs["said"])
    # the loaded files are copied when loaded: the spec's directory may go
    shutil.rmtree(wat.parent)
    doc = q.to_dict()
    assert doc["components"]["echo"]["command"]["inputs"] == {"msg": {"type": "string", "default": "hi"}}

    errors = {
        "name: x\npath: a.wasm\nimplementation: {container: {image: alpine}}\n": "KFP's component YAML",
        "name: x\ninputs: {}\n": "needs `path`",
        '{"name": "x", "path": "rel.wasm"}': "is relative",
        "name: x\npath: /nope.wasm\n": "/nope.wasm does not exist",
        "- a\n": "is a mapping",
    }
    for text, want in errors.items():
        with pytest.raises(DSLError, match=want):
            components.load_component_from_text(text)
    with pytest.raises(DSLError, match="type `integer` is not one of"):
        components.load_component_from_text(json.dumps({
            "path": str(HERE / "data/echo_to.wat"), "inputs": {"a": {"type": "integer"}}}))


def test_importer_is_an_artifact_parameter():
    @dsl.pipeline(name="imp")
    def p():
        raw = dsl.importer(artifact_uri="data/rows.csv", artifact_class=dsl.Dataset)
        ks.read_any(a=raw.output)
        ks.read_any(a=dsl.importer(artifact_uri="file:///abs/x.txt").outputs["artifact"])

    doc = p.to_dict()
    assert doc["params"] == {"importer": {"type": "artifact", "kind": "Dataset", "default": "data/rows.csv"},
                             "importer_2": {"type": "artifact", "kind": "Artifact", "default": "/abs/x.txt"}}
    assert doc["steps"][0]["inputs"] == {"a": "{{params.importer}}"}

    # a remote URI: a required artifact parameter, given a local copy with -a
    @dsl.pipeline(name="imp")
    def remote():
        raw = dsl.importer(artifact_uri="gs://bucket/x.txt", artifact_class=dsl.Dataset,
                           metadata={"k": "v"})
        ks.read_any(a=raw.output)
    with pytest.warns(UserWarning) as caught:
        doc = remote.to_dict()
    messages = [str(w.message) for w in caught]
    assert any("`gs://bucket/x.txt` is a remote URI" in m and "parameter `importer` is required"
               in m and "-a importer=PATH" in m for m in messages), messages
    assert any("metadata of `importer` dropped" in m for m in messages), messages
    assert doc["params"] == {"importer": {
        "type": "artifact", "kind": "Dataset",
        "description": "KFP's importer of gs://bucket/x.txt: give a local copy with -a importer=PATH"}}


def test_parallelism_zero_is_no_limit_as_in_kfp():
    @dsl.pipeline(name="p")
    def p():
        with dsl.ParallelFor([1, 2], parallelism=0):
            ks.shout(text="x")
    assert "parallelism" not in p.to_dict()["steps"][0]["parallel_for"]


# ------------------------------------------------------------------------------------------
# Built and run
def test_paths_returned_artifacts_and_output_run(run, tmp_path):
    out = wasmpipe.compile(ks.kfp_style, tmp_path / "kfp.yaml")
    rc, rec, err = run(out)
    assert rc == 0, err
    by_task = {t["task"]: t for t in rec["tasks"]}
    w = by_task["write-values"]["outputs"]
    assert (w["text"], w["flag"], w["n"], w["ratio"], w["data"]) == ("hi", True, 42, 0.5, {"a": 1})
    assert w["raw"]["kind"] == "Dataset" and w["raw"]["size"] == 4
    assert by_task["read-values"]["outputs"]["output"] == (
        "hi|hihi|[1, \"a\"]|/in/raw|True|42|0.5|{'a': 1}")
    model = by_task["make-model"]["outputs"]["output"]
    assert model["kind"] == "Model" and model["metadata"] == {"length": 2}
    assert by_task["read-model"]["outputs"]["output"] == "hi:2"
    assert by_task["read-any"]["outputs"]["output"] == "ABC"
    assert by_task["read-any-2"]["outputs"]["output"] == "x"
    assert by_task["make-pair"]["outputs"]["size"] == 3

    rc, rec, err = run(wasmpipe.compile(ks.forgets, tmp_path / "forgets.yaml"))
    assert rc == 1
    assert rec["tasks"][0]["failure"] == {
        "kind": "error", "message": "`forget_output` did not write its output `out` (OutputPath): "
                                    "write the value in the file at the path it is given, /out/out"}


def test_container_and_loaded_components_run(run, tmp_path):
    out = wasmpipe.compile(ks.containers, tmp_path / "c/containers.yaml")
    assert (tmp_path / "c/components/echo_to.wat").is_file()
    rc, rec, err = run(out)
    assert rc == 0, err
    by_task = {t["task"]: t for t in rec["tasks"]}
    assert by_task["echo-to"]["outputs"] == {"said": "from a command"}
    assert by_task["shout"]["outputs"] == {"output": "FROM A COMMAND!"}

    # KFP's pattern: compile a component to a file in a temporary directory, load it, and use
    # it after the directory is gone
    with tempfile.TemporaryDirectory() as d:
        compiler.Compiler().compile(ks.shout, Path(d) / "shout.yaml")
        loaded = components.load_component_from_file(Path(d) / "shout.yaml")
    assert [(i.name, i.type) for i in loaded.inputs] == [("text", "string")] and loaded.single_output

    @dsl.pipeline(name="uses-loaded")
    def p(text: str = "loaded"):
        first = loaded(text=text)
        ks.shout(text=first.output)

    out = compiler.Compiler().compile(p, tmp_path / "l/p.yaml")
    sub = yaml.safe_load((tmp_path / "l/shout.yaml").read_text())  # the loaded pipeline
    assert sub["components"] == {"shout": {"path": "components/shout__shout.wasm"}}
    rc, rec, err = run(out)
    assert rc == 0, err
    by_id = {t["id"]: t for t in rec["tasks"]}
    assert by_id["shout-2"]["outputs"] == {"output": "LOADED!!"}


def test_caching_is_opt_in_and_run_cache_gives_kfps_default():
    doc = ks.caching.to_dict()
    assert "cache" not in doc
    assert [s.get("cache") for s in doc["steps"]] == [None, False, True]


def test_run_cache_caches_what_kfp_would(run, tmp_path):
    out = wasmpipe.compile(ks.caching, tmp_path / "caching.yaml")
    text = f"once {uuid.uuid4()}"  # unique: the first run finds nothing cached
    rc, first, err = run(out, "-p", f"text={text}")
    assert rc == 0, err
    assert [t.get("cached", False) for t in first["tasks"]] == [False, False, False]
    rc, second, err = run(out, "-p", f"text={text}")
    # without --cache only the task that opted in is reused
    assert [t.get("cached", False) for t in second["tasks"]] == [False, False, True]
    # `--cache`: KFP's default, every task but those with set_caching_options(False)
    run(out, "-p", f"text={text}", "--cache")
    rc, fourth, err = run(out, "-p", f"text={text}", "--cache")
    assert [t.get("cached", False) for t in fourth["tasks"]] == [True, False, True]


def test_a_package_needing_posix_ids_and_home_works(run, tmp_path):
    rc, rec, err = run(wasmpipe.compile(ks.formats, tmp_path / "formats.yaml"))
    assert rc == 0, err
    assert rec["tasks"][0]["outputs"] == {"output": "x = [1, 2, 3]\n"}


def test_artifacts_collected_over_a_loop_compile_to_a_list_input():
    assert [(i.name, i.type, i.artifact_list) for i in ks.join_numbers.inputs] == [
        ("numbers", "list", "Artifact")]
    doc = ks.collects_artifacts.to_dict()
    assert doc["steps"][1]["inputs"] == {"numbers": "{{tasks.write-number.outputs.out}}"}

    @dsl.pipeline(name="p")
    def formatted():
        with dsl.ParallelFor([1, 2]) as i:
            w = ks.write_number(index=i)
        ks.shout(text=f"got {w.outputs['out']}")
    with pytest.raises(DSLError, match="an artifact cannot be formatted into a string"):
        formatted.to_dict()

    @dsl.pipeline(name="p")
    def single():
        with dsl.ParallelFor([1, 2]) as i:
            w = ks.write_number(index=i)
        ks.read_any(a=w.outputs['out'])
    with pytest.raises(DSLError, match=r"gives a list of artifacts here: declare the input `List\[Dataset\]`"):
        single.to_dict()

    @dsl.component
    def models(ms: dsl.Input[List[dsl.Model]]):
        pass

    @dsl.pipeline(name="p")
    def kinds():
        with dsl.ParallelFor([1, 2]) as i:
            w = ks.make_pair(text="x")
        models(ms=dsl.Collected(w.outputs['first']))
    with pytest.raises(DSLError, match="collects a Dataset artifacts; the input takes a list of a Model"):
        kinds.to_dict()

    @dsl.pipeline(name="inner")
    def inner():
        with dsl.ParallelFor([1, 2]) as i:
            w = ks.write_number(index=i)
        return dsl.Collected(w.outputs['out'])

    # a sub-pipeline returns the artifacts it collects (KFP's `-> List[Artifact]`)
    @dsl.pipeline(name="outer")
    def outer():
        ks.join_numbers(numbers=inner().output)
    assert outer.to_dict()["steps"][1]["inputs"] == {"numbers": "{{tasks.inner.output}}"}

    # a loop over them: each item one artifact, for an artifact input
    @dsl.pipeline(name="outer")
    def loops():
        with dsl.ParallelFor(inner().output) as a:
            ks.read_any(a=a)
    assert loops.to_dict()["steps"][1]["parallel_for"]["items"] == "{{tasks.inner.output}}"

    @dsl.pipeline(name="outer")
    def loops_directly():
        with dsl.ParallelFor([1, 2]) as i:
            w = ks.write_number(index=i)
        with dsl.ParallelFor(w.outputs["out"]) as a:
            ks.read_any(a=a)
    loop = loops_directly.to_dict()["steps"][1]["parallel_for"]
    assert loop["items"] == "{{tasks.write-number.outputs.out}}"
    assert loop["steps"][0]["inputs"] == {"a": "{{item}}"}

    @dsl.pipeline(name="outer")
    def item_as_value():
        with dsl.ParallelFor(inner().output) as a:
            ks.shout(text=a)
    with pytest.raises(DSLError, match="artifact"):
        item_as_value.to_dict()

    @dsl.pipeline(name="outer")
    def nested():
        with dsl.ParallelFor([1, 2]) as i:
            with dsl.ParallelFor([3]) as j:
                w = ks.write_number(index=j)
        with dsl.ParallelFor(w.outputs["out"]) as a:
            ks.read_any(a=a)
    with pytest.raises(DSLError, match="collected over 2 nested loops, so each item would be a list"):
        nested.to_dict()


def _guest_runtime():
    """The guest wrapper's functions, run on the host with stand-ins for the WIT bindings."""
    from unittest import mock
    # the files, not the modules: _guest_runtime.py is not importable on the host (it expects
    # the bindings the generated app.py defines before it)
    package = Path(wasmpipe.__file__).parent
    ns = {"_wp_t": mock.MagicMock(), "_WpErr": type("Err", (Exception,), {})}
    for name in ("_status.py", "_artifacts.py", "_guest_runtime.py"):
        exec(compile((package / name).read_text(), name, "exec"), ns)
    return ns


def test_collected_artifacts_become_objects_of_the_declared_class():
    rt = _guest_runtime()
    got = rt["_wp_artifact_list"]([{"path": "/in/x/0", "name": "out", "kind": "Artifact",
                                    "metadata": {"index": 3}},
                                   [{"path": "/in/x/1/0", "name": "out", "metadata": None}]],
                                  "Dataset")
    assert type(got[0]).__name__ == "Dataset" and got[0].path == "/in/x/0"
    assert got[0].metadata == {"index": 3} and got[1][0].metadata == {}


def test_output_path_values_are_read_as_kfp_reads_them():
    rt = _guest_runtime()
    parse = lambda ty, text: rt["_wp_parse_path_value"]({"func": "f"}, "x", ty, text.encode())
    assert parse("bool", "True\n") is True and parse("bool", "0") is False
    assert parse("int", " 42\n") == 42 and parse("int", "3.0") == 3
    assert parse("string", "a\n") == "a\n"  # as written
    assert parse("dict", '{"a": 1}') == {"a": 1} and parse("any", "oops") == "oops"
    with pytest.raises(rt["_WpErr"], match=r"output `x` \(OutputPath\) is declared int but the "
                                          r"function wrote 'many'"):
        parse("int", "many")
    # the files live in memory while the function runs, and only the ones it was given
    vfs = rt["_WpVirtualFiles"]()
    vfs.files["/out/x"] = None
    vfs.files["/in/y"] = b"given"
    import builtins
    import io
    import os
    real = (builtins.open, io.open, os.makedirs, os.path.exists)
    with vfs:
        with open("/in/y") as f:
            assert f.read() == "given"
        os.makedirs("/out", exist_ok=True)
        assert not os.path.exists("/out/x")
        Path("/out/x").write_text("a")
        with open("/out/x", "a") as f:
            f.write("b")
        assert os.path.exists("/out/x")
        with pytest.raises(FileNotFoundError):
            open("/out/not-given")
    assert vfs.read("/out/x") == b"ab"
    assert (builtins.open, io.open, os.makedirs, os.path.exists) == real  # restored


def test_collected_artifacts_run(run, tmp_path):
    rc, rec, err = run(wasmpipe.compile(ks.collects_artifacts, tmp_path / "collects.yaml"))
    assert rc == 0, err
    assert rec["outputs"]["output"] == "3@3:Artifact,4@4:Artifact,5@5:Artifact"


def test_the_null_device_is_a_null_file_of_the_modes_type():
    # WASI has no /dev/null; dill opens it when imported, with open and _pyio.open
    import _pyio
    import io
    import os
    rt = _guest_runtime()
    for iomod in (io, _pyio):
        open_ = rt["_wp_null_open"](iomod, lambda *a: pytest.fail(f"real open called: {a}"))
        assert isinstance(open_(os.devnull, "r"), iomod.TextIOWrapper)
        assert isinstance(open_(os.devnull, "rb"), iomod.BufferedReader)
        assert isinstance(open_(os.devnull, "wb"), iomod.BufferedWriter)
        assert isinstance(open_(os.devnull, "r+b"), iomod.BufferedRandom)
        assert isinstance(open_(os.devnull, "rb", buffering=0), iomod.RawIOBase)
        with open_(os.devnull, "w") as f:
            f.write("dropped")
        assert open_(os.devnull).read() == ""
    passed = []
    open_ = rt["_wp_null_open"](io, lambda *a: passed.append(a[0]))
    open_("/in/x")
    assert passed == ["/in/x"]


def test_log_metric_writes_the_metrics(run, tmp_path):
    # KFP's Output[Metrics].log_metric alone: the metrics are the artifact's metadata and file
    rc, rec, err = run(wasmpipe.compile(ks.metrics, tmp_path / "metrics.yaml"))
    assert rc == 0, err
    art = rec["tasks"][0]["outputs"]["metrics"]
    assert art["kind"] == "Metrics" and art["metadata"] == {"accuracy": 0.75, "epochs": 3}
    written = json.loads((tmp_path / "runs" / rec["run_id"] / art["path"]).read_text())
    assert written == {"accuracy": 0.75, "epochs": 3}


def test_task_options_without_meaning_in_a_sandbox_warn_never_fail():
    @dsl.pipeline(name="p")
    def p():
        t = ks.shout(text="x").set_display_name("Shout")
        for method, arg in (("set_cpu_limit", "2"), ("set_cpu_request", "1"),
                            ("set_memory_request", "1G"), ("set_accelerator_type", "TPU"),
                            ("set_accelerator_limit", 1), ("set_gpu_limit", 1)):
            with pytest.warns(UserWarning, match=f"{method} ignored"):
                getattr(t, method)(arg)
        t.set_env_variable("MODE", "x").set_retry(2, backoff_duration="0s")
        assert t.display_name == "Shout"
    step = p.to_dict()["steps"][0]
    assert (step["env"], step["retries"], step["backoff"]) == ({"MODE": "x"}, 2, {"initial": "0s"})


def test_sandbox_options_on_a_task_that_runs_a_pipeline_are_refused_naming_it():
    @dsl.pipeline(name="inner")
    def inner(text: str = "x") -> str:
        return ks.shout(text=text).output

    for method, args in (("set_env_variable", ("A", "b")), ("set_retry", (2,)),
                         ("set_timeout", ("1s",)), ("set_memory_limit", ("1G",)),
                         ("set_fuel", (10,))):
        @dsl.pipeline(name="outer")
        def outer():
            getattr(inner(), method)(*args)
        with pytest.raises(DSLError, match=f"task `inner`: {method} applies to a component's task, "
                                           "not to one that runs the pipeline `inner`; call it on "
                                           "the tasks inside that pipeline"):
            outer.to_dict()

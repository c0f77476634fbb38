"""Compiled pipelines run with the wasmpipe CLI. Components are built with componentize-py and
cached by source hash (CACHE/python-components), so only the first run of the suite builds."""
import json
import subprocess
import time

import pytest

from conftest import ROOT, copy_with
import artifact_pipeline as ap
import typed_pipeline as tp
import wasmpipe
from wasmpipe import _build, compiler


def shape(record):
    """What must agree between two runs of the same pipeline: ids, states, failures and the
    exit handlers' final status (not times, run ids or messages)."""
    tasks = []
    for t in record["tasks"]:
        fs = t.get("final_status")
        tasks.append({
            "id": t["id"], "task": t["task"], "component": t["component"], "state": t["state"],
            "exit_handler": t["exit_handler"],
            "failure_kind": (t.get("failure") or {}).get("kind"),
            "stdout": [line["text"] for line in t.get("logs", []) if line["source"] == "stdout"],
            "final_status": fs and {"state": fs["state"], "group": fs["group"],
                                    "failures": [(f["task"], f["kind"], f["exit_handler"])
                                                 for f in fs["failures"]]},
        })
    return {"state": record["state"], "pipeline": record["pipeline"], "params": record["params"],
            "tasks": sorted(tasks, key=lambda t: t["id"])}


def test_sample_runs_like_the_yaml_version(sample, run, rust_components, tmp_path):
    t = time.monotonic()
    out = compiler.Compiler().compile(sample.pipeline_exit_handler, tmp_path / "py/pipeline.yaml")
    print(f"compile: {time.monotonic() - t:.1f} s")
    assert sorted(p.name for p in (tmp_path / "py/components").iterdir()) == ["fail_op.wasm", "print_op.wasm"]
    rc_py, rec_py, err = run(out)
    assert rec_py is not None, err

    yaml_version = copy_with(ROOT / "examples/exit-handler/pipeline.yaml", tmp_path / "rust",
                             {n: rust_components / f"{n}.wasm" for n in ("print_op", "fail_op")})
    rc_rs, rec_rs, err = run(yaml_version)
    assert rec_rs is not None, err

    assert rc_py == rc_rs == 1
    assert shape(rec_py) == shape(rec_rs)
    by_id = {t["id"]: t for t in rec_py["tasks"]}
    assert rec_py["state"] == "failed"
    assert by_id["exit-handler-1/print-op-2"]["state"] == "succeeded"
    fail = by_id["exit-handler-1/fail-op"]
    assert fail["state"] == "failed" and fail["failure"]["kind"] == "error"
    assert fail["failure"]["message"] == "`fail_op` exited with status 1 (sys.exit)"
    exit_task = by_id["exit-handler-1/print-op"]
    assert exit_task["state"] == "succeeded" and exit_task["exit_handler"] is True
    assert exit_task["final_status"]["state"] == "failed"
    assert [f["task"] for f in exit_task["final_status"]["failures"]] == ["exit-handler-1/fail-op"]
    assert [line["text"] for line in exit_task["logs"]] == ["Exit handler has worked!"]


def test_compiled_files_validate_and_describe(sample, wasmpipe_bin, tmp_path):
    out = wasmpipe.compile(tp.typed_pipeline, tmp_path / "typed.json")  # JSON works too
    doc = json.loads(out.read_text())
    assert doc["components"]["split_op"] == {"path": "components/split_op.wasm"}
    p = subprocess.run([wasmpipe_bin, "validate", str(out), "--output", "json"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout) == {"errors": []}, p.stdout + p.stderr
    p = subprocess.run([wasmpipe_bin, "inspect", str(tmp_path / "components/scale_op.wasm"),
                        "--output", "json"], capture_output=True, text=True, check=True)
    sig = json.loads(p.stdout)
    assert sig["name"] == "scale_op"
    assert sig["description"].startswith("Multiplies x")
    assert [(i["name"], i["type"], i["required"], i["default"], i["description"])
            for i in sig["inputs"]] == [("x", "float", True, None, "the number to scale"),
                                        ("times", "int", False, 3, "how many times")]
    assert sig["outputs"] == [{"name": "output", "type": "float", "description": "x times times"}]
    p = subprocess.run([wasmpipe_bin, "inspect", str(tmp_path / "components/report_op.wasm"),
                        "--output", "json"], capture_output=True, text=True, check=True)
    assert [(i["name"], i["type"], i["required"]) for i in json.loads(p.stdout)["inputs"]] == [
        ("status", "final_status", False), ("half", "int", False), ("checked", "float", False),
        ("note", "string", False)]


def test_typed_values_and_body_outputs_reach_the_exit_task(run, tmp_path):
    out = wasmpipe.compile(tp.typed_pipeline, tmp_path / "typed.yaml")
    rc, rec, err = run(out)
    assert rc == 0, err
    o = rec["outputs"]
    # an int stays an int end to end; a float stays a float
    assert o["half"] == 3 and type(o["half"]) is int
    assert o["ratio"] == 1.5 and o["label"] == "n=6"
    assert o["scaled"] == 9.0 and type(o["scaled"]) is float
    report = json.loads(o["report"])
    assert report == {"note": "done", "state": "SUCCEEDED", "group": "cleanup",
                      "run_id_matches": True, "half": 3, "half_type": "int",
                      "checked": 9.0, "checked_type": "float", "failures": [],
                      "error_message": None}
    scale = next(t for t in rec["tasks"] if t["task"] == "scale-op")
    assert scale["logs"][0]["text"] == "x=3.0 (float) times=3 (int)"  # the int fed a float input

    # the body fails: the exit task still runs, sees the failure, and gets the outputs there are
    rc, rec, err = run(out, "-p", "limit=1")
    assert rc == 1 and rec["state"] == "failed"
    report = json.loads(rec["outputs"]["report"])
    assert report["state"] == "FAILED"
    assert report["half"] == 3 and report["half_type"] == "int"
    assert report["checked"] is None  # check-op failed: no output, the optional input is None
    assert report["failures"] == [["cleanup/check-op", "error", "ValueError: 9.0 is over the limit 1.0"]]
    check = next(t for t in rec["tasks"] if t["task"] == "check-op")
    assert check["failure"] == {"kind": "error", "message": "ValueError: 9.0 is over the limit 1.0"}
    assert any("Traceback" in line["text"] for line in check["logs"] if line["source"] == "stderr")


def test_control_flow_runs(run, tmp_path):
    out = wasmpipe.compile(tp.control_pipeline, tmp_path / "control.yaml")
    rc, rec, err = run(out, "-p", "limit=10")
    assert rc == 0, err
    assert rec["outputs"] == {"total": 6.0}
    states = {t["id"]: t["state"] for t in rec["tasks"]}
    assert states["big/items/0/cleanup/report-op"] == "succeeded"
    assert states["small/scale-op-2"] == "skipped"

    rc, rec, err = run(out, "-p", "limit=2")  # items 3 fails: its own handler reports it
    assert rc == 1
    by_id = {t["id"]: t for t in rec["tasks"]}
    assert by_id["big/items/2/cleanup/check-op"]["failure"]["kind"] == "error"
    reports = {i: json.loads(by_id[f"big/items/{i}/cleanup/report-op"]["outputs"]["output"])
               for i in range(3)}
    assert [reports[i]["state"] for i in range(3)] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]
    assert [reports[i]["checked"] for i in range(3)] == [1.0, 2.0, None]
    assert reports[2]["failures"] == [["big/items/2/cleanup/check-op", "error",
                                       "ValueError: 3.0 is over the limit 2.0"]]
    assert by_id["big/total-op"]["state"] == "skipped"

    rc, rec, err = run(out, "-p", "n=2")  # half is 1: the else branch
    assert rc == 0, err
    states = {t["id"]: t["state"] for t in rec["tasks"]}
    assert states["small/scale-op-2"] == "succeeded"
    assert states["big/total-op"] == "skipped"


def test_how_python_functions_end(run, tmp_path):
    out = wasmpipe.compile(tp.behaviour_pipeline, tmp_path / "behave.yaml")
    rc, rec, err = run(out)
    assert rc == 1
    got = {t["id"].split("/")[1]: (t["state"], t.get("failure"), t["outputs"]) for t in rec["tasks"]}
    assert got["0"] == ("succeeded", None, {"output": 7})
    assert got["1"][1] == {"kind": "error", "message": "RuntimeError: boom"}
    assert got["2"][1] == {"kind": "error", "message": "`behave_op` exited with status 3 (sys.exit)"}
    assert got["3"][1] == {"kind": "error", "message": "bad input"}
    assert got["4"][1] == {"kind": "error", "message":
                           "output `output` is declared int but the function returned str 'seven'"}
    assert got["5"][1] == {"kind": "error", "message": "`behave_op` returned no value for output `output`"}
    assert got["6"][1]["kind"] == "timeout"
    spin = next(t for t in rec["tasks"] if t["id"] == "modes/6/behave-op")
    # printed before the timeout (each line also says when, `at`)
    assert {"source": "stdout", "text": "mode spin"} in [{k: l[k] for k in ("source", "text")} for l in spin["logs"]]


def test_components_are_cached_by_source_hash(sample, tmp_path, monkeypatch):
    app = sample.print_op.app_py()
    key = _build.source_hash(app)
    wasm = _build.build_app(app, "print_op")
    assert wasm.name == f"{key}.wasm" and wasm.parent.name == "python-components"
    before = wasm.stat().st_mtime_ns
    t = time.monotonic()
    assert _build.build_app(app, "print_op") == wasm
    assert time.monotonic() - t < 1.0 and wasm.stat().st_mtime_ns == before
    assert _build.source_hash(app + "\n# changed\n") != key
    # the WIT takes part in the key
    wit = tmp_path / "wit"
    wit.mkdir()
    (wit / "pipeline.wit").write_text(_build.wit_dir().joinpath("pipeline.wit").read_text() + "\n")
    monkeypatch.setenv("WASMPIPE_WIT", str(wit))
    assert _build.source_hash(app) != key


def test_missing_toolchain_and_wit_errors_name_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("WASMPIPE_COMPONENTIZE_PY", str(tmp_path / "nope"))
    with pytest.raises(wasmpipe.BuildError, match="WASMPIPE_COMPONENTIZE_PY=.* is not an executable"):
        _build.componentize_py()
    monkeypatch.delenv("WASMPIPE_COMPONENTIZE_PY")
    monkeypatch.setenv("WASMPIPE_TOOLCHAINS", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(wasmpipe.BuildError, match="examples/polyglot/setup.sh --only py"):
        _build.componentize_py()
    monkeypatch.setenv("WASMPIPE_WIT", str(tmp_path))
    with pytest.raises(wasmpipe.BuildError, match="set WASMPIPE_WIT"):
        _build.wit_dir()


def test_artifacts_pass_between_components(run, wasmpipe_bin, tmp_path):
    out = wasmpipe.compile(ap.artifact_pipeline, tmp_path / "artifacts.yaml")
    # the components declare the artifacts in `describe`
    sigs = {}
    for name in ("make_numbers_op", "sum_lines_op"):
        p = subprocess.run([wasmpipe_bin, "inspect", str(tmp_path / f"components/{name}.wasm"),
                            "--output", "json"], capture_output=True, text=True, check=True)
        sigs[name] = json.loads(p.stdout)
    assert [(o["name"], o["type"]) for o in sigs["make_numbers_op"]["outputs"]] == [
        ("data", "artifact file (Dataset)"), ("output", "string")]
    assert [i["name"] for i in sigs["make_numbers_op"]["inputs"]] == ["n", "skip"]
    assert [(i["name"], i["type"], i["required"]) for i in sigs["sum_lines_op"]["inputs"]] == [
        ("data", "artifact file (Dataset)", True)]

    raw = tmp_path / "raw.txt"
    raw.write_text("10\n20\n\n5\n")
    rc, rec, err = run(out, "-a", f"raw={raw}", "-p", "n=5")
    assert rc == 0, err
    by_task = {t["task"]: t for t in rec["tasks"]}
    made = by_task["make-numbers-op"]["outputs"]
    art = made["data"]
    assert art["kind"] == "Dataset" and art["directory"] is False and art["name"] == "data"
    assert art["metadata"] == {"rows": 5, "source": {"generator": "range", "start": 1}}
    assert art["size"] == len("1\n2\n3\n4\n5\n") and art["digest"].startswith("blake3:")
    assert (tmp_path / "runs" / rec["run_id"] / art["path"]).read_text() == "1\n2\n3\n4\n5\n"
    assert made["output"] == "/out/data"  # the function's return value, beside the artifact
    summed = by_task["sum-lines-op"]["outputs"]
    assert summed["total"] == 15 and summed["rows"] == 5
    assert summed["seen"] == {"path": "/in/data", "uri": "/in/data", "name": "data",
                              "metadata": art["metadata"], "class": "Dataset"}
    assert rec["outputs"]["total"] == 15 and rec["outputs"]["data"]["kind"] == "Dataset"
    # a host file given with -a: no metadata
    host = by_task["sum-lines-op-2"]["outputs"]
    assert (host["total"], host["rows"], host["seen"]["name"], host["seen"]["metadata"]) == (
        35, -1, "raw", {})

    # an output artifact the function did not write fails the task, naming it
    rc, rec, err = run(out, "-a", f"raw={raw}", "-p", "skip=true")
    assert rc == 1
    by_task = {t["task"]: t for t in rec["tasks"]}
    assert by_task["make-numbers-op"]["failure"] == {
        "kind": "error", "message": "`make_numbers_op` did not write its output artifact `data` "
                                    "(write the file at `data.path`, /out/data)"}
    assert by_task["sum-lines-op"]["state"] == "skipped"

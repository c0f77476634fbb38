"""wasmpipe.run: pipelines run in this process through the native module (PyO3), with the
same records as the CLI, cancellable from another thread."""
import json
import subprocess
import threading
import time

import pytest

from conftest import ROOT, copy_with
import typed_pipeline as tp
import wasmpipe


def outcome(record):
    return {"state": record["state"], "outputs": record["outputs"],
            "tasks": sorted((t["id"], t["state"], (t.get("failure") or {}).get("kind"))
                            for t in record["tasks"])}


def test_a_pipeline_file_runs_in_process_as_the_cli_runs_it(run, rust_components, tmp_path):
    pipeline = copy_with(ROOT / "examples/exit-handler/pipeline.yaml", tmp_path / "p",
                         {n: rust_components / f"{n}.wasm" for n in ("print_op", "fail_op")})
    record = wasmpipe.run(pipeline, run_dir=tmp_path / "runs")
    assert record["state"] == "failed"
    _, cli_record, err = run(pipeline)
    assert outcome(record) == outcome(cli_record), err
    # written like the CLI's, unless told not to
    assert (tmp_path / "runs" / record["run_id"] / "record.json").is_file()
    quiet = wasmpipe.run(pipeline, run_dir=tmp_path / "quiet", write_record=False)
    assert quiet["state"] == "failed" and not (tmp_path / "quiet" / quiet["run_id"]).exists()


def test_a_dsl_pipeline_runs_with_typed_params(tmp_path):
    record = wasmpipe.run(tp.typed_pipeline, params={"n": 6, "limit": 1.0}, run_dir=tmp_path / "runs",
                          package_dir=tmp_path / "pkg")
    assert record["state"] == "failed"
    assert record["params"] == {"n": 6, "limit": 1.0}
    report = json.loads(record["outputs"]["report"])
    assert report["state"] == "FAILED" and report["half"] == 3


def test_an_invalid_pipeline_raises_with_every_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: bad\ncomponents: {}\nsteps:\n"
                   "  - {task: a, component: nope}\n  - {task: b, component: nope, after: [ghost]}\n")
    with pytest.raises(ValueError) as e:
        wasmpipe.run(bad, run_dir=tmp_path / "runs")
    assert "task `a` uses component `nope`, which is not declared" in str(e.value)
    assert "ghost" in str(e.value)
    assert not (tmp_path / "runs").exists(), "nothing ran"
    with pytest.raises(ValueError, match="timeout"):
        wasmpipe.run(bad, timeout="soon")


def test_a_run_is_cancelled_from_another_thread(rust_components, tmp_path):
    pipeline = copy_with(ROOT / "examples/exit-handler/loop.yaml", tmp_path / "p",
                         {n: rust_components / f"{n}.wasm" for n in ("exit_report", "spin_op")})
    token = wasmpipe.CancelToken()
    result = {}
    thread = threading.Thread(target=lambda: result.update(
        record=wasmpipe.run(pipeline, run_dir=tmp_path / "runs", timeout="10m", cancel=token)))
    thread.start()
    time.sleep(2)  # the spinning task is running (it would run for 10 minutes)
    token.cancel()
    thread.join(120)
    assert not thread.is_alive(), "cancel() stopped the run"
    record = result["record"]
    assert record["state"] == "cancelled", record
    by_task = {t["task"]: t for t in record["tasks"]}
    assert by_task["stuck"]["failure"]["kind"] == "cancelled"
    assert any(t["exit_handler"] and t["state"] == "succeeded" for t in record["tasks"]), record

"""KFP's own test pipelines through wasmpipe: each file of the corpus is compiled with only
its `kfp` imports changed (compile_one.py, in a process of its own), run with the wasmpipe CLI,
and its outcome checked against what KFP intends: the run's state (files under `failing/` fail,
the others succeed) and, where EXPECTED says so, tasks' states and outputs. Files that cannot
make sense in a sandbox are listed in SKIPPED with the reason. The last line is the summary,
`N passed, M failed` (skipped files counted apart).

    python run.py CORPUS_DIR [WASMPIPE_BIN] [-k SUBSTRING]
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Files that cannot make sense in a sandbox, with why (each read: a container image running a
# Linux tool, KFP's own test utilities or IR, the host's files).
_SHELL = "a container component running {} in a Linux image ({}); a WebAssembly sandbox has no such tool"
SKIPPED = {
    "valid/hello_world.py": _SHELL.format("`echo`", "ubi9/python-311"),
    "valid/critical/container_component_with_no_inputs.py": _SHELL.format("`echo hello world`", "ubi9/python-311"),
    "valid/essential/container_no_input.py": _SHELL.format("`echo hello world`", "ubi9/python-311"),
    "valid/critical/parameters_simple.py": _SHELL.format("`sh -c` with `jq`", "jetbrainsinfra/jq"),
    "valid/essential/pipeline_with_outputs.py": _SHELL.format("`sh -c` with `mkdir` and `echo`", "alpine"),
    "valid/essential/pipeline_with_after.py": _SHELL.format("`sh -c` with `echo`", "alpine"),
    "valid/two_step_pipeline.py": _SHELL.format("`sh -c` with `gsutil cp` to Cloud Storage", "google/cloud-sdk"),
    "valid/parallel_and_nested/pipeline_in_pipeline_complex.py": _SHELL.format("`echo`", "alpine"),
    "valid/essential/pipeline_with_reused_component.py":
        "imports KFP's own test utilities (sdk.python.test.test_utils) to load KFP's compiled IR of add_numbers",
    "valid/local_execution/local_execution_pipeline_with_retry.py":
        "counts its attempts in a file at a host path given as a parameter (KFP's local runner shares the "
        "host's files; a sandboxed task sees none unless granted, and the path is chosen by KFP's test)",
    "valid/component_with_task_final_status.py":
        "an exit-handler component compiled on its own: its final-status input has no body to report on "
        "(KFP compiles it, but no run can give it one)",
}

# Arguments for pipelines with parameters that have no default (a component compiled on its
# own, as KFP's tests compile them): what KFP's own tests pass, or a value of the type.
ARGS = {
    "valid/identity.py": ["-p", "value=hello"],
    "valid/essential/concat_message.py": ["-p", "message1=hello ", "-p", "message2=world"],
    "valid/essential/dict_input.py": ["-p", 'struct={"a": 1, "b": [2, 3]}'],
    "valid/critical/add_numbers.py": ["-p", "a=2", "-p", "b=40"],
    "valid/essential/lightweight_python_functions_pipeline.py": ["-p", "message=hello"],
    "valid/pipeline_with_parallelfor_parallelism.py": ["-p", 'loop_parameter=["a", "b"]'],
}

# Local stand-ins for remote files a pipeline imports (dsl.importer of gs://...: a required
# artifact parameter, which a run is given with `-a NAME=PATH`): parameter -> the file's text,
# written beside the compiled pipeline.
STAND_INS = {
    "valid/pythonic_artifact_with_single_return.py": {
        "importer": "A stand-in for gs://ml-pipeline-playground/shakespeare1.txt\n"},
}

# Beyond the run's state: what KFP intends of some files (task id -> state or output; a
# single return value is the output KFP calls `Output`, wasmpipe `output`; `a.b` reads field
# b of output a, an artifact's `metadata` or `size`).
EXPECTED = {
    "valid/identity.py": {"identity": {"output": "hello"}},
    "valid/essential/concat_message.py": {"concat-message": {"output": "hello world"}},
    "valid/critical/add_numbers.py": {"add-numbers": {"output": 42}},
    # OutputPath values read back by type, as KFP's launcher reads them (`True` is a bool)
    "valid/essential/lightweight_python_functions_pipeline.py": {
        "preprocess": {"output_parameter_path": "hello", "output_bool_parameter_path": True,
                       "output_dict_parameter_path": {"A": 1, "B": 2},
                       "output_list_parameter_path": ["a", "b", "c"],
                       "output_dataset_one.size": 5, "output_dataset_two_path.size": 5},
        "train": {"model.metadata": {"accuracy": 0.9}},
    },
    # list_dict_maker_1 loaded from its compiled file: a sub-pipeline whose output feeds a loop
    "valid/pipeline_with_parallelfor_parallelism.py": {
        "list-dict-maker-1-2/list-dict-maker-1": {"output": [{"a": 1, "b": 2}, {"a": 2, "b": 3},
                                                             {"a": 3, "b": 4}]},
        "for-loop-10/2/print-int-6": {"state": "succeeded"},
    },
    # a loop over the artifacts a sub-pipeline collects: one iteration per artifact made
    "valid/pipeline_with_parallelfor_list_artifacts.py": {
        "make-artifacts/for-loop-1/3/make-artifact": {"output.metadata": {"length": 6}},
        "for-loop-1/3/print-artifact-name": {"state": "succeeded"},
        "make-datasets/for-loop-1/0/make-dataset": {"output.kind": "Dataset"},
        "for-loop-2/3/print-artifact-name-2": {"state": "succeeded"},
    },
    # dill (pure Python, packages_to_install) pickles a function into the returned model
    "valid/pythonic_artifact_with_single_return.py": {
        "make-language-model": {"state": "succeeded", "output.kind": "Model"}},
}


# Files whose pipeline fails by design outside `failing/` (a body task that fails, to show
# what runs after it): KFP's run fails too.
FAILS_BY_DESIGN = {
    "samples-core/exit_handler/exit_handler.py": "its body's fail-op exits 1; the exit handler runs",
    "valid/pipeline_with_task_final_status.py": "its body's fail-op exits 1; the exit task reads the final status",
    "valid/pipeline_with_task_using_ignore_upstream_failure.py": "fail-op exits 1; the task after it runs anyway",
}


# Files whose outcome KFP leaves to chance, with why, and the attempts each task has (its
# retries + 1): the run must succeed, or fail only in tasks that used every attempt, each one
# failing (what the sample shows: retries honoured).
BY_CHANCE = {
    "samples-core/retry/retry.py": (
        "its components exit with a code drawn at random from 0-3 and from 0-1, retried 10 and 5 "
        "times: about 6% of runs fail, on KFP too",
        {"random-failure-op": 11, "random-failure-op-2": 6}),
}


def outcome_expected(rel: str) -> str:
    return "failed" if rel.startswith("valid/failing/") or rel in FAILS_BY_DESIGN else "succeeded"


def run_file(path: Path, rel: str, wasmpipe: str, work: Path) -> tuple:
    out = work / rel.replace("/", "__").removesuffix(".py")
    out.mkdir(parents=True)
    try:
        compiled = subprocess.run([sys.executable, str(HERE / "compile_one.py"), str(path), str(out)],
                                  capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return False, "compile: timed out after 900 s"
    lines = compiled.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        return False, f"compile: crashed: {compiled.stderr.strip()[-600:]}"
    if not result["ok"]:
        lines = result["error"].strip().splitlines()
        errors = [line.strip() for line in lines if "Error" in line]
        return False, f"{result['stage']}: {(errors or lines)[-1]}"
    args = list(ARGS.get(rel, []))
    for name, text in STAND_INS.get(rel, {}).items():
        (out / f"{name}.stand-in").write_text(text)
        args += ["-a", f"{name}={out / f'{name}.stand-in'}"]
    try:
        ran = subprocess.run([wasmpipe, "run", str(out / "pipeline.yaml"), "--output", "json", "--quiet",
                              "--run-dir", str(out / "runs"), *args],
                             capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        return False, "run: timed out after 600 s"
    try:
        record = json.loads(ran.stdout)
    except json.JSONDecodeError:
        return False, f"run: exit {ran.returncode}: {ran.stderr.strip()[-600:]}"
    if "errors" in record:
        return False, "validate: " + "; ".join(e["message"] for e in record["errors"])[:600]
    if not record["tasks"]:
        return False, "run: the compiled pipeline has no task"
    want = outcome_expected(rel)
    if record["state"] == "failed" and rel in BY_CHANCE:
        why, attempts = BY_CHANCE[rel]
        unlucky = [t for t in record["tasks"] if t["state"] == "failed"]
        if unlucky and all(len(t["attempts"]) == attempts.get(t["id"]) and all(a.get("failure") for a in t["attempts"])
                           for t in unlucky):
            return True, f"failed by chance ({why}): every attempt of {', '.join(t['id'] for t in unlucky)} failed"
    if record["state"] != want:
        failed = [f"{t['id']}: {t['failure']['kind']}: {t['failure']['message'][:200]}"
                  for t in record["tasks"] if t.get("failure")]
        return False, f"run: {record['state']}, KFP intends {want}; " + "; ".join(failed)[:600]
    tasks = {t["id"]: t for t in record["tasks"]}
    for task_id, expect in EXPECTED.get(rel, {}).items():
        got = tasks.get(task_id)
        if got is None:
            return False, f"check: no task `{task_id}`"
        for key, value in expect.items():
            if key == "state":
                have = got["state"]
            else:
                name, _, field = key.partition(".")
                have = got["outputs"].get(name)
                if field:
                    have = have.get(field) if isinstance(have, dict) else None
            if have != value:
                return False, f"check: `{task_id}` {key} = {have!r}, KFP intends {value!r}"
    return True, record["state"]


def main():
    args = sys.argv[1:]
    only = None
    if "-k" in args:
        i = args.index("-k")
        only = args[i + 1]
        del args[i:i + 2]
    corpus = Path(args[0]).resolve()
    wasmpipe = args[1] if len(args) > 1 else "wasmpipe"
    if not corpus.is_dir():
        print(f"no KFP corpus at {corpus}: give its directory (the first argument)", file=sys.stderr)
        return 2
    files = sorted(p for p in corpus.rglob("*.py"))
    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="kfp-conformance-") as tmp:
        for path in files:
            rel = path.relative_to(corpus).as_posix()
            if only and only not in rel:
                continue
            if rel in SKIPPED:
                skipped += 1
                print(f"SKIP {rel}: {SKIPPED[rel]}", flush=True)
                continue
            started = time.monotonic()
            ok, detail = run_file(path, rel, wasmpipe, Path(tmp))
            took = time.monotonic() - started
            if ok:
                passed += 1
                print(f"PASS {rel} ({took:.1f} s)", flush=True)
            else:
                failed += 1
                print(f"FAIL {rel} ({took:.1f} s): {detail}", flush=True)
    print(f"{skipped} skipped (cannot make sense in a sandbox; see SKIPPED in {Path(__file__).name})")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

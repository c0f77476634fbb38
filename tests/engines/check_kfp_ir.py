"""Compiles the example pipelines the KFP export maps (`wasmpipe compile --target kfp`),
parses each IR strictly into KFP's PipelineSpec, checks every reference in it, and runs it on
KFP's own local runner (kfp.local, SubprocessRunner, with `wasmpipe task-run` as each
container's command): the states of the tasks KFP ran must be those `wasmpipe run` gives the
same pipeline. Prints a line per pipeline and `N passed, M failed` last.

kfp.local refuses container components in its subprocess runner; this harness (only) turns
that check off, as the container's command is a local program here. kfp.local stops a DAG at
its first failure, so only the tasks it ran are compared.

    python check_kfp_ir.py REPO_ROOT WASMPIPE_BIN
"""
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from layout import lay_out
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

# The examples whose constructs the export maps (the others are refused, each with its place:
# see docs/export.md). All are also run on kfp.local, but for those in NOT_RUN.
PIPELINES = [
    "exit-handler/pipeline.yaml", "exit-handler/trap.yaml", "exit-handler/loop.yaml",
    "kfp-samples/exit_handler.yaml", "kfp-samples/exit_handler_with_task_final_status.yaml",
    "kfp-samples/caching.yaml", "kfp-samples/retry.yaml", "kfp-samples/sequential.yaml",
    "kfp-samples/condition.yaml", "kfp-samples/nested_condition.yaml", "kfp-samples/multiple_outputs.yaml",
    "kfp-samples/loop_static.yaml", "kfp-samples/loop_parallelism.yaml",
    "control-flow/loop.yaml", "control-flow/branches.yaml", "control-flow/square.yaml",
    "control-flow/sub_pipeline.yaml", "tests/engines/pipelines/one_of.yaml", "tests/engines/pipelines/upstream_failure.yaml",
    "tests/engines/pipelines/artifacts.yaml", "tests/engines/pipelines/command.yaml",
]
# Not run on kfp.local, and why (docs/export.md lists the differences).
NOT_RUN = {
    "exit-handler/loop.yaml": "a body that never ends (it waits for the 5-minute timeout on both engines)",
}


def references(ir: dict) -> list:
    """Every reference that does not resolve: component refs, executor labels, producer
    tasks and dependent tasks (within their DAG)."""
    problems = []
    components, executors = ir.get("components", {}), ir["deploymentSpec"]["executors"]
    dags = {"root": ir["root"]}
    dags.update({k: v for k, v in components.items() if "dag" in v})
    for name, comp in components.items():
        label = comp.get("executorLabel")
        if label is not None and label not in executors:
            problems.append(f"{name}: executor {label} is missing")
    for where, comp in dags.items():
        tasks = comp["dag"]["tasks"]
        inputs = set(comp.get("inputDefinitions", {}).get("parameters", {}))
        for task, spec in tasks.items():
            ref = spec["componentRef"]["name"]
            if ref not in components:
                problems.append(f"{where}/{task}: component {ref} is missing")
            for dep in spec.get("dependentTasks", []):
                if dep not in tasks:
                    problems.append(f"{where}/{task}: depends on {dep}, not a task of its DAG")
            for param, source in spec.get("inputs", {}).get("parameters", {}).items():
                for key in ("taskOutputParameter", "taskFinalStatus"):
                    if key in source and source[key]["producerTask"] not in tasks:
                        problems.append(f"{where}/{task}.{param}: producer {source[key]['producerTask']} is not in its DAG")
                if "componentInputParameter" in source and source["componentInputParameter"] not in inputs:
                    problems.append(f"{where}/{task}.{param}: {source['componentInputParameter']} is not an input of its DAG")
    return problems


# kfp.local's log line for a task's end (its logger writes to sys.stdout, with colors).
_STATUS = re.compile(r"Task \W*'([^']+)'\W* finished with status \W*(SUCCESS|FAILURE)")
_STARTED = re.compile(r"Executing task \W*'([^']+)'")
_RETRIED = re.compile(r"Task (\S+) failed \(attempt \d+/\d+\)\. Retrying")


# Parameters a pipeline needs (no default), given to both engines.
ARGS = {"control-flow/square.yaml": {"x": 1.5}}

# Pipelines whose path depends on a coin flip: run once per parameter set that forces it, so
# that both engines take the same branches, and every branch is taken.
VARIANTS = {
    "kfp-samples/condition.yaml": [{"force_flip_result": "heads"}, {"force_flip_result": "tails"}],
    "control-flow/branches.yaml": [{"n": 1}, {"n": 5}, {"n": 20}],
    "kfp-samples/nested_condition.yaml": [
        {"first": "heads", "second": "heads"}, {"first": "heads", "second": "tails"}, {"first": "tails"}],
}

# Artifact parameters a pipeline needs: a file written beside it (its text), given to
# `wasmpipe run` with -a, and to kfp.local as the path its importer imports.
ARTIFACTS = {"tests/engines/pipelines/artifacts.yaml": {"given": "5\n6\n"}}


def _resolve_channels_by_output_name():
    """The harness's second patch of kfp.local: its condition evaluator finds the task output
    a channel `pipelinechannel--TASK-OUTPUT` names only when OUTPUT is `Output` (a single
    return value) or written `TASK--OUTPUT`, so a condition on any other output (KFP's own
    IR for a multi-output task has the same names) does not resolve and the branch never
    runs. Where kfp.local finds nothing, this tries each split of the name into a task and
    an output, as KFP's backend reads the channel from the task's inputs."""
    from kfp.local.orchestrator import enhanced_dag_orchestrator as eo
    evaluator = eo.ConditionEvaluator
    if getattr(evaluator, "_wasmpipe_patched", False):
        return
    original = evaluator._resolve_pipeline_channel

    def resolve(channel_ref, io_store):
        value = original(channel_ref, io_store)
        if value is not None:
            return value
        name = channel_ref.replace("pipelinechannel--", "")
        for i in [i for i, c in enumerate(name) if c == "-"]:
            try:
                return io_store.get_task_output(name[:i], name[i + 1:])
            except Exception:
                continue
        return None

    evaluator._resolve_pipeline_channel = staticmethod(resolve)
    evaluator._wasmpipe_patched = True


def on_kfp_local(ir_file: Path, root: Path, bindir: Path, args: dict) -> tuple:
    """Task name -> its instances' states (sorted; a loop's task has one per iteration), and
    the pipeline's outputs, as kfp.local ran the IR."""
    from kfp import components, local
    from kfp.local import subprocess_task_handler
    subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component = lambda *a, **k: None
    _resolve_channels_by_output_name()
    os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ['PATH']}"
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(root))
    out = io.StringIO()
    outputs = {}
    # kfp.local says a task is retried through the root logger, at INFO: kept with the rest.
    import logging
    retries = logging.StreamHandler(out)
    retries.addFilter(lambda record: "Retrying" in record.getMessage())
    root_logger = logging.getLogger()
    root_logger.addHandler(retries)
    level = root_logger.level
    root_logger.setLevel(logging.INFO)
    with contextlib.redirect_stdout(out):
        try:
            task = components.load_component_from_file(str(ir_file))(**args)
            outputs = dict(task.outputs)
        except RuntimeError:
            pass  # a failed pipeline: its tasks' states are what is compared
        except Exception as e:  # kfp.local itself gave up: a problem of this pipeline, not the suite's end
            outputs = {"kfp.local": f"raised {type(e).__name__}: {e}"}
    root_logger.removeHandler(retries)
    root_logger.setLevel(level)
    if "kfp.local" in outputs:
        return {"kfp.local": [outputs["kfp.local"]]}, {}, ""
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    # Iterations run on threads, and kfp.local's log may lose a task's "finished" line among
    # theirs: every started instance counts, as failed when a FAILURE line says so.
    started = {}
    for m in _STARTED.finditer(text):
        started[m.group(1)] = started.get(m.group(1), 0) + 1
    # A retried attempt is no instance of its own: kfp.local logs its FAILURE, then a retry.
    retried = {}
    for m in _RETRIED.finditer(text):
        retried[m.group(1)] = retried.get(m.group(1), 0) + 1
    failed = {}
    for m in _STATUS.finditer(text):
        started.setdefault(m.group(1), 1)
        if m.group(2) == "FAILURE":
            failed[m.group(1)] = failed.get(m.group(1), 0) + 1
    for t, n in retried.items():
        started[t] = started.get(t, n) - n
        failed[t] = failed.get(t, n) - n
    states = {t: sorted(["failed"] * failed.get(t, 0) + ["succeeded"] * (n - failed.get(t, 0)))
              for t, n in started.items()}
    return states, outputs, text


def on_wasmpipe(wasmpipe: str, pipeline: Path, runs: Path, args: dict, given: list) -> tuple:
    """Task name -> its instances' states (sorted), and the pipeline's outputs, as
    `wasmpipe run` ran the pipeline."""
    # `-p` takes a string as it is, any other value as JSON
    params = [a for k, v in args.items() for a in ("-p", f"{k}={v if isinstance(v, str) else json.dumps(v)}")]
    p = subprocess.run([wasmpipe, "run", str(pipeline), "--output", "json", "--run-dir", str(runs), *params, *given],
                       capture_output=True, text=True)
    record = json.loads(p.stdout)
    states = {}
    for t in record["tasks"]:
        states.setdefault(t["task"], []).append(t["state"])
    finals = [t["final_status"] for t in record["tasks"] if t.get("final_status")]
    return {k: sorted(v) for k, v in states.items()}, record.get("outputs", {}), finals


def normalised(value):
    """A value with numbers as floats (kfp.local turns ints into floats)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    return value


def failed_run_of(states: dict) -> bool:
    """Whether kfp.local's run had a failed task (it then stops the DAG early)."""
    return any("failed" in v for v in states.values())


def sub_multiset(small: list, big: list) -> bool:
    """Whether every state in `small` is in `big`, as many times."""
    rest = list(big)
    for s in small:
        if s not in rest:
            return False
        rest.remove(s)
    return True


def compare(rel: str, args: dict, ir: Path, tmp: Path, work: Path, wasmpipe: str) -> tuple:
    """Runs the IR on kfp.local and the pipeline with `wasmpipe run`, with parameters `args`:
    the differences, and how many task runs and outputs were compared."""
    work.mkdir()
    problems = []
    given = []
    artifacts = ARTIFACTS.get(rel, {})
    for name, text in artifacts.items():
        (work / f"{name}.txt").write_text(text)
        args[name] = str(work / f"{name}.txt")
        given += ["-a", f"{name}={work / f'{name}.txt'}"]
    kfp_states, kfp_outputs, kfp_log = on_kfp_local(ir, work / "kfp-root", tmp / "bin", args)
    plain = {k: v for k, v in args.items() if k not in artifacts}
    ours, our_outputs, finals = on_wasmpipe(wasmpipe, tmp / "pipeline.yaml", work / "runs", plain, given)
    # An exit task gets every failure of its body, as wasmpipe gives it (kind, trap code, task):
    # `exit_report` logs one line per failure it got.
    reported = " of run " in kfp_log  # an exit task that reports its final status ran
    listed = len(re.findall(r"\] +\S+ failed: [a-z_]+ \(", kfp_log))
    expected = sum(len(f["failures"]) for f in finals)
    if reported and not failed_run_of(kfp_states) and listed != expected:
        problems.append(f"the exit tasks on kfp.local list {listed} failure(s) in all, wasmpipe's {expected}")
    for final in finals if reported else []:
        for f in final["failures"]:
            # KFP gives a container no iteration number: a loop's part of the id is `*` there.
            task = "/".join("*" if part.isdigit() else part for part in f["task"].split("/"))
            line = f"{task} failed: {f['kind']} ({f.get('trap_code') or '-'})"
            if f["task"].split("/")[-1] in kfp_states and line not in kfp_log:
                problems.append(f"exit task of `{final['group']}` on kfp.local: no `{line}` in its final status")
    # kfp.local names a task by its component (`comp-make-2` is `make-2`): back to the task's
    # name, for tasks whose component the export named apart from another's.
    spec = yaml.safe_load(ir.read_text())
    dags = [spec["root"]] + [c for c in spec["components"].values() if "dag" in c]
    named = {t["componentRef"]["name"].removeprefix("comp-"): name
             for d in dags for name, t in d["dag"]["tasks"].items()}
    for label in [k for k in kfp_states if k not in ours and named.get(k, k) != k]:
        kfp_states.setdefault(named[label], []).extend(kfp_states.pop(label))
        kfp_states[named[label]].sort()
    # KFP imports an artifact parameter with a task of its own; wasmpipe reads it in place.
    for name in artifacts:
        kfp_states.pop(f"importer-{name.lower().replace('_', '-')}", None)
    if not kfp_states:
        problems.append("kfp.local ran no task")
    # kfp.local stops at the first failure: after one, it may have run fewer.
    failed_run = any("failed" in v for v in kfp_states.values())
    for task, states in sorted(kfp_states.items()):
        same = sub_multiset(states, ours.get(task, [])) if failed_run else states == ours.get(task)
        if not same:
            problems.append(f"task {task}: kfp.local {states}, wasmpipe {ours.get(task)}")
    if not failed_run:
        for task, states in sorted(ours.items()):
            ran = [x for x in states if x in ("succeeded", "failed")]
            if ran and task not in kfp_states:
                problems.append(f"task {task}: wasmpipe {ran}, not run on kfp.local")
    for name, value in sorted(kfp_outputs.items()):
        if normalised(value) != normalised(our_outputs.get(name)):
            problems.append(f"output {name}: kfp.local {value!r}, wasmpipe {our_outputs.get(name)!r}")
    if not failed_run and set(kfp_outputs) != set(our_outputs):
        problems.append(f"outputs: kfp.local {sorted(kfp_outputs)}, wasmpipe {sorted(our_outputs)}")
    return problems, (sum(len(v) for v in kfp_states.values()), len(kfp_outputs))


def main():
    root, wasmpipe = Path(sys.argv[1]), sys.argv[2]
    passed = failed = 0
    for rel in PIPELINES:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            lay_out(root, rel, tmp)
            out = tmp / "ir.yaml"
            p = subprocess.run([wasmpipe, "compile", str(tmp / "pipeline.yaml"), "--target", "kfp", "-o", str(out),
                                "--components-dir", str(tmp / "components")],
                               capture_output=True, text=True)
            problems = [] if p.returncode == 0 else [p.stderr.strip()]
            note = f"IR checked; not run: {NOT_RUN.get(rel)}"
            if not problems:
                ir = yaml.safe_load(out.read_text())
                try:
                    json_format.ParseDict(ir, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False)
                except json_format.ParseError as e:
                    problems.append(f"not a PipelineSpec: {e}")
                problems += references(ir)
            if not problems and rel not in NOT_RUN:
                (tmp / "bin").mkdir()
                os.symlink(os.path.abspath(wasmpipe), tmp / "bin/wasmpipe")
                runs = outputs = 0
                for i, variant in enumerate(VARIANTS.get(rel, [{}])):
                    found, counted = compare(rel, dict(ARGS.get(rel, {}), **variant), out, tmp, tmp / f"v{i}", wasmpipe)
                    problems += [f"with {variant}: {p}" if variant else p for p in found]
                    runs, outputs = runs + counted[0], outputs + counted[1]
                note = f"{runs} task run(s) on kfp.local, in wasmpipe's states; {outputs} output(s) equal"
                if rel in VARIANTS:
                    note += f" ({len(VARIANTS[rel])} runs, one per parameter set)"
        if problems:
            failed += 1
            print(f"FAIL {rel}", file=sys.__stdout__, flush=True)
            for line in problems:
                print(f"     {line}", file=sys.__stdout__, flush=True)
        else:
            passed += 1
            print(f"ok   {rel}: {note}", file=sys.__stdout__, flush=True)
    print(f"{passed} passed, {failed} failed", file=sys.__stdout__, flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

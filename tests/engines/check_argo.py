"""Compiles the example pipelines the Argo export maps (`wasmpipe compile --target argo`),
reads each Workflow back through hera's model of Argo's API (`hera.workflows.models.Workflow`,
generated from Argo's OpenAPI schema: a field it does not know is dropped, a value of the wrong
type is refused), which must give the document back unchanged, and checks every reference in
it the way Argo's validation does: template names, `depends`, arguments against each
template's inputs, and each `{{...}}` tag (workflow parameters, the DAG template's inputs, the
outputs of the tasks a task depends on, a task's own status in its exit hook only, `retries`
only with a `retryStrategy`). Prints a line per pipeline and `N passed, M failed` last.

    python check_argo.py REPO_ROOT WASMPIPE_BIN
"""
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from hera.workflows.models import Workflow

from layout import lay_out

# The examples whose constructs the Argo export maps (the others are refused, each with its
# place: see docs/export.md, "Argo Workflows").
PIPELINES = [
    "exit-handler/pipeline.yaml", "exit-handler/trap.yaml", "exit-handler/loop.yaml",
    "kfp-samples/exit_handler.yaml", "kfp-samples/exit_handler_with_task_final_status.yaml",
    "kfp-samples/caching.yaml", "kfp-samples/retry.yaml", "kfp-samples/sequential.yaml",
    "kfp-samples/condition.yaml", "kfp-samples/pipeline_parallelism_limits.yaml",
    "control-flow/loop.yaml", "control-flow/branches.yaml", "control-flow/big_loop.yaml",
    "control-flow/square.yaml", "kfp-samples/loop_static.yaml", "kfp-samples/loop_parallelism.yaml",
    "kfp-samples/multiple_outputs.yaml",
    "kfp-samples/nested_condition.yaml", "control-flow/sub_pipeline.yaml",
    "tests/engines/pipelines/artifacts.yaml", "tests/engines/pipelines/one_of.yaml",
    "tests/engines/pipelines/command.yaml", "tests/engines/pipelines/upstream_failure.yaml",
]
# Pipelines the Argo export refuses in part, and the reasons it may give (each refusal must
# give one of them). The rest is checked without the top-level steps and outputs refused, and
# without what then reads them (what validation then finds missing, dropped the same way).
PARTLY = {
    "tests/engines/pipelines/artifacts.yaml": [
        "a list of artifacts (collected over a loop) is not exported to Argo",
        "is read outside the group that holds branch",
        "a loop over artifacts",
    ],
}
PLACE = re.compile(r"at `(steps\[(\d+)\][^`]*|outputs\.([^`.]+))`: (.*)")

OUTPUTS_DIR = "/tmp/outputs"
NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]*$")
TAG = re.compile(r"\{\{(=?)(.*?)\}\}")
# References inside an `expr` expression, as the export writes them.
EXPR_TASK_OUTPUT = re.compile(r"tasks\['([^']+)'\]\.outputs\.parameters\['([^']+)'\]")
EXPR_INPUT = re.compile(r"inputs\.parameters\['([^']+)'\]")
EXPR_PARAM = re.compile(r"workflow\.parameters\['([^']+)'\]")
ARTIFACT_OUTPUTS_DIR = "/tmp/artifacts/outputs"
ARTIFACT_INPUTS_DIR = "/tmp/artifacts/inputs"
EXPR_STATUS = re.compile(r"tasks\['([^']+)'\]\.status")
# A term of `depends`: a task's success, or (for ignore_upstream_failure) any end of it.
# A `one_of`'s term: a branch succeeded, or none ran (and the fallback succeeded).
ONE_OF = re.compile(r"^\((\S+\.Succeeded)( \|\| \S+\.Succeeded)*( \|\| \((\S+\.Skipped)( && \S+\.Skipped)*( && \S+\.Succeeded)?\))?\)$")
RESULT = re.compile(r"([A-Za-z][-A-Za-z0-9]*)\.(Succeeded|Skipped)")
HOWEVER = re.compile(r"^\((\S+)\.Succeeded \|\| \1\.Failed \|\| \1\.Errored \|\| \1\.Skipped \|\| \1\.Omitted\)$")


def round_trip(doc: dict) -> list:
    """Where hera's model of the Workflow differs from `doc` (dropped or changed values)."""
    try:
        back = Workflow.model_validate(doc).model_dump(by_alias=True, exclude_none=True, mode="json")
    except ValueError as e:  # pydantic's ValidationError
        return [f"not an Argo Workflow: {e}"]
    problems = []

    def walk(a, b, at):
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in b:
                    problems.append(f"{at}.{k}: dropped by hera's model")
                elif k not in a:
                    problems.append(f"{at}.{k}: added by hera's model")
                else:
                    walk(a[k], b[k], f"{at}.{k}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{at}[{i}]")
        elif a != b or type(a) is not type(b):
            problems.append(f"{at}: {a!r} came back as {b!r}")

    walk(doc, back, "")
    return problems


def top_level_and(text: str) -> list:
    """The terms of `depends` joined by ` && ` outside parentheses."""
    terms, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += {"(": 1, ")": -1}.get(c, 0)
        if depth == 0 and text.startswith(" && ", i):
            terms.append(text[start:i])
            start = i + 4
    terms.append(text[start:])
    return [t for t in terms if t]


def references(wf: dict) -> list:
    """Every name or `{{...}}` reference of the Workflow that does not resolve."""
    problems = []
    spec = wf["spec"]
    params = {p["name"] for p in spec.get("arguments", {}).get("parameters", [])}
    templates = {}
    for t in spec["templates"]:
        if t["name"] in templates:
            problems.append(f"template {t['name']} is defined twice")
        templates[t["name"]] = t
    if spec["entrypoint"] not in templates:
        problems.append(f"entrypoint {spec['entrypoint']} is not a template")

    def inputs_of(t):
        return {p["name"] for p in t.get("inputs", {}).get("parameters", [])}

    def outputs_of(t):
        return {p["name"] for p in t.get("outputs", {}).get("parameters", [])}

    def input_artifacts(t):
        return {a["name"] for a in t.get("inputs", {}).get("artifacts", [])}

    def output_artifacts(t):
        return {a["name"] for a in t.get("outputs", {}).get("artifacts", [])}

    given = {a["name"] for a in spec.get("arguments", {}).get("artifacts", [])}
    if given != input_artifacts(templates.get(spec["entrypoint"], {})):
        problems.append(f"spec.arguments.artifacts {sorted(given)} are not the entrypoint's input artifacts")

    called = {spec["entrypoint"]}
    for t in spec["templates"]:
        if "dag" not in t:
            continue
        tasks = {x["name"]: x for x in t["dag"]["tasks"]}
        dag_inputs = inputs_of(t)
        for name, task in tasks.items():
            where = f"{t['name']}/{name}"
            if not NAME.match(name):
                problems.append(f"{where}: not an Argo task name")
            deps = set()
            for term in filter(None, top_level_and(task.get("depends", ""))):
                if ONE_OF.match(term):
                    names = [m.group(1) for m in RESULT.finditer(term)]
                    deps.update(names)
                    if any(n not in tasks for n in names):
                        problems.append(f"{where}: depends on `{term}`, which names a task not in its DAG")
                    continue
                m = HOWEVER.match(term)
                dep = m.group(1) if m else term.removesuffix(".Succeeded")
                if (dep == term and not m) or dep not in tasks:
                    problems.append(f"{where}: depends on `{term}`, not the success of a task of its DAG")
                deps.add(dep)

            def artifact_from(at, text, deps):
                parts = text.removeprefix("{{").removesuffix("}}").split(".")
                if parts[:2] == ["inputs", "artifacts"] and len(parts) == 3:
                    if parts[2] not in input_artifacts(t):
                        problems.append(f"{at}: {parts[2]} is not an input artifact of template {t['name']}")
                elif parts[0] == "tasks" and len(parts) == 5 and parts[2:4] == ["outputs", "artifacts"]:
                    if parts[1] not in deps:
                        problems.append(f"{at}: reads task {parts[1]}'s artifact, which it does not depend on")
                    elif parts[4] not in output_artifacts(templates.get(tasks[parts[1]]["template"], {})):
                        problems.append(f"{at}: task {parts[1]} has no output artifact {parts[4]}")
                else:
                    problems.append(f"{at}: `from: {text}` is not an input artifact or a task's output artifact")

            def resolve(at, text, hook=False):
                for is_expr, body in TAG.findall(text):
                    if is_expr:
                        refs = [("output", m.group(1), m.group(2)) for m in EXPR_TASK_OUTPUT.finditer(body)]
                        refs += [("input", m.group(1), None) for m in EXPR_INPUT.finditer(body)]
                        refs += [("param", m.group(1), None) for m in EXPR_PARAM.finditer(body)]
                        refs += [("dep", m.group(1), None) for m in EXPR_STATUS.finditer(body)]
                        if not refs:
                            problems.append(f"{at}: expression `{body}` reads nothing")
                    else:
                        parts = body.strip().split(".")
                        if parts[:2] == ["workflow", "parameters"] and len(parts) == 3:
                            refs = [("param", parts[2], None)]
                        elif parts[:2] == ["inputs", "parameters"] and len(parts) == 3:
                            refs = [("input", parts[2], None)]
                        elif parts[0] == "tasks" and len(parts) == 5 and parts[2:4] == ["outputs", "parameters"]:
                            refs = [("output", parts[1], parts[4])]
                        elif parts[0] == "tasks" and len(parts) == 3 and parts[2] == "status":
                            refs = [("status", parts[1], None)]
                        elif parts[0] == "item" and len(parts) <= 2:
                            refs = [("item", None, None)]
                        else:
                            problems.append(f"{at}: unknown reference `{{{{{body}}}}}`")
                            refs = []
                    for kind, a, b in refs:
                        if kind == "param" and a not in params:
                            problems.append(f"{at}: workflow parameter {a} is not declared")
                        elif kind == "input" and a not in dag_inputs:
                            problems.append(f"{at}: {a} is not an input of template {t['name']}")
                        elif kind == "output":
                            if a not in deps:
                                problems.append(f"{at}: reads task {a}, which it does not depend on")
                            elif b not in outputs_of(templates.get(tasks[a]["template"], {})):
                                problems.append(f"{at}: task {a} has no output {b}")
                        elif kind == "dep" and a not in deps:
                            problems.append(f"{at}: reads the status of task {a}, which it does not depend on")
                        elif kind == "item" and not ("withItems" in task or "withParam" in task) or (kind == "item" and hook):
                            problems.append(f"{at}: {{{{item}}}} outside a task with withItems or withParam")
                        elif kind == "status" and not (hook and a == name):
                            problems.append(f"{at}: the status of {a} is read outside {a}'s exit hook")

            calls = [(where, task, False)]
            if "exit" in task.get("hooks", {}):
                calls.append((f"{where}.hooks.exit", task["hooks"]["exit"], True))
            for at, call, hook in calls:
                target = templates.get(call["template"])
                if target is None:
                    problems.append(f"{at}: template {call['template']} is missing")
                    continue
                called.add(call["template"])
                given = [p["name"] for p in call.get("arguments", {}).get("parameters", [])]
                if sorted(given) != sorted(inputs_of(target)):
                    problems.append(f"{at}: arguments {sorted(given)} for the inputs {sorted(inputs_of(target))}")
                for p in call.get("arguments", {}).get("parameters", []):
                    resolve(f"{at}.{p['name']}", p["value"], hook)
                given = [a["name"] for a in call.get("arguments", {}).get("artifacts", [])]
                if sorted(given) != sorted(input_artifacts(target)):
                    problems.append(f"{at}: artifacts {sorted(given)} for the input artifacts {sorted(input_artifacts(target))}")
                for a in call.get("arguments", {}).get("artifacts", []):
                    artifact_from(f"{at}.{a['name']}", a.get("from", ""), deps)
            if "when" in task:
                resolve(f"{where}.when", task["when"])
            if "withParam" in task:
                resolve(f"{where}.withParam", task["withParam"])
            if "withItems" in task and not isinstance(task["withItems"], list):
                problems.append(f"{where}: withItems is not a list")
        for a in t.get("outputs", {}).get("artifacts", []):
            artifact_from(f"{t['name']}.outputs.artifacts.{a['name']}", a.get("from", ""), set(tasks))
        # A DAG's outputs come from its tasks' declared outputs.
        for p in t.get("outputs", {}).get("parameters", []):
            at = f"{t['name']}.outputs.{p['name']}"
            value_from = p.get("valueFrom", {})
            refs = [m.groups() for m in EXPR_TASK_OUTPUT.finditer(value_from.get("expression", ""))]
            for body in re.findall(r"\{\{(.*?)\}\}", value_from.get("parameter", "")):
                parts = body.split(".")
                if parts[0] == "tasks" and len(parts) == 5 and parts[2:4] == ["outputs", "parameters"]:
                    refs.append((parts[1], parts[4]))
                else:
                    problems.append(f"{at}: unknown reference `{{{{{body}}}}}`")
            if not refs:
                problems.append(f"{at}: reads no task's output")
            for a, b in refs:
                if a not in tasks:
                    problems.append(f"{at}: task {a} is not in the DAG")
                elif b not in outputs_of(templates.get(tasks[a]["template"], {})):
                    problems.append(f"{at}: task {a} has no output {b}")
    for t in spec["templates"]:
        if t["name"] not in called:
            problems.append(f"template {t['name']} is never called")
        if "container" not in t:
            continue
        args = t["container"]["args"]
        text = " ".join(args) + " " + t.get("memoize", {}).get("key", "")
        for is_expr, body in TAG.findall(text):
            body = body.strip()
            if is_expr:
                if "inputs.parameters" not in body or not inputs_of(t):
                    problems.append(f"{t['name']}: expression `{body}` without inputs")
            elif body.startswith("inputs.parameters."):
                if body.split(".", 2)[2] not in inputs_of(t):
                    problems.append(f"{t['name']}: {body} is not an input")
            elif body == "retries":
                if "retryStrategy" not in t:
                    problems.append(f"{t['name']}: {{{{retries}}}} without a retryStrategy")
            elif body != "workflow.name":
                problems.append(f"{t['name']}: unknown reference `{{{{{body}}}}}`")
        for name in inputs_of(t):
            if f"{{{{inputs.parameters.{name}}}}}" not in " ".join(args):
                problems.append(f"{t['name']}: input {name} is not passed to task-run")
        # Artifacts: where Argo puts each input and task-run reads it; where task-run places
        # each output and Argo uploads it from.
        for side, flag, base in (("inputs", "--artifact", ARTIFACT_INPUTS_DIR), ("outputs", "--artifact-output", ARTIFACT_OUTPUTS_DIR)):
            passed = {args[i + 1] for i, a in enumerate(args) if a == flag}
            for a in t.get(side, {}).get("artifacts", []):
                if a.get("path") != f"{base}/{a['name']}" or f"{a['name']}={a.get('path')}" not in passed:
                    problems.append(f"{t['name']}: {side} artifact {a['name']} at {a.get('path')} is not task-run's {flag}")
            if len(passed) != len(t.get(side, {}).get("artifacts", [])):
                problems.append(f"{t['name']}: {flag} {sorted(passed)} for the {side} artifacts")
        if args[args.index("--outputs-dir") + 1] != OUTPUTS_DIR:
            problems.append(f"{t['name']}: task-run writes its outputs elsewhere than {OUTPUTS_DIR}")
        for p in t.get("outputs", {}).get("parameters", []):
            if p["valueFrom"]["path"] != f"{OUTPUTS_DIR}/{p['name']}":
                problems.append(f"{t['name']}: output {p['name']} is read from {p['valueFrom']['path']}")
    return problems


def main():
    root, wasmpipe = Path(sys.argv[1]), sys.argv[2]
    passed = failed = 0
    for rel in PIPELINES:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            lay_out(root, rel, tmp)
            problems, partly, dropped = [], PARTLY.get(rel), []
            if partly:
                doc = yaml.safe_load((tmp / "pipeline.yaml").read_text())
                for round in range(8):
                    p = subprocess.run([wasmpipe, "compile", str(tmp / "pipeline.yaml"), "--target", "argo", "-o", str(tmp / "refused.yaml")],
                                       capture_output=True, text=True)
                    if p.returncode == 0:
                        break
                    places = [PLACE.search(l) for l in p.stderr.splitlines() if l.startswith("error:")]
                    if not places or None in places:
                        problems.append(f"refused at no place it can leave out: {p.stderr.strip()}")
                        break
                    for m in places:
                        # The export's refusals, each for a reason expected (later rounds: what
                        # validation finds missing once they are left out).
                        export = "cannot compile to an Argo Workflow" in m.group(4)
                        if (round == 0 or export) and not any(reason in m.group(4) for reason in partly):
                            problems.append(f"refused at `{m.group(1)}` for an unexpected reason: {m.group(4)}")
                    if round == 0 and not any("cannot compile to an Argo Workflow" in m.group(4) for m in places):
                        problems.append("expected refusals, got none")
                    steps = {int(m.group(2)) for m in places if m.group(2) is not None}
                    outputs = {m.group(3) for m in places if m.group(3) is not None}
                    dropped += [f"steps[{i}]" for i in sorted(steps)] + [f"outputs.{o}" for o in sorted(outputs)]
                    doc["steps"] = [s for i, s in enumerate(doc["steps"]) if i not in steps]
                    doc["outputs"] = {k: v for k, v in doc.get("outputs", {}).items() if k not in outputs}
                    (tmp / "pipeline.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
            out = tmp / "workflow.yaml"
            p = subprocess.run([wasmpipe, "compile", str(tmp / "pipeline.yaml"), "--target", "argo", "-o", str(out)],
                               capture_output=True, text=True)
            problems += [] if p.returncode == 0 else [p.stderr.strip()]
            note = ""
            if not problems:
                doc = yaml.safe_load(out.read_text())
                # YAML and JSON give one document.
                problems += round_trip(json.loads(json.dumps(doc)))
                problems += references(doc)
                templates = doc["spec"]["templates"]
                note = f"{len(templates)} templates, hera's model round-trips it, references resolve"
                if partly:
                    note += f"; refused in part, checked without {', '.join(dropped)}"
        if problems:
            failed += 1
            print(f"FAIL {rel}")
            for line in problems:
                print(f"     {line}")
        else:
            passed += 1
            print(f"ok   {rel}: {note}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

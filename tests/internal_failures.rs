//! Internal failures never skip a handler or fake a result (`docs/semantics.md`, rule 11, kind
//! `internal`): panics injected into the runner, a worker and the scheduler (the
//! `fault-injection` feature, `host/src/faults.rs`), and worker threads that cannot start.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Case, command, task};
use serde_json::Value;

/// A group whose body has a task `a`, a task `b` that runs after it, and an independent `c`;
/// its exit task reports what it received.
const GROUP: &str = "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: a, component: fault, inputs: {mode: ok}}\n        - {task: b, component: fault, inputs: {mode: ok}, after: [a]}\n        - {task: c, component: fault, inputs: {mode: ok}}\n";

/// Runs `case` with `--output json` and the environment `env`, killing it if it does not end
/// within a minute (a hang is a failure, not a stuck test): exit code and parsed record.
fn run_with(case: &Case, env: &[(&str, &str)], args: &[&str]) -> (i32, Value, String) {
    let mut cmd = command();
    cmd.args(["run", case.file.to_str().unwrap(), "--output", "json", "--run-dir", case.runs().to_str().unwrap()])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        out.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the run did not end within a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (reader.join().unwrap(), err_reader.join().unwrap());
    let record = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (status.code().unwrap_or(-1), record, stderr)
}

/// The record the run wrote in its run directory.
fn written_record(case: &Case, record: &Value) -> Value {
    let path = case.runs().join(record["run_id"].as_str().unwrap()).join("record.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Ensures that a panic while wasmpipe gets a task ready (under the run's lock), while its
/// worker runs it, while the worker builds its record, or while the scheduler records its end,
/// fails that task with kind `internal` naming the panic; its dependent is skipped, the
/// independent task runs, the exit handler runs and receives the failure, the run fails (exit
/// 1) and its record is written.
#[test]
fn a_panic_fails_its_task_with_internal_and_the_handler_runs() {
    for point in ["prepare", "attempt", "record", "scheduler-finish"] {
        let case = Case::new(GROUP);
        let (code, record, stderr) = run_with(&case, &[("WASMPIPE_INJECT_PANIC", &format!("{point}:g/a"))], &[]);
        assert_eq!(code, 1, "{point}: {record:#}\n{stderr}");
        let a = task(&record, "g/a");
        assert_eq!(a["state"], "failed", "{point}");
        assert_eq!(a["failure"]["kind"], "internal", "{point}");
        let message = a["failure"]["message"].as_str().unwrap();
        assert!(message.contains("injected panic") && message.contains("bug in wasmpipe"), "{point}: {message}");
        assert!(a["outputs"].as_object().is_none_or(|o| o.is_empty()), "{point}: a failed task has no outputs");
        assert_eq!(task(&record, "g/b")["skip"]["reason"], "upstream_failed", "{point}");
        assert_eq!(task(&record, "g/c")["state"], "succeeded", "{point}");
        let e = task(&record, "g/e");
        assert_eq!(e["state"], "succeeded", "{point}: the handler ran");
        assert_eq!(e["final_status"]["state"], "failed", "{point}");
        assert_eq!(e["final_status"]["failures"][0]["task"], "g/a", "{point}");
        assert_eq!(e["final_status"]["failures"][0]["kind"], "internal", "{point}");
        assert_eq!(record["state"], "failed", "{point}");
        assert_eq!(written_record(&case, &record)["tasks"], record["tasks"], "{point}: the record was written");
    }
}

/// Ensures that a panic in the scheduler's pass (which no task can be blamed for) stops new
/// body tasks as an interruption does: the dependent step is skipped naming the internal
/// error, the handler of the entered group still runs and sees its group failed, the run fails
/// (exit 1) and its record is written.
#[test]
fn a_panic_in_the_scheduler_stops_new_work_and_the_handler_runs() {
    let case = Case::new(GROUP);
    let (code, record, stderr) = run_with(&case, &[("WASMPIPE_INJECT_PANIC", "scheduler-next:g/a")], &["--jobs", "1"]);
    assert_eq!(code, 1, "{record:#}\n{stderr}");
    assert_eq!(task(&record, "g/a")["state"], "succeeded");
    let b = task(&record, "g/b");
    assert_eq!(b["state"], "skipped");
    assert!(b["skip"]["cause"].as_str().unwrap().starts_with("internal error: injected panic"), "{b:#}");
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded", "the handler ran");
    assert_eq!(e["final_status"]["state"], "failed");
    assert_eq!(record["state"], "failed");
    assert_eq!(written_record(&case, &record)["state"], "failed");
}

/// Ensures that when no worker thread can start, a run with `--jobs 4` and independent tasks
/// neither hangs nor loses a task: the caller's own thread runs them all.
#[test]
fn worker_threads_that_cannot_start_do_not_hang_the_run() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: a, component: fault, inputs: {mode: nap, n: 50}}\n  - {task: b, component: fault, inputs: {mode: nap, n: 50}}\n  - {task: c, component: fault, inputs: {mode: nap, n: 50}}\n  - {task: d, component: fault, inputs: {mode: nap, n: 50}}\n",
    );
    let (code, record, stderr) = run_with(&case, &[("WASMPIPE_INJECT_FAULT", "worker-start")], &["--jobs", "4"]);
    assert_eq!(code, 0, "{record:#}\n{stderr}");
    for id in ["a", "b", "c", "d"] {
        assert_eq!(task(&record, id)["state"], "succeeded", "{id}");
    }
}

/// Ensures that exit components see the kind `internal` by the version of the WIT they were
/// built against: one built with the current SDK (0.2.0) receives `internal`; one built
/// against `wasmpipe:pipeline@0.1.0` still loads, runs, logs through the 0.1.0 host interface,
/// and receives `error` in its place (other kinds unchanged).
#[test]
fn exit_components_see_internal_by_their_wit_version() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: new\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: a, component: fault, inputs: {mode: ok}}\n        - {task: t, component: fault, inputs: {mode: unreachable}}\n  - exit_handler:\n      name: old\n      exit: {task: e2, component: legacy_exit}\n      steps:\n        - {task: a2, component: fault, inputs: {mode: ok}}\n        - {task: t2, component: fault, inputs: {mode: unreachable}}\n",
    );
    let (code, record, stderr) = run_with(&case, &[("WASMPIPE_INJECT_PANIC", "attempt:new/a,old/a2")], &[]);
    assert_eq!(code, 1, "{record:#}\n{stderr}");
    for exit in ["new/e", "old/e2"] {
        let kinds: Vec<&str> = task(&record, exit)["final_status"]["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["internal", "trap"], "{exit}: what the host recorded");
    }
    let printed = common::printed(task(&record, "new/e")).join("\n");
    assert!(printed.contains("new/a failed: internal"), "{printed}");
    let old = task(&record, "old/e2");
    assert_eq!(old["state"], "succeeded", "{old:#}");
    assert_eq!(old["outputs"]["output"], "error,trap", "a 0.1.0 component sees `error`");
    assert!(common::log_lines(old, "info").iter().any(|l| l == "kinds: error,trap"), "{old:#}");
}

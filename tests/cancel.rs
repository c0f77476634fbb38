//! Cancellation, grace and deadlines (`docs/semantics.md`, rule 10): the real binary runs as a
//! child process; each test waits for the `[start]` line of the task it wants to interrupt before
//! signalling, so timing on a loaded 2-core machine does not matter.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Case, task};
use serde_json::Value;

/// A running `wasmpipe run --output json` and its stderr lines.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(case: &Case, args: &[&str]) -> Running {
        let mut child = common::command()
            .args(["run", case.file.to_str().unwrap(), "--output", "json", "--run-dir", case.runs().to_str().unwrap()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        Running { child, lines, seen: Vec::new() }
    }

    /// Waits until stderr shows a line containing `needle`.
    fn wait_for(&mut self, needle: &str) {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => {
                    let found = line.contains(needle);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(e) => panic!("no line with `{needle}` ({e}); stderr so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill").args(["-s", name, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the exit; returns the exit code and the record on stdout.
    fn finish(mut self) -> (i32, Value) {
        let mut stdout = String::new();
        self.child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        let status = self.child.wait().unwrap();
        let record = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        (status.code().unwrap_or(-1), record)
    }
}

/// A body of one long task `g/body` and, after it, `g/later`, with exit task `g/e`.
fn pipeline(body_mode: &str, exit: &str) -> Case {
    Case::new(&format!(
        "name: cancel\nsteps:\n  - exit_handler:\n      name: g\n      exit: {exit}\n      steps:\n        - {{task: body, component: fault, inputs: {{mode: {body_mode}}}}}\n        - {{task: later, component: print_op, inputs: {{message: never}}, after: [body]}}\n  - {{task: after-group, component: print_op, inputs: {{message: never}}, after: [body]}}\n"
    ))
}

const REPORT: &str = "{task: e, component: exit_report, inputs: {message: cleanup}}";

fn assert_cancelled_run(record: &Value, signal: &str) {
    assert_eq!(record["state"], "cancelled");
    assert_eq!(record["cancel"]["signal"], signal);
    let body = task(record, "g/body");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(body["failure"]["kind"], "cancelled");
    assert_eq!(body["failure"]["message"], format!("cancelled by {signal}"));
    for id in ["g/later", "after-group"] {
        let t = task(record, id);
        assert_eq!(t["state"], "skipped", "{id}");
        assert_eq!(t["skip"], serde_json::json!({"reason": "cancelled", "cause": signal}), "{id}");
    }
}

/// Ensures that SIGINT interrupts a running body task, starts nothing new, runs the exit
/// handler with state `cancelled`, records the cancellation, and exits 130.
#[test]
fn sigint_cancels_the_body_and_runs_the_handler() {
    let case = pipeline("spin", REPORT);
    let mut run = Running::start(&case, &[]);
    run.wait_for("[start]   g/body");
    run.signal("INT");
    let (code, record) = run.finish();
    assert_eq!(code, 130, "{record:#}");
    assert_cancelled_run(&record, "SIGINT");
    assert_eq!(record["aborted"], false);
    assert_eq!(record["cancel"]["grace_ms"], 30_000);
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded");
    assert_eq!(e["final_status"]["state"], "cancelled");
    assert_eq!(e["final_status"]["failures"][0]["task"], "g/body");
    assert_eq!(e["final_status"]["failures"][0]["kind"], "cancelled");
}

/// Ensures the same for SIGTERM.
#[test]
fn sigterm_cancels_the_body_and_runs_the_handler() {
    let case = pipeline("sleep", REPORT);
    let mut run = Running::start(&case, &[]);
    run.wait_for("[start]   g/body");
    run.signal("TERM");
    let (code, record) = run.finish();
    assert_eq!(code, 130);
    assert_cancelled_run(&record, "SIGTERM");
    assert_eq!(task(&record, "g/e")["state"], "succeeded");
}

/// Ensures the same for SIGHUP (a closed terminal, a dropped ssh session) and SIGQUIT, which
/// would otherwise kill the host with no handler run and no record.
#[test]
fn sighup_and_sigquit_cancel_the_body_and_run_the_handler() {
    for (signal, name) in [("HUP", "SIGHUP"), ("QUIT", "SIGQUIT")] {
        let case = pipeline("spin", REPORT);
        let mut run = Running::start(&case, &[]);
        run.wait_for("[start]   g/body");
        run.signal(signal);
        let (code, record) = run.finish();
        assert_eq!(code, 130, "{name}: {record:#}");
        assert_cancelled_run(&record, name);
        let e = task(&record, "g/e");
        assert_eq!(e["state"], "succeeded", "{name}");
        assert_eq!(e["final_status"]["state"], "cancelled", "{name}");
        let written = case.runs().join(record["run_id"].as_str().unwrap()).join("record.json");
        assert!(written.is_file(), "{name}: the record is written");
    }
}

/// Ensures that a signal that arrives while an exit task runs does not interrupt it.
#[test]
fn a_signal_does_not_interrupt_a_running_exit_task() {
    let case = Case::new(
        "name: cancel\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: fault, inputs: {mode: nap, n: 1500}}\n      steps:\n        - {task: body, component: fault, inputs: {mode: ok}}\n",
    );
    let mut run = Running::start(&case, &[]);
    run.wait_for("[start]   g/e");
    run.signal("INT");
    let (code, record) = run.finish();
    assert_eq!(code, 130);
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded", "{e:#}");
    assert_eq!(e["outputs"]["output"], "rested 1500 ms");
    assert_eq!(e["final_status"]["state"], "succeeded", "the body had finished before the signal");
    assert_eq!(record["state"], "cancelled");
    assert_eq!(record["aborted"], false);
}

/// Ensures that when the grace period runs out, the running exit task is cancelled, later
/// exit tasks are skipped with `grace_expired`, and the record says the run was aborted.
#[test]
fn grace_expiry_stops_the_exit_task() {
    let case = Case::new(
        "name: cancel\nsteps:\n  - exit_handler:\n      name: outer\n      exit: {task: outer-exit, component: print_op, inputs: {message: never}}\n      steps:\n        - exit_handler:\n            name: g\n            exit: {task: e, component: fault, inputs: {mode: spin}}\n            steps:\n              - {task: body, component: fault, inputs: {mode: spin}}\n",
    );
    let mut run = Running::start(&case, &["--grace", "300ms"]);
    run.wait_for("[start]   outer/g/body");
    run.signal("INT");
    let (code, record) = run.finish();
    assert_eq!(code, 130);
    assert_eq!(record["aborted"], true);
    assert_eq!(record["cancel"]["grace_ms"], 300);
    let e = task(&record, "outer/g/e");
    assert_eq!(e["state"], "cancelled", "{e:#}");
    assert_eq!(e["failure"]["kind"], "cancelled");
    assert_eq!(e["failure"]["message"], "the grace period ran out while the task ran");
    let outer = task(&record, "outer/outer-exit");
    assert_eq!(outer["state"], "skipped");
    assert_eq!(outer["skip"]["reason"], "grace_expired");
}

/// Ensures that a second signal aborts: the running exit task is cancelled and the run is
/// recorded as aborted.
#[test]
fn a_second_signal_aborts_the_exit_task() {
    let case = pipeline("spin", "{task: e, component: fault, inputs: {mode: spin}}");
    let mut run = Running::start(&case, &[]);
    run.wait_for("[start]   g/body");
    run.signal("INT");
    run.wait_for("[start]   g/e");
    run.signal("INT");
    let (code, record) = run.finish();
    assert_eq!(code, 130);
    assert_eq!(record["aborted"], true);
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "cancelled");
    assert_eq!(e["failure"]["message"], "aborted by a second cancellation");
}

/// Ensures that at the run deadline the running body task fails with `timeout`, nothing new
/// starts in bodies, the exit handler runs, and the run is `failed` (exit 1), not cancelled.
#[test]
fn a_run_deadline_fails_the_body_and_runs_the_handler() {
    let case = pipeline("spin", REPORT);
    let (code, record) = case.run_json(&["--deadline", "500ms"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(record["state"], "failed");
    assert_eq!(record["cancel"]["signal"], "deadline");
    let body = task(&record, "g/body");
    assert_eq!(body["failure"]["kind"], "timeout");
    assert!(body["failure"]["message"].as_str().unwrap().contains("deadline of 500ms"), "{body:#}");
    assert_eq!(task(&record, "g/later")["skip"]["reason"], "cancelled");
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded");
    assert_eq!(e["final_status"]["state"], "failed");
}

/// Ensures that the pipeline's own `deadline` works the same way.
#[test]
fn a_pipeline_deadline_is_enforced() {
    let case = Case::new(
        "name: deadline\ndeadline: 400ms\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: body, component: fault, inputs: {mode: sleep}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(task(&record, "g/body")["failure"]["kind"], "timeout");
    assert_eq!(task(&record, "g/e")["state"], "succeeded");
}

/// Ensures that what a cancelled task wrote before the signal is kept in its record.
#[test]
fn a_cancelled_task_keeps_its_output() {
    let case = Case::new(
        "name: cancel\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: print_op, inputs: {message: bye}}\n      steps:\n        - {task: body, component: spin_op, inputs: {message: working on it}}\n",
    );
    let mut run = Running::start(&case, &[]);
    run.wait_for("[start]   g/body");
    // The guest prints as soon as it starts, microseconds after the line above; a second leaves
    // a wide margin on a loaded machine.
    std::thread::sleep(Duration::from_secs(1));
    run.signal("INT");
    let (code, record) = run.finish();
    assert_eq!(code, 130);
    let body = task(&record, "g/body");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(common::printed(body), ["working on it"]);
}

/// Ensures that a cancellation during a retry backoff cancels the task at once, keeping the
/// attempts it made, and the handler runs.
#[test]
fn a_cancel_during_a_retry_backoff_ends_it_at_once() {
    let case = Case::new(
        "name: cancel\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: body, component: flaky, inputs: {succeed_on: 10}, retries: 5, backoff: {initial: 10m}}\n",
    );
    let mut run = Running::start(&case, &["--grace", "10m"]);
    run.wait_for("[start]   g/body");
    // The first attempt fails within milliseconds; a second later the task waits out its
    // ten-minute backoff.
    std::thread::sleep(Duration::from_secs(1));
    run.signal("INT");
    let (code, record) = run.finish();
    assert_eq!(code, 130);
    let body = task(&record, "g/body");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(body["failure"]["kind"], "cancelled");
    let attempts = body["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "{body:#}");
    assert_eq!(attempts[0]["failure"]["message"], "attempt 1 failed");
    assert_eq!(task(&record, "g/e")["state"], "succeeded");
}

/// Ensures that a cancellation inside a loop stops the running iterations' body tasks, runs the
/// exit handler of each iteration already entered (state `cancelled`), and skips the
/// iterations not yet entered, their exit tasks included (`docs/semantics.md`, rules 1 and 10).
#[test]
fn a_cancel_in_a_loop_runs_the_handlers_of_entered_iterations_only() {
    let case = Case::new(&format!(
        "name: cancel\nsteps:\n  - parallel_for:\n      name: fan\n      items: [1, 2, 3, 4]\n      parallelism: 2\n      steps:\n        - exit_handler:\n            name: g\n            exit: {REPORT}\n            steps:\n              - {{task: body, component: fault, inputs: {{mode: spin}}}}\n"
    ));
    let mut run = Running::start(&case, &["--jobs", "4"]);
    run.wait_for("[start]   fan/0/g/body");
    run.wait_for("[start]   fan/1/g/body");
    run.signal("INT");
    let (code, record) = run.finish();
    assert_eq!(code, 130, "{record:#}");
    for i in 0..2 {
        assert_eq!(task(&record, &format!("fan/{i}/g/body"))["state"], "cancelled");
        let e = task(&record, &format!("fan/{i}/g/e"));
        assert_eq!(e["state"], "succeeded", "{e:#}");
        assert_eq!(e["final_status"]["state"], "cancelled");
    }
    for i in 2..4 {
        for t in ["g/body", "g/e"] {
            let skipped = task(&record, &format!("fan/{i}/{t}"));
            assert_eq!(skipped["skip"], serde_json::json!({"reason": "cancelled", "cause": "SIGINT"}), "{skipped:#}");
        }
    }
}

//! `wasmpipe runs`: the run directory's history. Runs finished, running (a process holds the
//! run's lock) and incomplete (killed before the end), listed, shown, their logs printed,
//! removed and pruned; a running run is never removed.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Case, wasmpipe};
use serde_json::Value;

/// `wasmpipe runs ARGS... --run-dir DIR`: exit code, stdout, stderr.
fn runs(dir: &Path, args: &[&str]) -> (i32, String, String) {
    wasmpipe(&["runs"], &[args, &["--run-dir", dir.to_str().unwrap()]].concat())
}

/// `runs list --output json`, as (id, state) pairs.
fn listed(dir: &Path) -> Vec<(String, String)> {
    let (code, out, err) = runs(dir, &["list", "--output", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    rows.iter().map(|r| (r["run_id"].as_str().unwrap().to_string(), r["state"].as_str().unwrap().to_string())).collect()
}

const PIPELINE: &str = concat!(
    "name: history\n",
    "params:\n",
    "  fail: {type: bool, default: false}\n",
    "steps:\n",
    "  - exit_handler:\n",
    "      name: guard\n",
    "      exit: {task: done, component: print_op, inputs: {message: cleaned up}}\n",
    "      steps:\n",
    "        - {task: hello, component: print_op, inputs: {message: hello}}\n",
    "        - if:\n",
    "            name: broken\n",
    "            condition: \"{{params.fail}}\"\n",
    "            steps:\n",
    "              - {task: boom, component: fail_op, inputs: {message: boom}}\n",
);

/// Ensures that finished, running and incomplete runs are listed oldest first with their
/// states, pipelines and task counts; that `show` and `logs` read a finished run and refuse
/// the others with what they are; and that `rm` never removes a running run.
#[test]
fn runs_are_listed_shown_and_removed_by_state() {
    let case = Case::new(PIPELINE);
    let dir = case.runs();
    let (_, ok) = case.run_json(&[]);
    let (_, failed) = case.run_json(&["-p", "fail=true"]);
    let (ok_id, failed_id) = (ok["run_id"].as_str().unwrap(), failed["run_id"].as_str().unwrap());
    // A run killed long ago (a lock file, no record) and one running now (this process holds
    // its lock).
    std::fs::create_dir_all(dir.join("20200101-000000-0a0a0a")).unwrap();
    std::fs::write(dir.join("20200101-000000-0a0a0a/.lock"), "").unwrap();
    let _running = wasmpipe::history::lock(&dir.join("20991231-235959-0b0b0b")).unwrap();

    assert_eq!(
        listed(&dir),
        [
            ("20200101-000000-0a0a0a".to_string(), "incomplete".to_string()),
            (ok_id.to_string(), "succeeded".to_string()),
            (failed_id.to_string(), "failed".to_string()),
            ("20991231-235959-0b0b0b".to_string(), "running".to_string()),
        ]
    );
    let (code, table, _) = runs(&dir, &["list"]);
    assert_eq!(code, 0);
    assert!(table.starts_with("RUN "), "{table}");
    let failed_row = table.lines().find(|l| l.starts_with(failed_id)).unwrap();
    assert!(
        failed_row.contains("history") && failed_row.contains("failed") && failed_row.contains("2 succeeded, 1 failed"),
        "{failed_row}"
    );
    assert!(table.contains("2020-01-01 00:00:00"), "an incomplete run's start comes from its id: {table}");

    let (code, summary, _) = runs(&dir, &["show", failed_id]);
    assert_eq!(code, 0);
    assert!(summary.starts_with(&format!("run {failed_id} failed")), "{summary}");
    assert!(summary.contains("failed:  guard/broken/boom (error): boom"), "{summary}");
    let (code, json, _) = runs(&dir, &["show", ok_id, "--output", "json"]);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), ok, "the record as written");
    let (code, _, err) = runs(&dir, &["show", "20991231-235959-0b0b0b"]);
    assert_eq!(code, 2);
    assert!(err.contains("is still running"), "{err}");
    let (code, _, err) = runs(&dir, &["show", "20200101-000000-0a0a0a"]);
    assert_eq!(code, 2);
    assert!(err.contains("did not finish"), "{err}");

    let (code, logs, _) = runs(&dir, &["logs", failed_id]);
    assert_eq!(code, 0);
    assert_eq!(logs, "[guard/hello] hello\n[guard/broken/boom] boom\n[guard/done] cleaned up\n");
    let (_, logs, _) = runs(&dir, &["logs", failed_id, "guard/broken"]);
    assert_eq!(logs, "[guard/broken/boom] boom\n");
    let (code, _, err) = runs(&dir, &["logs", failed_id, "guard/hell"]);
    assert_eq!(code, 2);
    assert!(err.contains("no task `guard/hell` (did you mean `guard/hello`?)"), "{err}");

    let (code, _, err) = runs(&dir, &["rm", "20991231-235959-0b0b0b"]);
    assert_eq!(code, 2);
    assert!(err.contains("is running"), "{err}");
    assert!(dir.join("20991231-235959-0b0b0b").exists());
    let (code, out, _) = runs(&dir, &["rm", failed_id]);
    assert_eq!(code, 0, "{out}");
    assert!(!dir.join(failed_id).exists());
    let (code, _, err) = runs(&dir, &["rm", failed_id]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("no run `{failed_id}`")), "{err}");
}

/// Ensures that `prune` keeps the newest runs (`--keep`) or the recent ones (`--older-than`),
/// says what it would do with `--dry-run`, and never removes a running run.
#[test]
fn prune_keeps_the_newest_and_never_a_running_run() {
    let case = Case::new(PIPELINE);
    let dir = case.runs();
    for id in ["20200101-000000-000001", "20200102-000000-000002"] {
        std::fs::create_dir_all(dir.join(id)).unwrap();
        std::fs::write(dir.join(id).join(".lock"), "").unwrap();
    }
    let _running = wasmpipe::history::lock(&dir.join("20190101-000000-000000")).unwrap();
    let (_, recent) = case.run_json(&[]);
    let recent = recent["run_id"].as_str().unwrap().to_string();

    let (code, out, _) = runs(&dir, &["prune", "--keep", "1", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("would remove 20200101-000000-000001") && out.contains("would remove 20200102-000000-000002"),
        "{out}"
    );
    assert_eq!(listed(&dir).len(), 4, "a dry run removes nothing");

    let (code, out, _) = runs(&dir, &["prune", "--older-than", "30d", "--keep", "2"]);
    assert_eq!(code, 0, "{out}");
    let left: Vec<String> = listed(&dir).into_iter().map(|(id, _)| id).collect();
    assert_eq!(left, ["20190101-000000-000000", "20200102-000000-000002", recent.as_str()], "{out}");

    let (code, _, _) = runs(&dir, &["prune", "--keep", "0"]);
    assert_eq!(code, 0);
    let left: Vec<(String, String)> = listed(&dir);
    assert_eq!(left, [("20190101-000000-000000".to_string(), "running".to_string())]);
}

/// Ensures that a run killed with SIGKILL while its task runs shows as running while it runs
/// and as incomplete once its process is gone: the kernel releases its lock.
#[test]
fn a_killed_run_is_incomplete() {
    let case =
        Case::new("name: slow\nsteps:\n  - {task: spin, component: spin_op, inputs: {message: x}, timeout: 60s}\n");
    let dir = case.runs();
    let mut child = common::command()
        .args(["run", case.file.to_str().unwrap(), "--run-dir", dir.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Bounded wait for the run to start (its directory and lock appear).
    let mut seen = Vec::new();
    for _ in 0..600 {
        seen = listed(&dir);
        if !seen.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(seen.len(), 1, "the run never showed up");
    assert_eq!(seen[0].1, "running");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(listed(&dir), [(seen[0].0.clone(), "incomplete".to_string())]);
}

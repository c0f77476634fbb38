//! The sandbox: a task sees nothing of the host (files, network, environment) unless the
//! pipeline grants it, grants are read-only, and captured output is bounded.

mod common;

use common::{Case, printed, task};

/// Runs one `fault` task in `mode` with extra task fields; returns the exit code and its record.
fn run_mode(mode: &str, extra: &str) -> (i32, serde_json::Value) {
    let case =
        Case::new(&format!("name: s\nsteps:\n  - {{task: t, component: fault, inputs: {{mode: {mode}}}{extra}}}\n"));
    let (code, record) = case.run_json(&[]);
    (code, task(&record, "t").clone())
}

/// Ensures that without grants a guest cannot read host environment variables, host files or
/// connect to the network; each attempt fails only the task itself, with the guest's error.
#[test]
fn nothing_of_the_host_is_visible_without_grants() {
    for (mode, expected) in [
        ("env", "env SECRET: environment variable not found"),
        ("read_file", "read /etc/hostname"),
        ("connect", "connect 127.0.0.1:22"),
    ] {
        let (code, t) = run_mode(mode, "");
        assert_eq!(code, 1, "{mode}");
        assert_eq!(t["failure"]["kind"], "error", "{mode}: {t:#}");
        let message = t["failure"]["message"].as_str().unwrap();
        assert!(message.starts_with(expected), "{mode}: {message}");
    }
}

/// Ensures that a literal `env` grant and a `host_env` pass-through are visible to the task.
#[test]
fn granted_environment_variables_are_visible() {
    let (code, t) = run_mode("env", ", env: {SECRET: hunter2}");
    assert_eq!(code, 0, "{t:#}");
    assert_eq!(t["outputs"]["output"], "hunter2");

    let case = Case::new("name: s\nsteps:\n  - {task: t, component: fault, inputs: {mode: env}, host_env: [SECRET]}\n");
    let out = common::command()
        .args(["run", case.file.to_str().unwrap(), "--output", "json", "--run-dir"])
        .arg(case.runs())
        .env("SECRET", "from the host")
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(task(&record, "t")["outputs"]["output"], "from the host");

    let (code, out) = case.run_json(&[]);
    assert_eq!(code, 2, "validation refuses a pass-through of an unset host variable");
    assert!(out["errors"][0]["message"].as_str().unwrap().contains("host variable `SECRET`, which is not set"));
}

/// Ensures that a granted directory can be read and not written, and the host file is unchanged.
#[test]
fn granted_directories_are_read_only() {
    let case = Case::new(
        "name: s\nsteps:\n  - {task: read, component: fault, inputs: {mode: read_file}, dirs: {/etc: host-etc}}\n  - {task: write, component: fault, inputs: {mode: write_file}, dirs: {/etc: host-etc}, after: [read]}\n",
    );
    let host_etc = case.dir.path().join("host-etc");
    std::fs::create_dir(&host_etc).unwrap();
    std::fs::write(host_etc.join("hostname"), "sandboxed\n").unwrap();
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(task(&record, "read")["outputs"]["output"], "sandboxed\n");
    let write = task(&record, "write");
    assert_eq!(write["failure"]["kind"], "error");
    assert!(write["failure"]["message"].as_str().unwrap().starts_with("write /etc/hostname"), "{write:#}");
    assert_eq!(std::fs::read_to_string(host_etc.join("hostname")).unwrap(), "sandboxed\n");
}

/// Ensures that a guest that writes far more than the capture limit keeps running, and its
/// captured output ends with a marker saying how much was dropped.
#[test]
fn captured_output_is_bounded_with_a_marker() {
    let case = Case::new("name: s\nsteps:\n  - {task: chatty, component: fault, inputs: {mode: print, n: 20000}}\n");
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "the guest was not stopped by its output");
    let chatty = task(&record, "chatty");
    assert_eq!(chatty["outputs"]["output"], "printed 20000 lines");
    let lines = printed(chatty);
    let last = lines.last().unwrap();
    assert!(last.starts_with("[wasmpipe: stdout truncated after 1048576 bytes;"), "{last}");
    assert!(last.contains("951424 more bytes dropped"), "2,000,000 bytes written: {last}");
    assert!(lines.len() < 11_000);
}

/// Ensures that a task whose memory limit is larger than a pooling slot still runs, on the
/// on-demand allocator, with the reason in its log; tasks that fit run pooled, with no note.
#[test]
fn a_memory_limit_larger_than_a_pool_slot_falls_back_to_on_demand() {
    let case = Case::new(
        "name: s\nsteps:\n  - {task: big, component: fault, inputs: {mode: ok}, memory: 2GiB}\n  - {task: small, component: fault, inputs: {mode: ok}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let big = task(&record, "big");
    assert_eq!(big["state"], "succeeded");
    let notes = common::log_lines(big, "wasmpipe");
    assert_eq!(notes.len(), 1, "{big:#}");
    assert!(notes[0].contains("2048 MiB is larger than a pooling slot (1024 MiB)"), "{}", notes[0]);
    let small = task(&record, "small");
    assert!(small["logs"].as_array().unwrap().iter().all(|l| l["source"] != "wasmpipe"), "{small:#}");
}

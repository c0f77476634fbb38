//! `wasmpipe runs`: the run directory's history. Runs finished, running (a process holds the
//! run's lock) and incomplete (killed before the end), listed, shown, their logs printed,
//! removed and pruned; a running run is never removed.

mod common;

use std::path::Path;

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

/// `runs logs` output without the time that begins each line.
fn without_times(logs: &str) -> String {
    logs.lines().map(|l| format!("{}\n", l.split_once(' ').map_or(l, |(_, rest)| rest))).collect()
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
    let (code, out, _) = runs(&dir, &["show", "20991231-235959-0b0b0b"]);
    assert_eq!(code, 0);
    assert!(out.contains("is running; its journal has nothing yet"), "{out}");
    let (code, out, _) = runs(&dir, &["show", "20200101-000000-0a0a0a"]);
    assert_eq!(code, 0);
    assert!(out.contains("did not finish") && out.contains("left no journal"), "{out}");

    let (code, logs, _) = runs(&dir, &["logs", failed_id]);
    assert_eq!(code, 0);
    assert_eq!(without_times(&logs), "[guard/hello] hello\n[guard/broken/boom] boom\n[guard/done] cleaned up\n");
    // Each line begins with when it was written, within the run, in order.
    let times: Vec<&str> = logs.lines().map(|l| l.split_once(' ').unwrap().0).collect();
    assert!(times.iter().all(|t| t.len() == 27 && t.ends_with('Z')), "{logs}");
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{logs}");
    assert!(failed["started_at"].as_str().unwrap() <= times[0] && times[2] <= failed["finished_at"].as_str().unwrap());
    let (_, logs, _) = runs(&dir, &["logs", failed_id, "guard/broken"]);
    assert_eq!(without_times(&logs), "[guard/broken/boom] boom\n");
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

    assert!(std::fs::read_dir(dir.join(".objects")).unwrap().count() > 0, "the finished run kept copies");
    let (code, _, _) = runs(&dir, &["prune", "--keep", "0"]);
    assert_eq!(code, 0);
    let left: Vec<(String, String)> = listed(&dir);
    assert_eq!(left, [("20190101-000000-000000".to_string(), "running".to_string())]);
    assert_eq!(std::fs::read_dir(dir.join(".objects")).unwrap().count(), 0, "no run links the copies any more");
}

/// Ensures that a run killed with SIGKILL while its task runs shows as running while it runs
/// and as incomplete once its process is gone (the kernel releases its lock), and that its
/// journal still tells what ended before: the first task, its logs, and the task that was
/// running.
#[test]
fn a_killed_run_is_incomplete_and_its_journal_tells_what_ended() {
    let case = Case::new(concat!(
        "name: slow\n",
        "steps:\n",
        "  - {task: first, component: print_op, inputs: {message: done first}}\n",
        "  - {task: spin, component: spin_op, inputs: {message: x}, timeout: 60s, after: [first]}\n",
    ));
    let dir = case.runs();
    let mut child = common::spawn_run(&case);
    // Bounded wait for the spinner to start (the journal says so).
    common::wait_for_journal(&dir, "its spinner", |running| running == ["spin"]);
    let seen = listed(&dir);
    assert_eq!(seen.len(), 1, "the run never showed up");
    assert_eq!(seen[0].1, "running");
    child.kill().unwrap();
    child.wait().unwrap();
    let id = seen[0].0.clone();
    assert_eq!(listed(&dir), [(id.clone(), "incomplete".to_string())]);
    let (code, table, _) = runs(&dir, &["list"]);
    assert_eq!(code, 0);
    assert!(
        table.lines().any(|l| l.starts_with(&id)
            && l.contains("slow")
            && l.contains("incomplete")
            && l.ends_with("1 succeeded")),
        "{table}"
    );
    let (code, shown, _) = runs(&dir, &["show", &id]);
    assert_eq!(code, 0);
    assert!(shown.starts_with(&format!("run {id} (slow) did not finish")), "{shown}");
    assert!(shown.contains("1 task(s) ended: 1 succeeded") && shown.contains("started, not ended: spin"), "{shown}");
    let (_, logs, _) = runs(&dir, &["logs", &id]);
    assert_eq!(without_times(&logs), "[first] done first\n");
    // The report draws what the journal says.
    let (code, page, err) = wasmpipe(&["report", &id, "--run-dir", dir.to_str().unwrap(), "-o", "-"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains("id=\"run-state\">incomplete<"), "{page}");
    assert!(page.contains("data-task=\"first\" data-state=\"succeeded\""));
    assert!(page.contains("Started and not ended: <code>spin</code>"));
}

/// Ensures that a finished run's journal holds, in checksummed lines, its start, each task that
/// ran with the very record the run's record has for it (started before it ended), and its end.
#[test]
fn a_journal_matches_its_record() {
    use wasmpipe::journal::{Entry, read};
    let case = Case::new(PIPELINE);
    let (_, record) = case.run_json(&["-p", "fail=true"]);
    let run_dir = case.runs().join(record["run_id"].as_str().unwrap());
    let journal = read(&run_dir);
    assert_eq!(journal.bad_line, None);
    let entries = journal.entries;
    assert!(matches!(&entries[0], Entry::RunStarted(start) if start.pipeline == "history"), "{:?}", entries[0]);
    assert!(
        matches!(entries.last().unwrap(), Entry::RunFinished { state, .. } if serde_json::to_value(state).unwrap() == record["state"])
    );
    let mut started = Vec::new();
    let mut ended = Vec::new();
    for entry in &entries {
        match entry {
            Entry::TaskStarted { id, .. } => started.push(id.clone()),
            Entry::TaskEnded { task } => {
                assert!(started.contains(&task.id), "{} ended before it started", task.id);
                assert_eq!(serde_json::to_value(task).unwrap(), *common::task(&record, &task.id));
                ended.push(task.id.clone());
            }
            _ => {}
        }
    }
    let ran: Vec<String> = record["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] != "skipped")
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    ended.sort();
    let mut ran_sorted = ran.clone();
    ran_sorted.sort();
    assert_eq!(ended, ran_sorted, "every task that ran, once");
}

/// Ensures that `--durable` (syncs of the journal, artifacts and record) changes nothing of
/// what a run does or records: the same task states, artifact digests and outputs, and the same
/// journal events. (A power cut cannot be made here; this checks that the synced paths work.)
#[test]
fn a_durable_run_records_the_same() {
    use wasmpipe::journal::{Entry, read};
    let case = Case::new(concat!(
        "name: durable\n",
        "steps:\n",
        "  - {task: gen, component: numbers, inputs: {count: 4}}\n",
        "  - {task: dir, component: model_dir, inputs: {weights: w}}\n",
        "  - {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n",
        "outputs:\n",
        "  sum: \"{{tasks.add-up.outputs.sum}}\"\n",
    ));
    let (code, plain) = case.run_json(&[]);
    assert_eq!(code, 0, "{plain:#}");
    let (code, durable) = case.run_json(&["--durable"]);
    assert_eq!(code, 0, "{durable:#}");
    let shape = |record: &Value| -> Vec<(String, String, Value)> {
        record["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let digests: Vec<Value> =
                    t["outputs"].as_object().unwrap().values().map(|v| v["digest"].clone()).collect();
                (t["id"].as_str().unwrap().to_string(), t["state"].as_str().unwrap().to_string(), Value::from(digests))
            })
            .collect()
    };
    assert_eq!(shape(&durable), shape(&plain));
    assert_eq!(durable["outputs"], plain["outputs"]);
    let events = |record: &Value| -> Vec<String> {
        let mut kinds: Vec<String> = read(&case.runs().join(record["run_id"].as_str().unwrap()))
            .entries
            .iter()
            .map(|e| match e {
                Entry::RunStarted(_) => "run_started".to_string(),
                Entry::TaskStarted { id, .. } => format!("started {id}"),
                Entry::TaskEnded { task } => format!("ended {}", task.id),
                other => format!("{other:?}").split_whitespace().next().unwrap_or_default().to_string(),
            })
            .collect();
        kinds.sort();
        kinds
    };
    assert_eq!(events(&durable), events(&plain));
}

/// Ensures that the record a run writes from its journal (past `records_in_memory`, each
/// task's record is copied from its `task_ended` line, never held whole in memory) is byte for
/// byte what serde_json writes for the same record, whether all, some or none of the records
/// stayed in memory; that the tasks read back one at a time are those of the record; and that
/// the CLI prints the same: tasks that succeeded, failed and were skipped, exit handlers with
/// their final status, values and logs holding quotes, brackets, commas, colons, backslashes
/// and non-ASCII text.
#[tokio::test]
async fn the_record_written_from_the_journal_is_what_serde_writes() {
    use wasmpipe::record::{RunRecord, TaskState};
    use wasmpipe::run::{RunOptions, Runner};
    let case = Case::new(concat!(
        "name: streamed\n",
        "steps:\n",
        "  - parallel_for:\n",
        "      name: each\n",
        "      items: [1, \"two \\\"{[,:]}\\\\ \u{e9}\", {k: [], e: {}}, [], {}]\n",
        "      steps:\n",
        "        - exit_handler:\n",
        "            name: guard\n",
        "            exit: {task: report, component: exit_report, inputs: {message: \"done: ]}\"}}\n",
        "            steps:\n",
        "              - {task: echo, component: echo, inputs: {value: \"{{item}}\"}}\n",
        "              - {task: boom, component: fail_op, inputs: {message: \"fails, \\\"{[:\"}, after: [echo]}\n",
        "  - {task: later, component: print_op, inputs: {message: never}, after: [boom]}\n",
    ));
    let runner = Runner::with_cache(Some(wasmpipe::run::Cache::new(common::test_cache_dir()))).unwrap();
    let options = RunOptions { run_dir: case.runs(), jobs: 2, ..RunOptions::default() };
    let prepared = runner.prepare_file(&case.file, &options).await.unwrap();
    // None, some (about three lines) and all of the records kept in memory.
    for budget in [0, 3000, usize::MAX] {
        let options = RunOptions { records_in_memory: budget, ..options.clone() };
        let (run, written) = runner.run_and_write(&prepared, &options, &mut |_| {}).await;
        let on_disk = std::fs::read_to_string(written.unwrap()).unwrap();
        let mut printed = Vec::new();
        run.write_json(&mut printed).unwrap();
        assert_eq!(String::from_utf8(printed).unwrap(), on_disk, "budget {budget}");
        let record: RunRecord = serde_json::from_str(&on_disk).unwrap();
        assert_eq!(on_disk, serde_json::to_string_pretty(&record).unwrap() + "\n", "budget {budget}");
        assert_eq!(run.task_count(), 16);
        for (i, task) in record.tasks.iter().enumerate() {
            assert_eq!(&run.task(i).unwrap(), task, "budget {budget}");
            assert_eq!(run.brief(i), wasmpipe::run::TaskBrief::of(task));
        }
        // Every task that ran has its record in the journal, as in the record.
        let journal = wasmpipe::journal::read(&case.runs().join(&record.run_id));
        let ended: Vec<&wasmpipe::record::TaskRecord> = journal
            .entries
            .iter()
            .filter_map(|e| match e {
                wasmpipe::journal::Entry::TaskEnded { task } => Some(&**task),
                _ => None,
            })
            .collect();
        assert_eq!(ended.len(), 15, "5 items, 3 tasks each");
        for task in ended {
            assert_eq!(record.task(&task.id), Some(task));
        }
        assert_eq!(record.task("later").unwrap().state, TaskState::Skipped);
        let value = record.task("each/1/guard/echo").unwrap().outputs["output"].clone();
        assert_eq!(value, serde_json::json!("two \"{[,:]}\\ \u{e9}"));
        assert_eq!(run.into_record(), record);
    }
    let (code, printed) = case.run_json(&[]);
    assert_eq!(code, 1);
    let on_disk = std::fs::read_to_string(case.runs().join(printed["run_id"].as_str().unwrap()).join("record.json"));
    assert_eq!(serde_json::from_str::<Value>(&on_disk.unwrap()).unwrap(), printed);
}

/// Ensures that a bad `WASMPIPE_RECORD_MEMORY` stops a run (`resume` reads it the same way)
/// before anything runs,
/// naming the variable and what it takes.
#[test]
fn a_bad_record_memory_size_is_refused_by_name() {
    let case = Case::new(PIPELINE);
    let out = common::command()
        .env("WASMPIPE_RECORD_MEMORY", "lots")
        .args(["run", case.file.to_str().unwrap(), "--run-dir", case.runs().to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("WASMPIPE_RECORD_MEMORY: `lots` is not a size") && err.contains("e.g. `64MiB`"), "{err}");
    assert!(!case.runs().exists(), "nothing ran");
}

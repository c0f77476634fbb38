//! `wasmpipe resume`: a run killed with SIGKILL goes on from its journal. Tasks whose end
//! reached the journal are not run again (their records and artifacts are kept), the task that
//! was running runs again, the rest runs as it would have, and the exit handler runs once.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Case, task, wasmpipe};
use serde_json::Value;
use wasmpipe::journal::{Entry, read};

const PIPELINE: &str = concat!(
    "name: resumable\n",
    "params:\n",
    "  nap: {type: int, default: 1500}\n",
    "steps:\n",
    "  - {task: gen, component: numbers, inputs: {count: 3}}\n",
    "  - exit_handler:\n",
    "      name: guard\n",
    "      exit: {task: report, component: print_op, inputs: {message: cleaned up}}\n",
    "      steps:\n",
    "        - {task: nap, component: fault, inputs: {mode: nap, n: \"{{params.nap}}\"}, after: [gen]}\n",
    "        - {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}, after: [nap]}\n",
    "outputs:\n",
    "  sum: \"{{tasks.add-up.outputs.sum}}\"\n",
);

/// Starts `wasmpipe run` on `case` and kills it with SIGKILL once its journal shows `nap`
/// running (and `gen` ended); returns the run's directory.
fn run_and_kill_during_nap(case: &Case) -> std::path::PathBuf {
    let dir = case.runs();
    let mut child = common::command()
        .args(["run", case.file.to_str().unwrap(), "--run-dir", dir.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut run = None;
    // Bounded wait for the nap to start.
    for _ in 0..600 {
        if let Some(r) = wasmpipe::history::list(&dir).into_iter().next()
            && wasmpipe::history::Progress::of(&r.dir).unfinished == ["guard/nap"]
        {
            run = Some(r.dir);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    run.expect("the run never reached its nap")
}

/// `wasmpipe resume RUN --output json`: exit code and record (or stderr).
fn resume(dir: &Path) -> (i32, Value, String) {
    let (code, out, err) = wasmpipe(&["resume", dir.to_str().unwrap(), "--output", "json"], &[]);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// Ensures that a run killed during a task goes on from its journal: the task that ended is
/// not run again (same attempt, same artifact), the killed task and those after it run, the
/// exit handler runs once, and the journal never shows a task starting after its end.
#[test]
fn a_killed_run_resumes_without_running_again_what_ended() {
    let case = Case::new(PIPELINE);
    let dir = run_and_kill_during_nap(&case);
    let before = wasmpipe::history::Progress::of(&dir);
    let gen_before = before.ended.iter().find(|t| t.id == "gen").expect("gen ended before the kill").clone();

    let (code, record, err) = resume(&dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(record["run_id"], dir.file_name().unwrap().to_str().unwrap(), "the run keeps its id");
    assert_eq!(record["state"], "succeeded");
    assert_eq!(record["outputs"]["sum"], 6);
    let generated = task(&record, "gen");
    assert_eq!(generated["attempts"], serde_json::to_value(&gen_before.attempts).unwrap(), "gen did not run again");
    assert_eq!(generated["outputs"], serde_json::to_value(&gen_before.outputs).unwrap());
    assert_eq!(task(&record, "guard/nap")["state"], "succeeded");
    assert_eq!(task(&record, "guard/report")["state"], "succeeded");
    assert_eq!(task(&record, "guard/report")["final_status"]["state"], "succeeded");
    assert_eq!(record["tasks"].as_array().unwrap().len(), 4);

    // The journal: each task ends once, and none starts after it ended.
    let mut ended = std::collections::HashSet::new();
    for entry in read(&dir).entries {
        match entry {
            Entry::TaskStarted { id } => assert!(!ended.contains(&id), "{id} started again after its end"),
            Entry::TaskEnded { task } => assert!(ended.insert(task.id.clone()), "{} ended twice", task.id),
            _ => {}
        }
    }
    assert_eq!(ended.len(), 4);
    // Finished now: nothing left to resume.
    let (code, _, err) = resume(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("there is nothing to resume"), "{err}");
}

/// Ensures that a resume refuses, with exit 2 and the artifact named, when an artifact a task
/// published before the stop is gone, and refuses a run that is running.
#[test]
fn resume_refuses_a_missing_artifact_and_a_running_run() {
    let case = Case::new(PIPELINE);
    let dir = run_and_kill_during_nap(&case);
    std::fs::remove_file(dir.join("artifacts/gen/data")).unwrap();
    let (code, _, err) = resume(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("artifact `data` of task `gen`") && err.contains("is missing"), "{err}");
    assert!(!dir.join("record.json").exists(), "nothing ran");

    let _held = wasmpipe::history::lock(&dir).unwrap();
    let (code, _, err) = resume(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("is running"), "{err}");
}

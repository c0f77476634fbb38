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
    let mut child = common::spawn_run(case);
    let run = common::wait_for_journal(&case.runs(), "its nap", |running| running == ["guard/nap"]);
    child.kill().unwrap();
    child.wait().unwrap();
    run
}

/// Starts `wasmpipe run` on `case`, sends it SIGINT once task `running` runs, and kills it with
/// SIGKILL once the exit task `exit` runs (the grace period under way); returns the run's
/// directory. Every wait is bounded.
fn interrupt_then_kill(case: &Case, running: &str, exit: &str) -> std::path::PathBuf {
    let dir = case.runs();
    let mut child = common::spawn_run(case);
    let wait_for = |what: &str| common::wait_for_journal(&dir, what, |now| now.iter().any(|id| id == what));
    wait_for(running);
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let run = wait_for(exit);
    child.kill().unwrap();
    child.wait().unwrap();
    run
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
    let nap = task(&record, "guard/nap");
    assert_eq!(nap["state"], "succeeded");
    // The attempt the kill cut short is recorded first; the guest still saw attempt 1.
    let attempts = nap["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{nap:#}");
    assert_eq!(attempts[0]["failure"]["kind"], "interrupted");
    assert!(attempts[0]["started_at"].as_str().unwrap() <= attempts[1]["started_at"].as_str().unwrap());
    assert!(attempts[1].get("failure").is_none());
    assert_eq!(task(&record, "guard/report")["state"], "succeeded");
    assert_eq!(task(&record, "guard/report")["final_status"]["state"], "succeeded");
    assert_eq!(record["tasks"].as_array().unwrap().len(), 4);

    // The journal: each task ends once, and none starts after it ended.
    let mut ended = std::collections::HashSet::new();
    for entry in read(&dir).entries {
        match entry {
            Entry::TaskStarted { id, .. } => assert!(!ended.contains(&id), "{id} started again after its end"),
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

/// A pipeline with what a resume must get right: nested exit handlers, a loop (with a handler
/// per iteration) and its fan-in, a condition, a sub-pipeline, a flaky task with retries, and
/// artifacts; a few naps make it long enough to be killed anywhere.
const SOAK: &str = concat!(
    "name: soak\n",
    "steps:\n",
    "  - {task: gen, component: numbers, inputs: {count: 5}}\n",
    "  - exit_handler:\n",
    "      name: outer\n",
    "      exit: {task: outer-report, component: exit_report, inputs: {message: outer}}\n",
    "      steps:\n",
    "        - parallel_for:\n",
    "            name: fan\n",
    "            items: [1, 2, 3, 4]\n",
    "            parallelism: 2\n",
    "            steps:\n",
    "              - exit_handler:\n",
    "                  name: inner\n",
    "                  exit: {task: inner-report, component: exit_report, inputs: {message: inner}}\n",
    "                  steps:\n",
    "                    - {task: nap, component: fault, inputs: {mode: nap, n: 15}}\n",
    "                    - {task: double, component: add, inputs: {a: \"{{item}}\", b: \"{{item}}\"}, after: [nap]}\n",
    "        - {task: fan-in, component: sum, inputs: {values: \"{{tasks.double.output}}\"}}\n",
    "        - if:\n",
    "            name: big\n",
    "            condition: \"{{tasks.fan-in.output}} > 10\"\n",
    "            steps:\n",
    "              - {task: flaky, component: flaky, inputs: {succeed_on: 3}, retries: 3, backoff: {initial: 10ms}}\n",
    "        - {task: sub, component: adder, inputs: {x: \"{{tasks.fan-in.output}}\"}}\n",
    "        - {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}, after: [sub]}\n",
    "outputs:\n",
    "  sum: \"{{tasks.add-up.outputs.sum}}\"\n",
    "  sub: \"{{tasks.sub.outputs.y}}\"\n",
);

const SOAK_SUB: &str = concat!(
    "name: adder\n",
    "params:\n",
    "  x: {type: int}\n",
    "steps:\n",
    "  - {task: nap, component: fault, inputs: {mode: nap, n: 20}}\n",
    "  - {task: plus, component: add, inputs: {a: \"{{params.x}}\", b: 100}, after: [nap]}\n",
    "outputs:\n",
    "  y: \"{{tasks.plus.output}}\"\n",
);

/// What must come out the same, however often a run was killed: each task's state, outputs
/// (artifacts by kind, size and digest), failure kind, skip, and an exit task's final status;
/// the run's state and outputs. Run ids are written `RUN`.
fn normalized(record: &Value) -> Value {
    let run_id = record["run_id"].as_str().unwrap();
    let tasks: Vec<Value> = record["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let outputs: serde_json::Map<String, Value> = t["outputs"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| match v.get("digest") {
                    Some(_) => (k.clone(), serde_json::json!([v["kind"], v["size"], v["digest"]])),
                    None => (k.clone(), v.clone()),
                })
                .collect();
            serde_json::json!({
                "id": t["id"], "state": t["state"], "outputs": outputs,
                "failure": t["failure"]["kind"], "skip": t["skip"], "final_status": t["final_status"],
            })
        })
        .collect();
    let text = serde_json::json!({"state": record["state"], "outputs": record["outputs"], "tasks": tasks}).to_string();
    serde_json::from_str(&text.replace(run_id, "RUN")).unwrap()
}

/// A small deterministic random number generator (xorshift), seeded per test case.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Ensures that a run killed with SIGKILL at random moments, and resumed (killed again at
/// random) until it ends, ends with the record of an uninterrupted run: same tasks, states,
/// outputs, artifact digests and exit tasks' final statuses; and that its journal never shows a
/// task starting after its end. 30 seeds here; `WASMPIPE_SOAK_SEEDS=300` for the soak. A
/// third of the seeds keep no finished task's record in memory (`WASMPIPE_RECORD_MEMORY=0`:
/// every record, those a resume concludes from the journal too, is read back from the
/// journal), a third a few (`4KiB`), a third all of them.
#[test]
fn killed_at_random_moments_a_run_ends_as_an_uninterrupted_one() {
    let case = Case::with_components(SOAK, &[("adder", "{pipeline: adder.yaml}")]);
    case.add_pipeline("adder.yaml", SOAK_SUB, &[]);
    let started = std::time::Instant::now();
    let (code, expected) = case.run_json(&[]);
    let took = started.elapsed().as_millis() as u64;
    assert_eq!(code, 0, "{expected:#}");
    let expected = normalized(&expected);
    let seeds: u64 = std::env::var("WASMPIPE_SOAK_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    for seed in 1..=seeds {
        let runs = case.dir.path().join(format!("runs-{seed}"));
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut current: Option<std::path::PathBuf> = None;
        let mut kills = 0;
        let record = loop {
            let before: Vec<_> = wasmpipe::history::list(&runs).into_iter().map(|r| r.dir).collect();
            let mut command = common::command();
            match seed % 3 {
                0 => command.env("WASMPIPE_RECORD_MEMORY", "0"),
                1 => command.env("WASMPIPE_RECORD_MEMORY", "4KiB"),
                _ => &mut command,
            };
            match &current {
                Some(dir) => command.args(["resume", dir.to_str().unwrap(), "--output", "json"]),
                None => command.args([
                    "run",
                    case.file.to_str().unwrap(),
                    "--run-dir",
                    runs.to_str().unwrap(),
                    "--output",
                    "json",
                ]),
            };
            let mut child =
                command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
            // Killed at a random moment of the run, up to 4 times; then left to end.
            if kills < 4 {
                std::thread::sleep(Duration::from_millis(rng.below(took + 20)));
                let _ = child.kill();
                kills += 1;
            }
            let out = child.wait_with_output().unwrap();
            if current.is_none() {
                current = wasmpipe::history::list(&runs).into_iter().map(|r| r.dir).find(|d| !before.contains(d));
            }
            let Some(dir) = &current else {
                // Killed before it made its run directory; anything else is a failure.
                assert!(out.status.code().is_none(), "seed {seed}: {}", String::from_utf8_lossy(&out.stderr));
                continue;
            };
            if let Some(0) = out.status.code() {
                break serde_json::from_slice::<Value>(&out.stdout).unwrap();
            }
            if out.status.code().is_some() {
                let err = String::from_utf8_lossy(&out.stderr);
                if err.contains("no journal to resume from") {
                    current = None; // killed before anything was recorded: start again
                    continue;
                }
                if err.contains("there is nothing to resume") {
                    // It ended just as it was killed.
                    break serde_json::from_str(&std::fs::read_to_string(dir.join("record.json")).unwrap()).unwrap();
                }
                panic!("seed {seed}: exit {:?}: {err}", out.status.code());
            }
        };
        assert_eq!(normalized(&record), expected, "seed {seed}, {kills} kill(s)");
        let dir = current.unwrap();
        let mut ended = std::collections::HashSet::new();
        for entry in read(&dir).entries {
            match entry {
                Entry::TaskStarted { id, .. } => {
                    assert!(!ended.contains(&id), "seed {seed}: {id} started after its end")
                }
                Entry::TaskEnded { task } => {
                    assert!(ended.insert(task.id.clone()), "seed {seed}: {} ended twice", task.id)
                }
                _ => {}
            }
        }
    }
}

/// Copies directory `from` to `to` (files and directories), but not its entries `skip`.
fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
        if skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target, &[]);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Ensures that a journal cut at every byte offset (as a crash leaves it) resumes to the
/// record of the uninterrupted run: the whole lines before the cut are kept, the rest runs.
/// Runs in process (one runner, warm) so that a resume per byte stays fast.
#[tokio::test]
async fn a_journal_cut_at_any_byte_resumes_to_the_same_record() {
    use wasmpipe::run::resume::Plan;
    use wasmpipe::run::{Cache, RunOptions, Runner};
    let case = Case::new(PIPELINE);
    let (code, record) = case.run_json(&["-p", "nap=1"]);
    assert_eq!(code, 0, "{record:#}");
    let expected = normalized(&record);
    let dir = case.runs().join(record["run_id"].as_str().unwrap());
    let journal = std::fs::read(dir.join(wasmpipe::journal::FILE)).unwrap();
    let runner = Runner::with_cache(Some(Cache::new(common::test_cache_dir()))).unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut prepared = None;
    let mut resumed = 0;
    for cut in 0..=journal.len() {
        let copy = work.path().join(format!("{cut}")).join(dir.file_name().unwrap());
        // The kept copies (`inputs/`) are not needed: this resume runs the original file.
        copy_dir(&dir, &copy, &["inputs"]);
        std::fs::remove_file(copy.join("record.json")).unwrap();
        std::fs::write(copy.join(wasmpipe::journal::FILE), &journal[..cut]).unwrap();
        let plan = match Plan::load(&copy) {
            Ok(plan) => plan,
            Err(e) => {
                assert!(e.contains("no journal to resume from"), "cut {cut}: {e}");
                continue;
            }
        };
        plan.check_artifacts(&copy).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
        let mut options = RunOptions {
            params: plan.params.clone(),
            artifacts: plan.artifacts.clone(),
            run_dir: copy.parent().unwrap().to_path_buf(),
            jobs: 2,
            ..RunOptions::default()
        };
        plan.options.as_ref().unwrap().apply(&mut options);
        options.resume = Some(std::sync::Arc::new(plan.resume));
        if prepared.is_none() {
            prepared = Some(runner.prepare_file(&plan.pipeline_file, &options).await.unwrap());
        }
        let record = runner.run(prepared.as_ref().unwrap(), &options, &mut |_| {}).await;
        let record = serde_json::to_value(&record).unwrap();
        assert_eq!(normalized(&record), expected, "cut at byte {cut}");
        // The cut line is gone: what the resumed run appended reads on to its end.
        let after = read(&copy);
        assert_eq!(after.bad_line, None, "cut at byte {cut}");
        assert!(matches!(after.entries.last(), Some(Entry::RunFinished { .. })), "cut at byte {cut}");
        resumed += 1;
        std::fs::remove_dir_all(copy.parent().unwrap()).unwrap();
    }
    assert!(resumed > journal.len() / 2, "{resumed} of {} cuts resumed", journal.len());
}

/// Ensures that a resumed run runs what the run started with: the pipeline file and a
/// component edited after the kill are noted, and the copies the run kept run instead.
#[test]
fn resume_runs_the_copies_the_run_kept() {
    let case = Case::with_components(
        &PIPELINE.replace("component: total", "component: my-total"),
        &[("my-total", "my_total.wasm")],
    );
    std::fs::copy(wasmpipe_test_artifacts::TOTAL, case.dir.path().join("my_total.wasm")).unwrap();
    let dir = run_and_kill_during_nap(&case);
    // Edit the originals: another exit message, and a component that is not `total` at all.
    let text = std::fs::read_to_string(&case.file).unwrap();
    std::fs::write(&case.file, text.replace("message: cleaned up", "message: edited")).unwrap();
    std::fs::copy(wasmpipe_test_artifacts::ADD, case.dir.path().join("my_total.wasm")).unwrap();

    let (code, record, err) = resume(&dir);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("pipeline.yaml changed since the run started") && err.contains("my_total.wasm changed"),
        "{err}"
    );
    assert_eq!(record["outputs"]["sum"], 6, "the kept `total` ran");
    assert_eq!(common::printed(task(&record, "guard/report")), ["cleaned up"], "the kept pipeline ran");
}

/// Ensures that a run stopped (SIGKILL) while its exit handler ran after a Ctrl-C goes on
/// cancelling when resumed: what ended stays, body tasks that had not run are skipped as
/// cancelled, the exit handler runs (with a fresh grace period), and the run ends cancelled.
#[test]
fn a_cancellation_under_way_goes_on_when_resumed() {
    let case = Case::new(concat!(
        "name: cancelme\n",
        "steps:\n",
        "  - {task: gen, component: numbers, inputs: {count: 3}}\n",
        "  - exit_handler:\n",
        "      name: guard\n",
        "      exit: {task: slow-exit, component: fault, inputs: {mode: nap, n: 1500}}\n",
        "      steps:\n",
        "        - {task: long, component: fault, inputs: {mode: nap, n: 60000}, after: [gen]}\n",
        "        - {task: later, component: add, inputs: {a: 1}, after: [long]}\n",
    ));
    let run = interrupt_then_kill(&case, "guard/long", "guard/slow-exit");

    let (code, record, err) = resume(&run);
    assert_eq!(code, 130, "{err}");
    assert!(err.contains("the run was being cancelled (SIGINT) when it stopped"), "{err}");
    assert_eq!(record["state"], "cancelled");
    assert_eq!(task(&record, "gen")["state"], "succeeded");
    assert_eq!(task(&record, "guard/long")["failure"]["kind"], "cancelled");
    assert_eq!(task(&record, "guard/later")["skip"]["reason"], "cancelled");
    let exit = task(&record, "guard/slow-exit");
    assert_eq!(exit["state"], "succeeded", "the exit handler ran: {record:#}");
    assert_eq!(exit["final_status"]["state"], "cancelled", "{record:#}");
}

/// Ensures that a resumed run keeps its deadline absolute: resumed after its deadline passed
/// (the time spent stopped counts), it goes straight to its exit handlers, and the task that was
/// running does not run again.
#[test]
fn a_run_resumed_past_its_deadline_goes_to_its_handlers() {
    let case = Case::new(concat!(
        "name: late\n",
        "deadline: 1500ms\n",
        "steps:\n",
        "  - exit_handler:\n",
        "      name: guard\n",
        "      exit: {task: report, component: print_op, inputs: {message: handled}}\n",
        "      steps:\n",
        "        - {task: long, component: fault, inputs: {mode: nap, n: 60000}}\n",
    ));
    let dir = case.runs();
    let mut child = common::spawn_run(&case);
    let run = common::wait_for_journal(&dir, "its long task", |running| running == ["guard/long"]);
    child.kill().unwrap();
    child.wait().unwrap();
    // Stopped for longer than the run's deadline.
    std::thread::sleep(Duration::from_millis(1600));
    let (code, record, err) = resume(&run);
    assert_eq!(code, 1, "{err}");
    assert_eq!(record["cancel"]["signal"], "deadline", "{record:#}");
    assert_eq!(task(&record, "guard/long")["state"], "skipped", "it did not run again: {record:#}");
    assert_eq!(common::printed(task(&record, "guard/report")), ["handled"]);
}

/// Ensures that a resume gives parameters back with their types: an `any` parameter holding
/// the string "3" stays a string (as `-p` text it would read as the int 3).
#[test]
fn resume_keeps_parameter_types() {
    let pipeline = PIPELINE
        .replace("  nap: {type: int, default: 1500}\n", "  nap: {type: int, default: 1500}\n  tag: {type: any, default: \"3\"}\n")
        .replace(
            "        - {task: add-up,",
            "        - {task: kind, component: type_of, inputs: {value: \"{{params.tag}}\"}, after: [nap]}\n        - {task: add-up,",
        );
    let case = Case::new(&pipeline);
    let dir = run_and_kill_during_nap(&case);
    let (code, record, err) = resume(&dir);
    assert_eq!(code, 0, "{err}");
    assert_eq!(record["params"]["tag"], "3");
    assert_eq!(task(&record, "guard/kind")["outputs"]["output"], "string");
}

/// Ensures that a group with an exit task that was entered before the stop, though none of
/// its tasks had started (they waited for room under `parallelism: 1`), is entered again by a
/// resume that carries a cancellation on: its exit task runs, as every entered group's must.
#[test]
fn an_entered_group_runs_its_exit_task_after_a_resume() {
    let case = Case::new(concat!(
        "name: two\n",
        "parallelism: 1\n",
        "steps:\n",
        "  - exit_handler:\n",
        "      name: a\n",
        "      exit: {task: a-exit, component: fault, inputs: {mode: nap, n: 1500}}\n",
        "      steps:\n",
        "        - {task: a-long, component: fault, inputs: {mode: nap, n: 60000}}\n",
        "  - exit_handler:\n",
        "      name: b\n",
        "      exit: {task: b-exit, component: print_op, inputs: {message: b handled}}\n",
        "      steps:\n",
        "        - {task: b-work, component: add, inputs: {a: 1}}\n",
    ));
    let run = interrupt_then_kill(&case, "a/a-long", "a/a-exit");
    let entered: Vec<String> = read(&run)
        .entries
        .into_iter()
        .filter_map(|e| match e {
            Entry::GroupEntered { id } => Some(id),
            _ => None,
        })
        .collect();
    let (code, record, err) = resume(&run);
    assert_eq!(code, 130, "{err}");
    // Both groups are entered at once: `parallelism` limits tasks, not groups.
    assert!(entered.iter().any(|g| g == "b"), "{entered:?}");
    let b_exit = task(&record, "b/b-exit");
    assert_eq!(b_exit["state"], "succeeded", "b was entered: its exit task runs: {record:#}");
    assert_eq!(common::printed(b_exit), ["b handled"]);
    assert_eq!(task(&record, "b/b-work")["skip"]["reason"], "cancelled");
    assert_eq!(task(&record, "a/a-exit")["state"], "succeeded");
}

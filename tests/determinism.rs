//! The outcome of a run (which tasks run, their states, skip reasons, outputs, what exit tasks
//! receive) does not depend on `--jobs` or timing (`docs/semantics.md`, rule 9): KFP's own
//! pipeline with several exit handlers under different `--jobs`, and a chaos test of random
//! pipelines generated from seeds, each run under several `--jobs` against invariants.

mod common;

use common::{Case, task};
use serde_json::{Value, json};

/// What a run did, without what timing decides (timestamps, run ids, attempt durations): per
/// task, in record order, its id, state, skip, failure, outputs, final status and printed lines.
fn outcome(record: &Value) -> Value {
    let tasks = record["tasks"].as_array().expect("tasks");
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let mut status = t["final_status"].clone();
            if let Some(s) = status.as_object_mut() {
                s.remove("run_id");
            }
            let printed: Vec<&Value> = t["logs"].as_array().into_iter().flatten().map(|l| &l["text"]).collect();
            json!({
                "id": t["id"], "state": t["state"], "skip": t["skip"], "failure": t["failure"],
                "outputs": t["outputs"], "final_status": status, "printed": printed,
            })
        })
        .collect();
    json!({"state": record["state"], "tasks": tasks})
}

/// KFP's `failing/pipeline_with_multiple_exit_handlers` (kubeflow/pipelines, sdk test data):
/// three sibling exit-handler groups; the body of the first fails. With the structural rule the
/// other two groups are independent of it, so they and all three handlers run, whatever
/// `--jobs` is (KFP runs all three too).
const MULTIPLE_EXIT_HANDLERS: &str = "name: pipeline-with-multiple-exit-handlers
params:
  message: {type: string, default: Hello World!}
steps:
  - exit_handler:
      exit: {task: print-op, component: print_op, inputs: {message: First exit handler has worked!}}
      steps:
        - {task: print-op-2, component: print_op, inputs: {message: '{{params.message}}'}}
        - {task: fail-op, component: fail_op, inputs: {message: Task failed.}}
  - exit_handler:
      exit: {task: print-op-3, component: print_op, inputs: {message: Second exit handler has worked!}}
      steps:
        - {task: print-op-4, component: print_op, inputs: {message: '{{params.message}}'}}
  - exit_handler:
      exit: {task: print-op-5, component: print_op, inputs: {message: Third exit handler has worked!}}
      steps:
        - {task: print-op-6, component: print_op, inputs: {message: '{{params.message}}'}}
";

/// Ensures that KFP's pipeline with three exit handlers, the first of whose bodies fails, runs
/// every independent task and all three handlers under `--jobs` 1, 2, 4 and 8, with identical
/// outcomes (it skipped the third group in some runs with `--jobs 2` under fail fast).
#[test]
fn kfp_multiple_exit_handlers_run_alike_under_any_jobs() {
    let case = Case::new(MULTIPLE_EXIT_HANDLERS);
    let mut outcomes = Vec::new();
    for jobs in ["1", "2", "4", "8", "2", "2"] {
        let (code, record) = case.run_json(&["--jobs", jobs]);
        assert_eq!(code, 1, "--jobs {jobs}: {record:#}");
        for id in ["exit-handler-1/print-op", "exit-handler-2/print-op-3", "exit-handler-3/print-op-5"] {
            assert_eq!(task(&record, id)["state"], "succeeded", "--jobs {jobs}: handler {id}");
        }
        for id in ["exit-handler-1/print-op-2", "exit-handler-2/print-op-4", "exit-handler-3/print-op-6"] {
            assert_eq!(task(&record, id)["state"], "succeeded", "--jobs {jobs}: {id} is independent of the failure");
        }
        assert_eq!(task(&record, "exit-handler-1/fail-op")["failure"]["kind"], "error");
        assert_eq!(outcome(&record)["tasks"][0]["printed"], json!(["Hello World!"]), "printed lines are compared");
        assert_eq!(task(&record, "exit-handler-2/print-op-3")["final_status"]["state"], "succeeded");
        assert_eq!(task(&record, "exit-handler-1/print-op")["final_status"]["state"], "failed");
        outcomes.push((jobs, outcome(&record)));
    }
    for (jobs, o) in &outcomes[1..] {
        assert_eq!(o, &outcomes[0].1, "--jobs {jobs} and --jobs 1 differ");
    }
}

/// A small deterministic random generator (splitmix64): a seed gives the same pipeline on every
/// machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` %.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// What a generated task does: mostly succeeds, sometimes returns an error or traps.
const MODES: &[&str] = &["ok", "ok", "ok", "ok", "error", "unreachable", "panic", "out_of_bounds"];

/// Generates a random pipeline: tasks of the `fault` guest that succeed, fail or trap, with
/// `after` dependencies and retries, exit-handler groups (some of whose exit tasks fail),
/// loops over literal lists (nested, with handlers per iteration), and `if`/`else` branches on
/// a parameter or an earlier task's output. No `fail_fast` and no deadlines: both depend on
/// timing by definition.
struct Generator {
    rng: Rng,
    /// Names given so far (task and group names are unique in the file).
    next_name: usize,
}

impl Generator {
    fn name(&mut self, prefix: &str) -> String {
        self.next_name += 1;
        format!("{prefix}{}", self.next_name)
    }

    /// The steps of one list, at `indent`, nested `depth` groups deep; `item` is the loop
    /// variable in scope, if any.
    fn steps(&mut self, indent: usize, depth: usize, item: Option<&str>, out: &mut String) {
        let pad = " ".repeat(indent);
        let count = 1 + self.rng.below(if depth == 0 { 5 } else { 3 });
        // Tasks of this list, for `after` and conditions.
        let mut siblings: Vec<String> = Vec::new();
        for _ in 0..count {
            let kind = if depth >= 3 { 0 } else { self.rng.below(10) };
            match kind {
                6 | 7 => {
                    let g = self.name("g");
                    let exit = self.name("x");
                    let exit_task = if self.rng.chance(20) {
                        format!("{{task: {exit}, component: fault, inputs: {{mode: error}}}}")
                    } else {
                        format!("{{task: {exit}, component: exit_report, inputs: {{message: {g}}}}}")
                    };
                    out.push_str(&format!(
                        "{pad}- exit_handler:\n{pad}    name: {g}\n{pad}    exit: {exit_task}\n{pad}    steps:\n"
                    ));
                    self.steps(indent + 6, depth + 1, item, out);
                }
                8 => {
                    let l = self.name("l");
                    let var = self.name("i");
                    let n = 1 + self.rng.below(3);
                    let items: Vec<&str> = (0..n).map(|_| self.rng.pick(MODES)).collect();
                    out.push_str(&format!(
                        "{pad}- parallel_for:\n{pad}    name: {l}\n{pad}    items: [{}]\n{pad}    as: {var}\n{pad}    steps:\n",
                        items.join(", ")
                    ));
                    self.steps(indent + 6, depth + 1, Some(&var), out);
                }
                9 => {
                    let c = self.name("c");
                    let condition = match siblings.last() {
                        Some(t) if self.rng.chance(60) => format!("\"{{{{tasks.{t}.output}}}} == 'ok'\""),
                        _ => format!("\"{{{{params.flag}}}} == '{}'\"", self.rng.pick(&["yes", "no"])),
                    };
                    out.push_str(&format!(
                        "{pad}- if:\n{pad}    name: {c}\n{pad}    condition: {condition}\n{pad}    steps:\n"
                    ));
                    self.steps(indent + 6, depth + 1, item, out);
                    if self.rng.chance(50) {
                        let e = self.name("c");
                        out.push_str(&format!("{pad}- else:\n{pad}    name: {e}\n{pad}    steps:\n"));
                        self.steps(indent + 6, depth + 1, item, out);
                    }
                }
                _ => {
                    let t = self.name("t");
                    let mode = match item {
                        Some(var) if self.rng.chance(60) => format!("\"{{{{{var}}}}}\""),
                        _ => self.rng.pick(MODES).to_string(),
                    };
                    let mut options = String::new();
                    if !siblings.is_empty() && self.rng.chance(40) {
                        let dep = &siblings[self.rng.below(siblings.len() as u64) as usize];
                        options.push_str(&format!(", after: [{dep}]"));
                    }
                    if self.rng.chance(10) {
                        options.push_str(", retries: 1");
                    }
                    out.push_str(&format!(
                        "{pad}- {{task: {t}, component: fault, inputs: {{mode: {mode}}}{options}}}\n"
                    ));
                    siblings.push(t);
                }
            }
        }
    }

    /// The pipeline body of seed `seed` (without `version` and `components`).
    fn pipeline(seed: u64) -> String {
        let mut generator = Generator { rng: Rng(seed), next_name: 0 };
        let mut out = format!(
            "name: chaos-{seed}\nbackoff: {{initial: 1ms}}\nparams:\n  flag: {{type: string, default: yes}}\nsteps:\n"
        );
        generator.steps(2, 0, None, &mut out);
        out
    }
}

/// The invariants every run keeps, whatever its tasks do: a skipped task never ran; every
/// exit task whose group ran anything ran exactly once, after its body, and received the
/// failures of its body; the run's state follows from its tasks' states.
fn check_invariants(pipeline: &str, record: &Value) {
    let tasks = record["tasks"].as_array().unwrap();
    let attempts = |t: &Value| t["attempts"].as_array().map_or(0, Vec::len);
    for t in tasks {
        if t["state"] == "skipped" {
            assert_eq!(attempts(t), 0, "a skipped task ran: {}\n{pipeline}", t["id"]);
        }
    }
    for exit in tasks.iter().filter(|t| t["exit_handler"] == true) {
        let id = exit["id"].as_str().unwrap();
        let group = &id[..id.rfind('/').unwrap()];
        let body: Vec<&Value> = tasks
            .iter()
            .filter(|t| t["id"].as_str().unwrap().starts_with(&format!("{group}/")) && t["id"] != exit["id"])
            .collect();
        let body_ran = body.iter().any(|t| attempts(t) > 0);
        if exit["state"] == "skipped" {
            assert!(!body_ran, "the body of `{group}` ran but its exit task was skipped\n{pipeline}");
            continue;
        }
        assert_eq!(attempts(exit), 1, "exit task {id} ran once\n{pipeline}");
        let failed: Vec<&Value> = body.iter().filter(|t| t["state"] == "failed").map(|t| &t["id"]).collect();
        let reported: Vec<&Value> =
            exit["final_status"]["failures"].as_array().unwrap().iter().map(|f| &f["task"]).collect();
        assert_eq!(reported, failed, "what exit task {id} received\n{pipeline}");
        let expected = if failed.is_empty() { "succeeded" } else { "failed" };
        assert_eq!(exit["final_status"]["state"], expected, "{id}\n{pipeline}");
        let body_end = body.iter().filter_map(|t| t["attempts"].as_array()?.last()?["finished_at"].as_str()).max();
        let exit_start = exit["attempts"][0]["started_at"].as_str().unwrap();
        assert!(
            body_end.is_none_or(|end| end <= exit_start),
            "exit task {id} started before its body ended\n{pipeline}"
        );
    }
    let any_failed = tasks.iter().any(|t| t["state"] == "failed");
    assert_eq!(record["state"], if any_failed { "failed" } else { "succeeded" }, "{pipeline}");
}

/// Ensures, for 100 random pipelines (groups, loops, branches, handlers, failing and trapping
/// components, retries), that runs under `--jobs` 1, 2 and 8 have identical outcomes
/// (timestamps aside) and keep the invariants of [`check_invariants`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_pipelines_run_alike_under_any_jobs() {
    use wasmpipe::run::{Cache, RunOptions, Runner};
    let runner = Runner::with_cache(Some(Cache::new(common::test_cache_dir()))).unwrap();
    let mut shapes = [0usize; 3];
    for seed in 0..100u64 {
        let body = Generator::pipeline(seed);
        let case = Case::new(&body);
        let mut first: Option<Value> = None;
        for jobs in [1, 2, 8] {
            let options = RunOptions { jobs, run_dir: case.runs(), write_record: false, ..RunOptions::default() };
            let prepared = runner
                .prepare_file(&case.file, &options)
                .await
                .unwrap_or_else(|e| panic!("seed {seed} does not validate: {e:#}\n{body}"));
            let record = serde_json::to_value(runner.run(&prepared, &options, &mut |_| {}).await).unwrap();
            check_invariants(&body, &record);
            let run_id = record["run_id"].as_str().unwrap().to_string();
            let outcome = serde_json::from_str::<Value>(&outcome(&record).to_string().replace(&run_id, "RUN")).unwrap();
            match &first {
                None => first = Some(outcome),
                Some(first) => assert_eq!(&outcome, first, "seed {seed}: --jobs {jobs} differs from --jobs 1\n{body}"),
            }
        }
        let state = first.unwrap()["state"].clone();
        shapes[if state == "succeeded" { 0 } else { 1 }] += 1;
        shapes[2] += body.matches("exit_handler").count();
    }
    // The generator makes both kinds of run, and handlers in them.
    assert!(shapes[0] >= 5 && shapes[1] >= 5 && shapes[2] >= 50, "succeeded, failed, handlers: {shapes:?}");
}

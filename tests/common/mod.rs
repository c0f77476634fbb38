//! Helpers shared by the end-to-end tests: pipelines in temporary directories that use the
//! guest components built by `wasmpipe-test-artifacts`, and the `wasmpipe` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wasmpipe_test_artifacts as art;

/// Every built guest component, by the name pipelines in tests give it.
pub const COMPONENTS: &[(&str, &str)] = &[
    ("print_op", art::EXAMPLE_PRINT_OP),
    ("fail_op", art::EXAMPLE_FAIL_OP),
    ("trap_op", art::EXAMPLE_TRAP_OP),
    ("spin_op", art::EXAMPLE_SPIN_OP),
    ("exit_report", art::EXAMPLE_EXIT_REPORT),
    ("add", art::ADD),
    ("type_of", art::TYPE_OF),
    ("scale", art::SCALE),
    ("collect", art::COLLECT),
    ("panic_op", art::PANIC_OP),
    ("attempt", art::ATTEMPT),
    ("fault", art::FAULT),
    ("echo", art::ECHO),
    ("flaky", art::FLAKY),
    ("sum", art::SUM),
    ("numbers", art::NUMBERS),
    ("total", art::TOTAL),
    ("model_dir", art::MODEL_DIR),
    ("probe", art::PROBE),
    ("hostile", art::HOSTILE),
    ("legacy_exit", art::LEGACY_EXIT),
    ("hostile_describe", art::HOSTILE_DESCRIBE),
    ("hostile_meta", art::HOSTILE_META),
    ("keywords", art::KEYWORDS),
    ("fetch", art::FETCH),
    ("gather", art::GATHER),
    ("kv_user", art::KV_USER),
    ("print_struct", art::PRINT_STRUCT),
    ("print_default", art::PRINT_DEFAULT),
];

/// The `.wasm` of built guest component `name` (of [`COMPONENTS`]).
pub fn component(name: &str) -> &'static str {
    COMPONENTS.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no test component `{name}`")).1
}

/// A temporary directory holding one pipeline file.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub file: PathBuf,
}

impl Case {
    /// Writes `body` (the pipeline without `version` and `components`) to `pipeline.yaml`,
    /// with a `components:` block naming every built guest.
    pub fn new(body: &str) -> Case {
        Case::with_components(body, &[])
    }

    /// Like [`Case::new`], with `extra` (name, path) components declared too; a relative path
    /// is relative to the case's directory.
    pub fn with_components(body: &str, extra: &[(&str, &str)]) -> Case {
        Case::raw(&format!("version: 1\n{}{body}", components_block(extra)))
    }

    /// Writes another pipeline file beside `pipeline.yaml` (for sub-pipelines): `body` with
    /// `version` and the `components:` block of [`Case::with_components`] with `extra`.
    pub fn add_pipeline(&self, name: &str, body: &str, extra: &[(&str, &str)]) {
        std::fs::write(self.dir.path().join(name), format!("version: 1\n{}{body}", components_block(extra))).unwrap();
    }

    /// Writes `text` as it is to `pipeline.yaml`.
    pub fn raw(text: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pipeline.yaml");
        std::fs::write(&file, text).unwrap();
        Case { dir, file }
    }

    /// The 1-based line of the first line of the pipeline file that contains `needle`.
    pub fn line_of(&self, needle: &str) -> usize {
        let text = std::fs::read_to_string(&self.file).unwrap();
        1 + text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("`{needle}` is not in the file"))
    }

    /// The run directory of this case.
    pub fn runs(&self) -> PathBuf {
        self.dir.path().join("runs")
    }

    /// `wasmpipe run FILE --output json ARGS...`: the exit code and the parsed stdout.
    pub fn run_json(&self, args: &[&str]) -> (i32, Value) {
        let out = wasmpipe(
            &["run", self.file.to_str().unwrap(), "--output", "json", "--run-dir", self.runs().to_str().unwrap()],
            args,
        );
        (out.0, parse(&out.1, &out.2))
    }

    /// `wasmpipe validate FILE --output json`: the exit code and the parsed stdout.
    pub fn validate_json(&self) -> (i32, Value) {
        let out = wasmpipe(&["validate", self.file.to_str().unwrap(), "--output", "json"], &[]);
        (out.0, parse(&out.1, &out.2))
    }
}

/// The `.wasm` of example component `name` (of `examples/components`).
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(art::EXAMPLES.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no example `{name}`")).1)
}

/// A case whose `components:` declare the example components `names` and the test guest
/// `add`, then `body` (the pipeline without `version` and `components`).
pub fn examples_case(body: &str, names: &[&str]) -> Case {
    let mut text = String::from("version: 1\ncomponents:\n");
    for name in names {
        text.push_str(&format!("  {name}: {{path: {:?}}}\n", example(name)));
    }
    text.push_str(&format!("  add: {{path: {:?}}}\n", art::ADD));
    Case::raw(&(text + body))
}

/// A `components:` block naming every built guest, and `extra` (name, spec) entries first;
/// a spec is a path, or a YAML flow mapping (`{pipeline: sub.yaml}`).
fn components_block(extra: &[(&str, &str)]) -> String {
    let mut components = String::from("components:\n");
    for (name, spec) in extra {
        if spec.starts_with('{') {
            components.push_str(&format!("  {name}: {spec}\n"));
        } else {
            components.push_str(&format!("  {name}: {{path: {spec:?}}}\n"));
        }
    }
    for (name, path) in COMPONENTS {
        components.push_str(&format!("  {name}: {{path: {path:?}}}\n"));
    }
    components
}

fn parse(stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"))
}

/// The compiled-component cache shared by the tests of this test binary (never the user's).
pub fn test_cache_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The `wasmpipe` binary, with a hermetic environment: the tests' own cache and no run dir.
pub fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wasmpipe"));
    command.env_remove("WASMPIPE_RUN_DIR").env("WASMPIPE_CACHE_DIR", test_cache_dir());
    command
}

/// Runs the `wasmpipe` binary: exit code, stdout, stderr.
pub fn wasmpipe(args: &[&str], more: &[&str]) -> (i32, String, String) {
    let out = command().args(args).args(more).output().expect("running wasmpipe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `wasmpipe validate` of a case that must fail: asserts exit 2 and returns the messages.
pub fn validation_messages(case: &Case) -> Vec<String> {
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out:#}");
    out["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap().to_string()).collect()
}

/// Asserts that each needle is in one of `messages`, and that there are exactly that many.
pub fn assert_messages(messages: &[String], needles: &[&str]) {
    for needle in needles {
        assert!(messages.iter().any(|m| m.contains(needle)), "no message with `{needle}` in {messages:#?}");
    }
    assert_eq!(messages.len(), needles.len(), "{messages:#?}");
}

/// The most intervals (start, end; RFC 3339 strings, comparable as text) open at the same
/// moment; an interval that ends when another starts does not overlap it.
pub fn most_at_once(intervals: impl IntoIterator<Item = (String, String)>) -> i32 {
    let mut events: Vec<(String, i32)> = intervals.into_iter().flat_map(|(s, e)| [(s, 1), (e, -1)]).collect();
    // At equal times, an end comes before a start (-1 sorts first).
    events.sort();
    let (mut running, mut most) = (0, 0);
    for (_, delta) in events {
        running += delta;
        most = most.max(running);
    }
    most
}

/// The ids of a record's tasks, in record order.
pub fn ids(record: &Value) -> Vec<String> {
    record["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect()
}

/// The task with this id in a JSON run record.
pub fn task<'a>(record: &'a Value, id: &str) -> &'a Value {
    record["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no task `{id}` in {record:#}"))
}

/// The lines of a task's log from one source (`stdout`, `stderr`, `wasmpipe`, a log level).
pub fn log_lines(task: &Value, source: &str) -> Vec<String> {
    task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source"] == source)
        .map(|l| l["text"].as_str().unwrap().to_string())
        .collect()
}

/// The stdout lines a task printed, from its record.
pub fn printed(task: &Value) -> Vec<String> {
    log_lines(task, "stdout")
}

/// Runs a one-task body (`task` is the YAML flow mapping of a task named `body`) inside an
/// exit handler `g` whose exit task `e` reports the final status; checks that the run failed,
/// that the handler ran exactly once and succeeded, and that it received the body's failure.
/// Returns the body's failure and the handler's record.
pub fn fault_under_handler(task_yaml: &str, cli: &[&str]) -> (Value, Value) {
    let case = Case::new(&format!(
        "name: fault\nsteps:\n  - exit_handler:\n      name: g\n      exit: {{task: e, component: exit_report, inputs: {{message: cleanup}}}}\n      steps:\n        - {task_yaml}\n"
    ));
    let (code, record) = case.run_json(cli);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(record["state"], "failed");
    let body = task(&record, "g/body");
    assert_eq!(body["state"], "failed", "{body:#}");
    assert_eq!(body["attempts"].as_array().unwrap().len(), 1);
    let failure = body["failure"].clone();
    assert_eq!(body["attempts"][0]["failure"], failure);
    let e = task(&record, "g/e").clone();
    assert_eq!(e["state"], "succeeded", "the handler ran: {e:#}");
    assert_eq!(e["attempts"].as_array().unwrap().len(), 1, "exactly once");
    assert_eq!(printed(&e)[0], "cleanup");
    let status = &e["final_status"];
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failures"].as_array().unwrap().len(), 1);
    assert_eq!(status["failures"][0]["task"], "g/body");
    assert_eq!(status["failures"][0]["kind"], failure["kind"]);
    assert_eq!(status["failures"][0]["message"], failure["message"]);
    (failure, e)
}

/// A pipeline file from `examples/` copied to a temporary directory with the pipeline files
/// beside it, and every built example component in `components/`, as the examples' `run.sh`
/// scripts lay them out.
pub fn example_case(relative: &str) -> Case {
    let file = repo_root().join("examples").join(relative);
    let case = Case::raw(&std::fs::read_to_string(&file).unwrap());
    // Other pipeline files beside it, for sub-pipelines.
    for entry in std::fs::read_dir(file.parent().unwrap()).unwrap().map(Result::unwrap) {
        let to = case.dir.path().join(entry.file_name());
        if entry.path() != file && to != case.file && entry.path().extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
    let components = case.dir.path().join("components");
    std::fs::create_dir_all(&components).unwrap();
    for (name, path) in art::EXAMPLES {
        std::fs::copy(path, components.join(format!("{name}.wasm"))).unwrap();
    }
    case
}

/// The repository's root.
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Starts `wasmpipe run` on `case` in the background, into the case's run directory, with its
/// output dropped: for tests that interrupt or kill a run.
pub fn spawn_run(case: &Case) -> std::process::Child {
    command()
        .args(["run", case.file.to_str().unwrap(), "--run-dir", case.runs().to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits, at most 12 s, until the first run under `runs` has a journal whose tasks started
/// and not ended satisfy `until`; returns that run's directory, or panics saying it never
/// reached `what`.
pub fn wait_for_journal(runs: &Path, what: &str, until: impl Fn(&[String]) -> bool) -> PathBuf {
    for _ in 0..600 {
        if let Some(run) = wasmpipe::history::list(runs).into_iter().next()
            && until(&wasmpipe::history::Progress::of(&run.dir).unfinished)
        {
            return run.dir;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the run never reached {what}");
}

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
    ("exit_report", art::EXAMPLE_EXIT_REPORT),
    ("add", art::ADD),
    ("type_of", art::TYPE_OF),
    ("scale", art::SCALE),
    ("collect", art::COLLECT),
    ("panic_op", art::PANIC_OP),
    ("attempt", art::ATTEMPT),
];

/// A temporary directory holding one pipeline file.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub file: PathBuf,
}

impl Case {
    /// Writes `body` (the pipeline without `version` and `components`) to `pipeline.yaml`,
    /// with a `components:` block naming every built guest.
    pub fn new(body: &str) -> Case {
        let mut components = String::from("components:\n");
        for (name, path) in COMPONENTS {
            components.push_str(&format!("  {name}: {{path: {path:?}}}\n"));
        }
        Case::raw(&format!("version: 1\n{components}{body}"))
    }

    /// Writes `text` as it is to `pipeline.yaml`.
    pub fn raw(text: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pipeline.yaml");
        std::fs::write(&file, text).unwrap();
        Case { dir, file }
    }

    /// The run directory of this case.
    pub fn runs(&self) -> PathBuf {
        self.dir.path().join("runs")
    }

    /// `wasmpipe run FILE --output json ARGS...`: the exit code and the parsed stdout.
    pub fn run_json(&self, args: &[&str]) -> (i32, Value) {
        let out = wasmpipe(
            &[
                "run",
                self.file.to_str().unwrap(),
                "--output",
                "json",
                "--run-dir",
                self.runs().to_str().unwrap(),
            ],
            args,
        );
        (out.0, parse(&out.1, &out.2))
    }

    /// `wasmpipe validate FILE --output json`: the exit code and the parsed stdout.
    pub fn validate_json(&self) -> (i32, Value) {
        let out = wasmpipe(
            &["validate", self.file.to_str().unwrap(), "--output", "json"],
            &[],
        );
        (out.0, parse(&out.1, &out.2))
    }
}

fn parse(stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"))
}

/// Runs the `wasmpipe` binary: exit code, stdout, stderr.
pub fn wasmpipe(args: &[&str], more: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wasmpipe"))
        .args(args)
        .args(more)
        .env_remove("WASMPIPE_RUN_DIR")
        .output()
        .expect("running wasmpipe");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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

/// The stdout lines a task printed, from its record.
pub fn printed(task: &Value) -> Vec<String> {
    task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source"] == "stdout")
        .map(|l| l["text"].as_str().unwrap().to_string())
        .collect()
}

/// The repository's root.
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

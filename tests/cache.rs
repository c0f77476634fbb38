//! The compiled-component cache: a second run compiles nothing, the record says so, runs that
//! share the cache do not disturb each other, and `wasmpipe cache` shows and clears it.

mod common;

use std::process::Stdio;

use common::{Case, command};

/// Runs `case` with the cache in `cache_dir`; returns the record.
fn run_with_cache(case: &Case, cache_dir: &std::path::Path) -> serde_json::Value {
    let out = command()
        .args(["run", case.file.to_str().unwrap(), "--output", "json", "--run-dir", case.runs().to_str().unwrap()])
        .env("WASMPIPE_CACHE_DIR", cache_dir)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

const TWO_COMPONENTS: &str = "name: c\nsteps:\n  - {task: a, component: add, inputs: {a: 1}}\n  - {task: b, component: type_of, inputs: {value: \"{{tasks.a.output}}\"}}\n";

/// Ensures that the first run compiles each component and the second loads them all from the
/// cache, with the same results.
#[test]
fn a_second_run_compiles_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let case = Case::new(TWO_COMPONENTS);
    let first = run_with_cache(&case, cache.path());
    assert_eq!(first["compile"], serde_json::json!({"compiled": 2, "from_cache": 0}));
    let second = run_with_cache(&case, cache.path());
    assert_eq!(second["compile"], serde_json::json!({"compiled": 0, "from_cache": 2}));
    assert_eq!(second["tasks"][1]["outputs"], first["tasks"][1]["outputs"]);
    assert_eq!(second["state"], "succeeded");
}

/// Ensures that runs started together on an empty cache all succeed and leave complete entries
/// only (writes are atomic), which later runs load.
#[test]
fn concurrent_runs_share_the_cache_safely() {
    let cache = tempfile::tempdir().unwrap();
    let case = Case::new(TWO_COMPONENTS);
    let children: Vec<_> = (0..4)
        .map(|_| {
            command()
                .args([
                    "run",
                    case.file.to_str().unwrap(),
                    "--output",
                    "json",
                    "--run-dir",
                    case.runs().to_str().unwrap(),
                ])
                .env("WASMPIPE_CACHE_DIR", cache.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
    }
    let entries: Vec<String> = std::fs::read_dir(cache.path().join("compiled"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries.len(), 2, "one entry per component, no temporary files: {entries:?}");
    assert!(entries.iter().all(|e| e.ends_with(".cwasm")));
    assert_eq!(run_with_cache(&case, cache.path())["compile"]["from_cache"], 2);
}

/// Ensures that `wasmpipe cache` shows the entries and `wasmpipe cache clear` removes them.
#[test]
fn the_cache_command_shows_and_clears() {
    let cache = tempfile::tempdir().unwrap();
    run_with_cache(&Case::new(TWO_COMPONENTS), cache.path());
    let show = |action: &str| {
        let out = command().args(["cache", action]).env("WASMPIPE_CACHE_DIR", cache.path()).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(show("show").contains(": 2 compiled component(s)"), "{}", show("show"));
    assert!(show("clear").contains("removed 2 compiled component(s)"));
    assert!(show("show").contains(": 0 compiled component(s)"));
}

//! Building components from source (`build:`): `wasmpipe build` runs the build of a component
//! whose sources changed or whose file is missing, and only then; `run --build` builds first;
//! a failing build stops with its output and exit 2.

mod common;

use common::{Case, task, wasmpipe};

/// A pipeline whose `hello` command is built from `src/hello.wat` by copying it, each build
/// appending a line to `builds.log`.
fn built_case() -> Case {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: hello, component: hello}\n",
        &[(
            "hello",
            "{path: out/hello.wat, command: {outputs: {said: {type: string, from: stdout}}}, build: {command: \"mkdir -p out && cp src/hello.wat out/hello.wat && echo built >> builds.log\", sources: [src]}}",
        )],
    );
    std::fs::create_dir_all(case.dir.path().join("src")).unwrap();
    write_hello(&case, "hello");
    case
}

/// Writes a preview-1 command in text that prints `text` and a newline.
fn write_hello(case: &Case, text: &str) {
    let line = format!("{text}\\n");
    let len = text.len() + 1;
    std::fs::write(
        case.dir.path().join("src/hello.wat"),
        format!(
            r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "{line}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const {len}))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#
        ),
    )
    .unwrap();
}

fn builds(case: &Case) -> usize {
    std::fs::read_to_string(case.dir.path().join("builds.log")).map(|s| s.lines().count()).unwrap_or(0)
}

/// Ensures that `wasmpipe build` builds a component whose file is missing, does nothing the
/// second time, builds again when a source changes, and that the run uses the new build.
#[test]
fn build_runs_only_when_sources_change() {
    let case = built_case();
    let file = case.file.to_str().unwrap();
    let (code, _, err) = wasmpipe(&["build", file], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("built hello in"), "{err}");
    assert_eq!(builds(&case), 1);

    let (code, _, err) = wasmpipe(&["build", file], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("hello is up to date"), "{err}");
    assert_eq!(builds(&case), 1);

    write_hello(&case, "changed");
    let (code, record) = case.run_json(&["--build"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(builds(&case), 2);
    assert_eq!(task(&record, "hello")["outputs"]["said"], "changed");

    // A deleted output is rebuilt even though the sources did not change.
    std::fs::remove_file(case.dir.path().join("out/hello.wat")).unwrap();
    let (code, _, err) = wasmpipe(&["build", file], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(builds(&case), 3);
}

/// Ensures that a failing build stops `run --build` with exit 2 before anything runs, naming
/// the component and showing what the command printed; and that a missing source is named.
#[test]
fn a_failing_build_stops_with_its_output() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: hello, component: hello}\n",
        &[(
            "hello",
            "{path: out/hello.wat, command: {}, build: {command: \"echo compiler says no >&2; exit 3\", sources: [pipeline.yaml]}}",
        )],
    );
    let (code, _, err) =
        wasmpipe(&["run", case.file.to_str().unwrap(), "--build", "--run-dir", case.runs().to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("component `hello`: build command `echo compiler says no >&2; exit 3` failed"), "{err}");
    assert!(err.contains("compiler says no"), "{err}");
    // With --output json, stdout holds the errors, with the file and the place.
    let (code, out) = case.run_json(&["--build"]);
    assert_eq!(code, 2);
    assert_eq!(out["errors"][0]["path"], "components.hello.build", "{out}");
    assert!(out["errors"][0]["line"].as_u64().is_some(), "{out}");
    assert!(!case.runs().exists(), "nothing ran");

    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: hello, component: hello}\n",
        &[("hello", "{path: out/hello.wat, command: {}, build: {command: \"true\", sources: [missing.c]}}")],
    );
    let (code, _, err) = wasmpipe(&["build", case.file.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("build source `missing.c`: cannot read"), "{err}");
}

/// Ensures that a component that declares `build:` but was never built is reported with the
/// command that builds it.
#[test]
fn an_unbuilt_component_says_how_to_build_it() {
    let case = built_case();
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out}");
    let message = out["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("component `hello` (out/hello.wat) is not built yet"), "{message}");
    assert!(message.contains("wasmpipe run --build"), "{message}");
}

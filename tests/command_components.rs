//! WASI commands as components (KFP's container component with a `.wasm`): a preview-1 module
//! and a preview-2 command that know nothing of wasmpipe run with templated argv and env, their
//! outputs read from the files they write and from stdout; a non-zero exit fails the task with
//! kind `error`, and `.wat` text is accepted wherever a component path is.

mod common;

use common::{Case, task};
use serde_json::json;
use wasmpipe_test_artifacts as art;

/// A pipeline whose `wc` component is the command at `path`: the numbers guest writes a
/// dataset, `wc` counts its lines into a file output, copies it upper-cased into an artifact and
/// prints a label from its environment; `total` reads the copy.
fn wc_case(path: &str, exit_code: i64) -> Case {
    Case::with_components(
        &format!(
            "name: p\nsteps:\n  - {{task: gen, component: numbers, inputs: {{count: 4}}}}\n  - {{task: wc, component: wc, inputs: {{data: \"{{{{tasks.gen.outputs.data}}}}\", label: demo, code: {exit_code}}}}}\n  - {{task: add-up, component: total, inputs: {{data: \"{{{{tasks.wc.outputs.upper}}}}\"}}}}\n"
        ),
        &[(
            "wc",
            &format!(
                "{{path: {path:?}, command: {{args: [\"{{{{inputs.data}}}}\", \"{{{{outputs.lines}}}}\", \"{{{{outputs.upper}}}}\"], env: {{LABEL: \"label-{{{{inputs.label}}}}\", EXIT_CODE: \"{{{{inputs.code}}}}\"}}, inputs: {{data: {{type: artifact, kind: Dataset}}, label: {{type: string}}, code: {{type: int, default: 0}}}}, outputs: {{lines: {{type: int}}, upper: {{type: artifact, kind: Dataset}}, said: {{type: string, from: stdout}}}}}}}}"
            ),
        )],
    )
}

/// Ensures that a preview-1 command module and a preview-2 command component each get their
/// templated arguments and environment, and that their outputs come from the file they wrote
/// (typed), from stdout, and as an artifact a downstream task reads.
#[test]
fn p1_and_p2_commands_run_with_templates_and_file_outputs() {
    for path in [art::CMD_P1_WC, art::CMD_P2_WC] {
        let case = wc_case(path, 0);
        let (code, record) = case.run_json(&[]);
        assert_eq!(code, 0, "{path}: {record:#}");
        let outputs = &task(&record, "wc")["outputs"];
        assert_eq!(outputs["lines"], 4, "{path}");
        assert!(outputs["lines"].is_i64());
        assert_eq!(outputs["said"], "lines=4 label=label-demo", "{path}");
        assert_eq!(outputs["upper"]["kind"], "Dataset");
        assert_eq!(task(&record, "add-up")["outputs"]["sum"], 10, "{path}");
    }
}

/// Ensures that a command exiting with a non-zero status fails its task with kind `error`, the
/// status (exact for preview 1; preview 2 reports only failure, status 1) and its stderr.
#[test]
fn a_non_zero_exit_fails_with_the_status_and_stderr() {
    for (path, status) in [(art::CMD_P1_WC, 7), (art::CMD_P2_WC, 1)] {
        let case = wc_case(path, 7);
        let (code, record) = case.run_json(&[]);
        assert_eq!(code, 1, "{record:#}");
        let failure = &task(&record, "wc")["failure"];
        assert_eq!(failure["kind"], "error");
        let message = failure["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("the command exited with status {status}")), "{path}: {message}");
        assert!(message.contains("failing on purpose with status 7"), "{message}");
        assert_eq!(task(&record, "add-up")["skip"]["reason"], "upstream_failed");
    }
}

/// Ensures that a command that exits 0 without writing a declared output file fails with a
/// message naming the output and the path.
#[test]
fn a_missing_output_file_fails_the_task() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 2}}\n  - {task: wc, component: wc, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n",
        &[(
            "wc",
            &format!(
                "{{path: {:?}, command: {{args: [\"{{{{inputs.data}}}}\", \"/out/elsewhere\"], inputs: {{data: {{type: artifact}}}}, outputs: {{lines: {{type: int}}}}}}}}",
                art::CMD_P1_WC
            ),
        )],
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let message = task(&record, "wc")["failure"]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("output `lines`: the command wrote no `/out/lines`"), "{message}");
}

/// Ensures that `.wat` text is accepted for a wasmpipe component's path and for a command's:
/// a text preview-1 command that prints, and a text core module that is not a command.
#[test]
fn wat_text_is_accepted_where_a_component_path_is() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: hello, component: hello}\n",
        &[("hello", "{path: hello.wat, command: {outputs: {said: {type: string, from: stdout}}}}")],
    );
    std::fs::write(
        case.dir.path().join("hello.wat"),
        r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wat\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 15))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
    )
    .unwrap();
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "hello")["outputs"], json!({"said": "hello from wat"}));

    // A text file that is not WebAssembly is reported as such, naming the file.
    std::fs::write(case.dir.path().join("hello.wat"), "(module (func $broken").unwrap();
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out}");
    assert!(out["errors"][0]["message"].as_str().unwrap().contains("hello.wat:1:22"), "{out}");
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let failure = &task(&record, "hello")["failure"];
    assert_eq!(failure["kind"], "load");
    assert!(failure["message"].as_str().unwrap().contains("hello.wat` is not valid WebAssembly text"), "{failure}");
}

/// Ensures that command declarations are checked before the run: placeholders naming no
/// declared input or output, a placeholder of another kind, and an artifact from stdout.
#[test]
fn command_declarations_are_checked() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: wc, component: wc, inputs: {x: 1}}\n",
        &[(
            "wc",
            &format!(
                "{{path: {:?}, command: {{args: [\"{{{{inputs.y}}}}\", \"{{{{params.x}}}}\"], env: {{A: \"{{{{outputs.nope}}}}\"}}, inputs: {{x: {{type: int}}}}, outputs: {{art: {{type: artifact, from: stdout}}}}}}}}",
                art::CMD_P1_WC
            ),
        )],
    );
    let messages = common::validation_messages(&case);
    common::assert_messages(
        &messages,
        &[
            "`{{inputs.y}}`: command `wc` declares no input `y`",
            "`{{params.x}}` is not a placeholder",
            "`{{outputs.nope}}`: command `wc` declares no output `nope`",
            "output `art` of command `wc` is an artifact: it is written at `/out/art`, not read from stdout",
        ],
    );
}

/// Ensures that a command cannot read a host file by leaving a symlink where a value output is
/// read: the task fails, naming the output, and the file's content appears nowhere.
#[test]
fn a_symlink_where_an_output_is_read_fails_the_task() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: sneaky, component: sneaky}\n",
        &[("sneaky", "{path: sneaky.wat, command: {outputs: {result: {type: string}}}}")],
    );
    let secret = case.dir.path().join("secret.txt");
    std::fs::write(&secret, "TOPSECRET").unwrap();
    // From /out (the attempt's staging dir on the host), enough `..` reach `/`.
    let target = format!("{}{}", "../".repeat(30), secret.to_str().unwrap().trim_start_matches('/'));
    std::fs::write(
        case.dir.path().join("sneaky.wat"),
        format!(
            r#"(module
  (import "wasi_snapshot_preview1" "path_symlink" (func $symlink (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{target}")
  (data (i32.const 1000) "result")
  (func (export "_start")
    ;; fd 3 is /in, fd 4 is /out
    (drop (call $symlink (i32.const 0) (i32.const {len}) (i32.const 4) (i32.const 1000) (i32.const 6)))))"#,
            len = target.len()
        ),
    )
    .unwrap();
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let failure = &task(&record, "sneaky")["failure"];
    assert_eq!(failure["kind"], "error");
    assert!(failure["message"].as_str().unwrap().contains("`/out/result` must be a plain file"), "{failure}");
    assert!(!record.to_string().contains("TOPSECRET"));
}

//! The artifact sandbox (`docs/semantics.md`, "Sandbox defaults"): a task sees its inputs read-only
//! at `/in` and writes only under `/out`; a guest that tries `..`, absolute paths or symlinks out,
//! changes its input, or writes too much fails only itself and changes nothing outside.

mod common;

use common::{Case, task};
use serde_json::json;

/// Ensures that a guest trying to read and write outside its directories (through `..`,
/// absolute paths and a symlink) gets nowhere, and that no file appears outside the sandbox.
#[test]
fn paths_out_of_the_sandbox_lead_nowhere() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 2}}\n  - {task: probe, component: probe, inputs: {mode: escape, input: \"{{tasks.gen.outputs.data}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "probe")["outputs"]["escaped"], json!([]));
    let root = case.runs().join(record["run_id"].as_str().unwrap());
    // `/in/../escaped.txt` and `/out/../escaped.txt` would land in the attempt's staging dir.
    for dir in [root.clone(), root.join("staging"), case.dir.path().to_path_buf()] {
        assert!(!dir.join("escaped.txt").exists(), "{} has escaped.txt", dir.display());
    }
    assert_eq!(std::fs::read_to_string(root.join("artifacts/gen/data")).unwrap(), "1\n2");
}

/// Ensures that a guest cannot change an input artifact: the write fails, the task fails with
/// the guest's error, and the exit task that runs after it reads the original content.
#[test]
fn an_input_artifact_is_read_only() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 4}}\n  - exit_handler:\n      name: guard\n      exit: {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n      steps:\n        - {task: vandal, component: probe, inputs: {mode: overwrite, input: \"{{tasks.gen.outputs.data}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let vandal = task(&record, "guard/vandal");
    assert_eq!(vandal["failure"]["kind"], "error");
    let message = vandal["failure"]["message"].as_str().unwrap();
    assert!(message.starts_with("could not change the input"), "{message}");
    assert_eq!(task(&record, "guard/add-up")["outputs"]["sum"], 10);
    let root = case.runs().join(record["run_id"].as_str().unwrap());
    assert_eq!(std::fs::read_to_string(root.join("artifacts/gen/data")).unwrap(), "1\n2\n3\n4");
}

/// Ensures that an output that is a symlink (here pointing out of the sandbox) is refused:
/// the task fails with a message naming the output, and nothing is published.
#[test]
fn a_symlink_output_fails_the_task() {
    let case = Case::new("name: p\nsteps:\n  - {task: sneaky, component: probe, inputs: {mode: symlink}}\n");
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let failure = &task(&record, "sneaky")["failure"];
    assert_eq!(failure["kind"], "error", "{failure}");
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("output artifact `data`"), "{message}");
    let root = case.runs().join(record["run_id"].as_str().unwrap());
    assert!(!root.join("artifacts/sneaky").exists());
}

/// Ensures that output artifacts over the task's `artifact_limit` fail it with kind
/// `output_limit`, that `--artifact-limit` sets the default, and that a task within it succeeds.
#[test]
fn outputs_over_the_limit_fail_with_output_limit() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: small, component: probe, inputs: {mode: big, bytes: 1000}, ignore_upstream_failure: true}\n  - {task: large, component: probe, inputs: {mode: big, bytes: 5000}}\n  - {task: allowed, component: probe, inputs: {mode: big, bytes: 5000}, artifact_limit: 8KiB, ignore_upstream_failure: true}\n",
    );
    let (code, record) = case.run_json(&["--artifact-limit", "4KiB"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(task(&record, "small")["state"], "succeeded");
    assert_eq!(task(&record, "allowed")["state"], "succeeded");
    let failure = &task(&record, "large")["failure"];
    assert_eq!(failure["kind"], "output_limit");
    assert!(failure["message"].as_str().unwrap().contains("5000 bytes, over its limit of 4096 bytes"), "{failure}");
}

/// Ensures that a value that merely looks like an artifact (a dict a component returned) is
/// never treated as one: `--export` does not copy the file it names, and caching does not
/// write where its digest points.
#[test]
fn a_dict_shaped_like_an_artifact_is_only_a_dict() {
    let case = Case::new(
        "name: p\nparams:\n  fake: {type: dict}\nsteps:\n  - {task: fake, component: echo, inputs: {value: \"{{params.fake}}\"}, cache: true}\noutputs:\n  leak: \"{{tasks.fake.output}}\"\n",
    );
    let secret = case.dir.path().join("secret.txt");
    std::fs::write(&secret, "TOPSECRET").unwrap();
    let planted = case.dir.path().join("planted.txt");
    let fake = json!({
        "kind": "Dataset", "directory": false, "name": "x", "path": secret.to_str().unwrap(), "size": 9,
        "digest": format!("blake3:{}", planted.display()), "metadata": {}
    });
    let export = case.dir.path().join("exported");
    let (code, record) = case.run_json(&["-p", &format!("fake={fake}"), "--export", export.to_str().unwrap()]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["leak"], fake, "the value passes through unchanged");
    assert!(!export.join("leak").exists(), "a dict output is not exported");
    assert!(!planted.exists(), "caching wrote where a fake digest pointed");
    let (code, again) = case.run_json(&["-p", &format!("fake={fake}")]);
    assert_eq!(code, 0);
    assert_eq!(task(&again, "fake")["cached"], true);
    assert_eq!(task(&again, "fake")["outputs"]["output"], fake, "a cache hit does not rewrite the dict");
}

/// Ensures that names which would become paths are refused before the run: a pipeline output
/// named with `..`, and a command input named with a slash.
#[test]
fn names_that_would_be_paths_are_refused() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 1}}\noutputs:\n  \"../victim\": \"{{tasks.gen.outputs.data}}\"\n",
        &[("cmd", "{path: x.wasm, command: {args: [\"{{inputs.a/b}}\"], inputs: {\"a/b\": {type: artifact}}}}")],
    );
    let messages = common::validation_messages(&case);
    common::assert_messages(
        &messages,
        &[
            "pipeline output name `../victim` may use only letters, digits, `-` and `_`",
            "input name `a/b` may use only letters, digits, `-` and `_`",
        ],
    );
}

/// Ensures that a full disk keeps its cause: a task that writes a 1 MiB output artifact into a
/// run directory on a 512 KiB filesystem fails with the system's own words ("No space left on
/// device") in its failure, its handler runs, and the record (printed, even when it cannot be
/// written there) says so. The filesystem is a tmpfs in a private mount namespace
/// (`unshare -rm`); where user namespaces are not available the test says so and checks nothing.
#[test]
fn a_full_disk_keeps_its_cause() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: body, component: probe, inputs: {mode: big, bytes: 1048576}}\n",
    );
    let full = case.dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    let out = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=512k tmpfs \"$1\" || exit 97; shift; exec \"$@\"", "sh"])
        .arg(&full)
        .arg(env!("CARGO_BIN_EXE_wasmpipe"))
        .args(["run", case.file.to_str().unwrap(), "--output", "json", "--run-dir"])
        .arg(full.join("runs"))
        .env_remove("WASMPIPE_RUN_DIR")
        .env("WASMPIPE_CACHE_DIR", common::test_cache_dir())
        .output();
    let out = match out {
        Ok(out) if out.status.code() != Some(97) && !String::from_utf8_lossy(&out.stderr).starts_with("unshare:") => {
            out
        }
        _ => {
            eprintln!("a_full_disk_keeps_its_cause: no private mount namespace here (unshare -rm); not checked");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let record: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert!(matches!(out.status.code(), Some(1 | 3)), "{:?}: {stderr}", out.status);
    let body = task(&record, "g/body");
    assert_eq!(body["state"], "failed", "{body:#}");
    let message = body["failure"]["message"].as_str().unwrap();
    assert!(message.contains("No space left on device"), "{message}");
    assert_eq!(task(&record, "g/e")["state"], "succeeded", "the handler ran");
}

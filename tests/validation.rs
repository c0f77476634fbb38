//! Validation before anything runs (`docs/semantics.md`, rule 12): each error exits 2 from
//! `wasmpipe validate` (and `run`) with a message that names the place, its line, and the fix.

mod common;

use common::Case;
use serde_json::Value;

/// Validates `body` and returns its errors, asserting exit 2, and the case.
fn errors(body: &str) -> (Vec<Value>, Case) {
    let case = Case::new(body);
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out:#}");
    (out["errors"].as_array().unwrap().clone(), case)
}

fn find<'a>(errors: &'a [Value], needle: &str) -> &'a Value {
    errors
        .iter()
        .find(|e| e["message"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no error containing `{needle}` in {errors:#?}"))
}

/// Ensures that a valid pipeline validates with exit 0.
#[test]
fn a_valid_pipeline_passes() {
    let case = Case::new("name: ok\nsteps:\n  - {task: a, component: add, inputs: {a: 1}}\n");
    let (code, out) = case.validate_json();
    assert_eq!(code, 0, "{out:#}");
    assert_eq!(out["errors"], serde_json::json!([]));
}

/// Ensures that a name close to one the place accepts gets a "did you mean": fields, components,
/// tasks (in references and `after`), parameters, inputs and outputs; a name close to nothing
/// gets none.
#[test]
fn typos_get_a_did_you_mean() {
    let (errs, _) = errors("name: t\nsteps:\n  - {task: a, component: add, inputs: {a: 1}, retris: 2}\n");
    let e = find(&errs, "unknown field `retris`");
    assert!(e["message"].as_str().unwrap().contains("(did you mean `retries`?)"), "{e}");

    let (errs, _) = errors(concat!(
        "name: t\nparams:\n  count: {type: int, default: 1}\nsteps:\n",
        "  - {task: first, component: ad, inputs: {a: 1}}\n",
        "  - {task: second, component: add, inputs: {a: \"{{tasks.frist.output}}\"}, after: [firts]}\n",
        "  - {task: third, component: add, inputs: {a: \"{{params.cuont}}\", bb: 1}}\n",
        "  - {task: fourth, component: add, inputs: {a: \"{{tasks.third.outputs.outpt}}\"}}\n",
        "  - {task: fifth, component: add, inputs: {a: \"{{params.zzzzzz}}\"}}\n",
    ));
    let suggested = |needle: &str, name: &str| {
        let message = find(&errs, needle)["message"].as_str().unwrap().to_string();
        assert!(message.contains(&format!("(did you mean `{name}`?)")), "{message}");
    };
    suggested("component `ad`, which is not declared", "add");
    suggested("there is no task `frist`", "first");
    suggested("`after: firts`", "first");
    suggested("`{{params.cuont}}` names no parameter", "count");
    suggested("has no input `bb`", "b");
    suggested("has no output `outpt`", "output");
    let far = find(&errs, "`{{params.zzzzzz}}` names no parameter")["message"].as_str().unwrap();
    assert!(!far.contains("did you mean"), "{far}");
}

/// Ensures that type errors name what the place expects in words, not Rust's type names.
#[test]
fn type_errors_speak_of_values_not_rust_types() {
    let (errs, _) = errors("name: t\nsteps:\n  - {task: a, component: add, inputs: {a: 1}, retries: -1}\n");
    let message = find(&errs, "`-1`")["message"].as_str().unwrap();
    assert!(message.ends_with("expected a whole number from 0 to 4294967295"), "{message}");
    let (errs, _) = errors("name: t\nsteps:\n  - {task: a, component: add, inputs: 5}\n");
    let message = find(&errs, "`5`")["message"].as_str().unwrap();
    assert!(message.ends_with("expected a mapping"), "{message}");
    for e in &errs {
        let text = e["message"].as_str().unwrap();
        assert!(!["u32", "struct ", "a map,"].iter().any(|rust| text.contains(rust)), "{text}");
    }
}

/// Ensures that a cycle is reported with the tasks in it and where it starts.
#[test]
fn a_cycle_is_reported_with_its_tasks() {
    let (errs, case) = errors(
        "name: c\nsteps:\n  - {task: a, component: add, inputs: {a: \"{{tasks.b.output}}\"}}\n  - {task: b, component: add, inputs: {a: \"{{tasks.a.output}}\"}}\n",
    );
    let e = find(&errs, "cycle");
    assert!(e["message"].as_str().unwrap().contains("a -> b -> a"), "{e}");
    assert_eq!(e["path"], "steps[0]");
    assert_eq!(e["line"], case.line_of("{task: a,"));
    assert!(e["file"].as_str().unwrap().ends_with("pipeline.yaml"));
}

/// Ensures that unknown components, tasks, outputs, parameters and inputs are each named.
#[test]
fn unknown_references_are_named_with_their_place() {
    let (errs, case) = errors(
        "name: u\nparams:\n  n: {type: int, default: 1}\nsteps:\n  - {task: a, component: nope}\n  - {task: b, component: add, inputs: {a: \"{{tasks.ghost.output}}\"}}\n  - {task: c, component: add, inputs: {a: \"{{params.m}}\"}}\n  - {task: d, component: add, inputs: {a: 1, z: 2}}\n  - {task: e, component: add, inputs: {a: \"{{tasks.d.outputs.sum}}\"}, after: [nobody]}\n",
    );
    let e = find(&errs, "component `nope`, which is not declared");
    assert_eq!(e["path"], "steps[0].component");
    assert_eq!(e["line"], case.line_of("component: nope"));
    assert_eq!(find(&errs, "there is no task `ghost`")["path"], "steps[1].inputs.a");
    assert!(find(&errs, "`{{params.m}}` names no parameter")["message"].as_str().unwrap().contains("`n`"));
    assert_eq!(find(&errs, "has no input `z`")["path"], "steps[3].inputs.z");
    assert!(find(&errs, "has no output `sum`")["message"].as_str().unwrap().contains("its outputs are: `output`"));
    assert_eq!(find(&errs, "`after: nobody`")["path"], "steps[4].after");
}

/// Ensures type mismatches are caught: a float fed to an int, a string parameter to an int,
/// a wrong literal; an int may feed a float.
#[test]
fn type_mismatches_are_reported_and_int_to_float_is_allowed() {
    let (errs, _) = errors(
        "name: t\nparams:\n  s: {type: string, default: x}\nsteps:\n  - {task: f, component: scale, inputs: {x: 2}}\n  - {task: a, component: add, inputs: {a: \"{{tasks.f.outputs.value}}\"}}\n  - {task: b, component: add, inputs: {a: \"{{params.s}}\"}}\n  - {task: c, component: add, inputs: {a: \"seven\"}}\n",
    );
    assert_eq!(errs.len(), 3, "{errs:#?}");
    let e = find(&errs, "input `a` of task `a` is int, but it is bound to a float value");
    assert_eq!(e["path"], "steps[1].inputs.a");
    find(&errs, "input `a` of task `b` is int, but it is bound to a string value");
    find(&errs, "input `a` of task `c` is int: expected an int, got string");
}

/// Ensures that a missing required input, a duplicate task name, a required exit-task input
/// bound to a body output (`docs/semantics.md`, rule 6) and a bad reference are each reported.
#[test]
fn structural_errors_are_reported() {
    let (errs, _) = errors(
        "name: s\nsteps:\n  - {task: a, component: add}\n  - {task: a, component: print_op, inputs: {message: hi}}\n  - exit_handler:\n      exit: {task: e, component: print_op, inputs: {message: \"{{tasks.p.output}}\"}}\n      steps:\n        - {task: p, component: type_of, inputs: {value: \"{{param.x}}\"}}\n",
    );
    assert_eq!(find(&errs, "does not bind the required input `a` (int)")["path"], "steps[0].inputs");
    assert_eq!(find(&errs, "task name `a` is used twice")["path"], "steps[1].task");
    find(&errs, "binds its required input `message` to body task `p`");
    find(&errs, "is not a reference: write `{{params.NAME}}`");
}

/// Ensures syntax errors name the field and line, and `run` refuses an invalid pipeline too.
#[test]
fn syntax_errors_name_the_field_and_line_and_block_run() {
    let case = Case::new("name: s\nsteps:\n  - {task: a, component: add, inputs: {a: 1}, retry: 3}\n");
    let (code, out) = case.validate_json();
    assert_eq!(code, 2);
    let e = &out["errors"][0];
    assert!(e["message"].as_str().unwrap().contains("unknown field `retry`"), "{e}");
    assert_eq!(e["path"], "steps[0].retry");
    assert_eq!(e["line"], case.line_of("retry: 3"));
    let (code, run) = case.run_json(&[]);
    assert_eq!(code, 2);
    assert_eq!(run["errors"], out["errors"]);
}

/// Ensures that limits and names that make no sense are refused before anything runs, each
/// where it is written: no fuel, a timeout shorter than the host can enforce, a memory limit
/// below one page, environment names with `=` or NUL, a pipeline `parallelism` of 0.
#[test]
fn limits_and_names_that_make_no_sense_are_refused() {
    let (errs, _case) = errors(
        "name: nonsense\nparallelism: 0\nsteps:\n  - {task: a, component: add, inputs: {a: 1}, fuel: 0, timeout: 5ms, memory: 1KiB}\n  - {task: b, component: add, inputs: {a: 1}, env: {\"A=B\": x, \"C\": \"x\\0y\"}, host_env: [\"D=E\"]}\n",
    );
    assert_eq!(errs.len(), 7, "{errs:#?}");
    let at = |needle: &str, path: &str| {
        let e = find(&errs, needle);
        assert_eq!(e["path"], path, "{e}");
        assert!(e["line"].is_u64(), "{e}");
    };
    at("0 fuel lets a task run no instruction", "steps[0].fuel");
    at("shorter than the host can enforce", "steps[0].timeout");
    at("below one WebAssembly page", "steps[0].memory");
    at("`A=B` of task `b` cannot be an environment variable", "steps[1].env");
    at("`C` of task `b` cannot be an environment variable", "steps[1].env");
    at("`D=E` in `host_env` of task `b` is not an environment variable name", "steps[1].host_env");
    at("a pipeline's `parallelism` must be at least 1", "parallelism");
}

/// Ensures that run defaults that make no sense (`--fuel 0`, `--timeout 5ms`, `--memory 1KiB`)
/// stop `wasmpipe run` with exit 2 before anything runs.
#[test]
fn run_defaults_that_make_no_sense_are_refused() {
    let case = Case::new("name: ok\nsteps:\n  - {task: a, component: add, inputs: {a: 1}}\n");
    let (code, out) = case.run_json(&["--fuel", "0", "--timeout", "5ms", "--memory", "1KiB"]);
    assert_eq!(code, 2, "{out:#}");
    let messages: Vec<&str> =
        out["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(messages[0].starts_with("the run's default timeout (`--timeout`): a timeout of 5ms"), "{messages:#?}");
    assert!(messages[1].starts_with("the run's default memory (`--memory`)"), "{messages:#?}");
    assert!(messages[2].starts_with("the run's default fuel (`--fuel`)"), "{messages:#?}");
    assert!(!case.runs().exists() || std::fs::read_dir(case.runs()).unwrap().next().is_none(), "nothing ran");
}

/// Ensures that a small file whose aliases would expand to ten million values (a "billion
/// laughs") is refused at once with exit 2 and the line, instead of being expanded in memory;
/// and that a key written twice in a mapping is an error with its line, not silently the last.
#[test]
fn alias_bombs_and_duplicate_keys_are_refused_with_their_line() {
    let mut bomb = String::from("version: 1\nname: bomb\nsteps: []\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
    for level in 1..=7 {
        let prev = vec![format!("*x{}", level - 1); 10].join(", ");
        bomb.push_str(&format!("x{level}: &x{level} [{prev}]\n"));
    }
    assert!(bomb.len() < 600, "a small file: {} bytes", bomb.len());
    let case = Case::raw(&bomb);
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out:#}");
    let error = &out["errors"][0];
    assert!(error["message"].as_str().unwrap().contains("aliases stand for more than 1000000 values"), "{error}");
    assert_eq!(error["line"], 9, "the line of the alias that crosses the bound: {error}");

    let case = Case::raw("version: 1\nname: a\ncomponents: {}\nname: b\nsteps: []\n");
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out:#}");
    assert_eq!(out["errors"][0]["line"], 4, "{out:#}");
    assert!(out["errors"][0]["message"].as_str().unwrap().contains("key `name` is written twice"), "{out:#}");
}

/// Ensures that only regular files are read where a file is expected: a pipeline file that is
/// `/dev/zero` or a FIFO, and a component that is `/dev/urandom`, get a clear error at once
/// (exit 2) instead of a read that never ends or blocks.
#[test]
fn special_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipeline.yaml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for file in [std::path::Path::new("/dev/zero"), fifo.as_path()] {
        let (code, stdout, stderr) = common::wasmpipe(&["validate", file.to_str().unwrap()], &[]);
        assert_eq!(code, 2, "{stdout}{stderr}");
        assert!(stderr.contains("is not a regular file (a device, FIFO or socket); point to a file"), "{stderr}");
    }
    let case = Case::with_components(
        "name: s\nsteps:\n  - {task: a, component: random, inputs: {}}\n",
        &[("random", "{path: /dev/urandom}")],
    );
    let messages = common::validation_messages(&case);
    assert!(messages.iter().any(|m| m.contains("component `/dev/urandom` is not a regular file")), "{messages:#?}");
}

/// Ensures that a condition nested 100,000 parentheses deep (which overflowed the parser's
/// stack and killed the host) is refused with its line and the limit, and that one of 100,000
/// comparisons is read in linear time and runs.
#[test]
fn deep_conditions_are_refused_and_long_ones_are_fine() {
    let deep = format!("{}{{{{params.n}}}} > 0{}", "(".repeat(100_000), ")".repeat(100_000));
    let case = Case::new(&format!(
        "name: p\nparams: {{n: {{type: int, default: 1}}}}\nsteps:\n  - if:\n      condition: \"{deep}\"\n      steps:\n        - {{task: t, component: fault, inputs: {{mode: ok}}}}\n"
    ));
    let messages = common::validation_messages(&case);
    common::assert_messages(&messages, &["deeper than 64 levels"]);
    let (_, out) = case.validate_json();
    assert_eq!(out["errors"][0]["line"], case.line_of("condition:"));

    let long = vec!["{{params.n}} > 0"; 100_000].join(" and ");
    let case = Case::new(&format!(
        "name: p\nparams: {{n: {{type: int, default: 1}}}}\nsteps:\n  - if:\n      condition: \"{long}\"\n      steps:\n        - {{task: t, component: fault, inputs: {{mode: ok}}}}\n"
    ));
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
}

/// Ensures that no special file is read where the host hashes or copies files: an artifact
/// given as `/dev/zero` or a FIFO, a directory artifact holding a FIFO, and a `build:` source
/// that is a FIFO each get a clear error at once (exit 2, naming the file), instead of a host
/// that reads forever or blocks.
#[test]
fn special_files_are_never_read_as_artifacts_or_build_sources() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let holder = dir.path().join("holder");
    std::fs::create_dir(&holder).unwrap();
    std::fs::write(holder.join("plain.txt"), "1\n").unwrap();
    assert!(std::process::Command::new("mkfifo").arg(holder.join("pipe")).status().unwrap().success());
    let case = Case::new(
        "name: p\nparams:\n  data: {type: artifact}\nsteps:\n  - {task: t, component: fault, inputs: {mode: ok}}\n",
    );
    for (given, expected) in [
        ("/dev/zero".to_string(), "`/dev/zero` is not a plain file or directory".to_string()),
        (fifo.display().to_string(), format!("`{}` is not a plain file or directory", fifo.display())),
        (holder.display().to_string(), format!("`{}` is not a plain file or directory", holder.join("pipe").display())),
    ] {
        let (code, _, stderr) = common::wasmpipe(
            &["run", case.file.to_str().unwrap(), "--run-dir", case.runs().to_str().unwrap()],
            &["-a", &format!("data={given}")],
        );
        assert_eq!(code, 2, "{given}: {stderr}");
        assert!(stderr.contains(&expected), "{given}: {stderr}");
    }

    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: hello, component: hello}\n",
        &[(
            "hello",
            &format!(
                "{{path: out/hello.wat, command: {{}}, build: {{command: \"true\", sources: [{}]}}}}",
                fifo.display()
            ),
        )],
    );
    let (code, _, stderr) = common::wasmpipe(&["build", case.file.to_str().unwrap()], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("build source `{}`", fifo.display())) && stderr.contains("not a plain file"),
        "{stderr}"
    );
}

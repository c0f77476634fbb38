//! The compiled-component cache: a second run compiles nothing, the record says so, runs that
//! share the cache do not disturb each other, and `wasmpipe cache` shows and clears it.

mod common;

use std::path::Path;
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
    assert_eq!(entries.len(), 4, "per component, its compiled form and its signature; no temporary files: {entries:?}");
    assert_eq!(entries.iter().filter(|e| e.ends_with(".cwasm")).count(), 2, "{entries:?}");
    assert_eq!(entries.iter().filter(|e| e.ends_with(".pooling.signature.json")).count(), 2, "{entries:?}");
    assert_eq!(run_with_cache(&case, cache.path())["compile"]["from_cache"], 2);
}

/// Ensures that a warm load takes the component's signature from the cache instead of calling
/// its `describe`: with the cached signature of `add` edited (its input `a` renamed),
/// `validate` refuses the pipeline for the input the cache says `add` lacks; without the entry,
/// `describe` runs again.
#[test]
fn a_warm_load_reads_the_signature_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let case = Case::new(TWO_COMPONENTS);
    assert_eq!(run_with_cache(&case, cache.path())["state"], "succeeded");
    let add = std::fs::read(common::component("add")).unwrap();
    let prefix = blake3::hash(&add).to_hex().to_string();
    let entry = std::fs::read_dir(cache.path().join("compiled"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".signature.json")
        })
        .expect("a signature entry for add");
    let text = std::fs::read_to_string(&entry).unwrap();
    assert!(text.contains(r#""name":"a""#), "{text}");
    std::fs::write(&entry, text.replace(r#""name":"a""#, r#""name":"renamed""#)).unwrap();

    let validate = || {
        command()
            .args(["validate", case.file.to_str().unwrap()])
            .env("WASMPIPE_CACHE_DIR", cache.path())
            .output()
            .unwrap()
    };
    let out = validate();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`a`") && stderr.contains("renamed"), "{stderr}");

    // `validate` uses the on-demand allocator (it runs nothing): without the entry it describes
    // `add` there and stores that; a run describes it in the pool again.
    std::fs::remove_file(&entry).unwrap();
    let out = validate();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let on_demand = entry.to_string_lossy().replace(".pooling.", ".on-demand.");
    assert!(Path::new(&on_demand).exists(), "described again and stored");
    assert_eq!(run_with_cache(&case, cache.path())["state"], "succeeded");
    assert!(entry.exists(), "described in the pool and stored");
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
    assert!(show("clear").contains("removed 2 entries"));
    assert!(show("show").contains(": 0 compiled component(s)"));

    // A cached task with an output artifact keeps its content in the cache too.
    let with_artifact =
        Case::new("name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 3}, cache: true}\n");
    run_with_cache(&with_artifact, cache.path());
    let shown = show("show");
    assert!(shown.contains("1 cached task output(s)") && shown.contains("1 cached artifact(s)"), "{shown}");
    assert!(show("clear").contains("removed 3 entries"), "compiled, output and artifact");
}

/// Runs `case` with extra CLI arguments and the cache in `cache_dir`.
fn run_args(case: &Case, cache_dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = command()
        .args(["run", case.file.to_str().unwrap(), "--output", "json", "--run-dir", case.runs().to_str().unwrap()])
        .args(args)
        .env("WASMPIPE_CACHE_DIR", cache_dir)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// Ensures that with caching on, a second run reuses the outputs of tasks whose component and
/// inputs match (they do not run: no attempts, no logs) and marks them `cached`; exit tasks and
/// failed tasks are never reused; changed inputs miss.
#[test]
fn task_outputs_are_reused_when_caching_is_on() {
    let cache = tempfile::tempdir().unwrap();
    let pipeline = |n: i64| {
        format!(
            "name: c\ncache: true\nsteps:\n  - exit_handler:\n      name: g\n      exit: {{task: e, component: collect, inputs: {{items: [], labels: {{}}}}}}\n      steps:\n        - {{task: a, component: add, inputs: {{a: {n}}}}}\n        - {{task: t, component: type_of, inputs: {{value: \"{{{{tasks.a.output}}}}\"}}}}\n        - {{task: f, component: fail_op, inputs: {{message: no}}, after: [t]}}\n"
        )
    };
    let case = Case::new(&pipeline(1));
    let first = run_with_cache(&case, cache.path());
    assert_eq!(common::task(&first, "g/t")["cached"], false);
    let second = run_with_cache(&case, cache.path());
    for id in ["g/a", "g/t"] {
        let t = common::task(&second, id);
        assert_eq!(t["cached"], true, "{id}");
        assert_eq!(t["state"], "succeeded");
        assert!(t["attempts"].as_array().unwrap().is_empty(), "{id} did not run");
        assert!(t["logs"].as_array().unwrap().is_empty());
        assert_eq!(t["outputs"], common::task(&first, id)["outputs"]);
    }
    assert_eq!(common::task(&second, "g/f")["cached"], false, "a failure is never reused");
    assert_eq!(common::task(&second, "g/f")["state"], "failed");
    assert_eq!(common::task(&second, "g/e")["cached"], false, "exit tasks are never cached");

    std::fs::write(&case.file, std::fs::read_to_string(&case.file).unwrap().replace("{a: 1}", "{a: 2}")).unwrap();
    let third = run_with_cache(&case, cache.path());
    assert_eq!(common::task(&third, "g/a")["cached"], false, "other inputs miss");
    assert_eq!(common::task(&third, "g/a")["outputs"]["output"], 3);
}

/// Ensures that caching is opt-in: off by default, on with `--cache`, and a task's own
/// `cache: false` wins.
#[test]
fn caching_is_opt_in() {
    let cache = tempfile::tempdir().unwrap();
    let case = Case::new(
        "name: c\nsteps:\n  - {task: a, component: add, inputs: {a: 1}}\n  - {task: b, component: add, inputs: {a: 5}, cache: false}\n",
    );
    run_args(&case, cache.path(), &[]);
    let again = run_args(&case, cache.path(), &[]);
    assert_eq!(common::task(&again, "a")["cached"], false, "off by default");
    run_args(&case, cache.path(), &["--cache"]);
    let cached = run_args(&case, cache.path(), &["--cache"]);
    assert_eq!(common::task(&cached, "a")["cached"], true);
    assert_eq!(common::task(&cached, "b")["cached"], false, "the task's own choice wins");
}

/// Ensures that a cached task with a granted directory misses when the directory's contents
/// change (the key covers their digest), instead of returning the old output.
#[test]
fn a_change_in_a_granted_directory_misses_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let case = Case::new(
        "name: c\nsteps:\n  - {task: r, component: fault, inputs: {mode: read_file}, dirs: {/etc: ./etc}, cache: true}\n",
    );
    std::fs::create_dir_all(case.dir.path().join("etc")).unwrap();
    std::fs::write(case.dir.path().join("etc/hostname"), "one").unwrap();
    let first = run_with_cache(&case, cache.path());
    assert_eq!(common::task(&first, "r")["outputs"]["output"], "one", "{first:#}");
    let second = run_with_cache(&case, cache.path());
    assert_eq!(common::task(&second, "r")["cached"], true, "unchanged: a hit");
    std::fs::write(case.dir.path().join("etc/hostname"), "two").unwrap();
    let third = run_with_cache(&case, cache.path());
    let r = common::task(&third, "r");
    assert_eq!(r["cached"], false, "{r:#}");
    assert_eq!(r["outputs"]["output"], "two", "not the stale output: {r:#}");
}

/// Ensures that a cache hit checks the digest of each artifact it restores: an altered blob is
/// a miss (the task runs again and its output is right), and the blob is replaced.
#[test]
fn an_altered_cached_artifact_is_a_miss_and_is_replaced() {
    let cache = tempfile::tempdir().unwrap();
    let case = Case::new(
        "name: c\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 3}, cache: true}\n  - {task: sum, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n",
    );
    let first = run_with_cache(&case, cache.path());
    assert_eq!(common::task(&first, "sum")["outputs"]["sum"], 6, "{first:#}");
    let blobs: Vec<_> = std::fs::read_dir(cache.path().join("artifacts")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    std::fs::write(&blobs[0], "100\n200\n").unwrap();
    let second = run_with_cache(&case, cache.path());
    assert_eq!(common::task(&second, "gen")["cached"], false, "an altered blob is a miss");
    assert_eq!(common::task(&second, "sum")["outputs"]["sum"], 6, "{second:#}");
    assert_eq!(std::fs::read_to_string(&blobs[0]).unwrap(), "1\n2\n3", "the blob was replaced");
    let third = run_with_cache(&case, cache.path());
    assert_eq!(common::task(&third, "gen")["cached"], true, "and hits again");
}

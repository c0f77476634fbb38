//! Host interfaces of an embedding application (`Runner::with_host_interfaces`): a component
//! imports the application's own WIT interface (`acme:host/kv`) and calls it when its task is
//! granted it (`host: [acme:host/kv]`), with the run's own state (its tenant) reachable from
//! the implementation; an ungranted import is a load failure naming the interface, a grant of
//! an interface the host does not offer is refused, and a host function that fails traps the
//! guest, so the task fails and the handler runs.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use wasmpipe::run::{Cache, HostInterfaces, RunOptions, Runner, TaskState};

wasmtime::component::bindgen!({
    path: "../examples/plugin-host/wit",
    world: "plugin",
    imports: { default: trappable },
});

use acme::host::kv;

/// A tenant of the application: its own key-value store.
#[derive(Default)]
struct Tenant {
    store: Mutex<HashMap<String, String>>,
}

/// The implementation of `acme:host/kv` for one task: the tenant of its run.
struct Kv<'a>(&'a Tenant);

impl kv::Host for Kv<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.0.store.lock().unwrap().get(&key).cloned())
    }

    fn set(&mut self, key: String, value: String) -> wasmtime::Result<()> {
        if value == "boom" {
            wasmtime::bail!("the store refuses the value `boom`");
        }
        self.0.store.lock().unwrap().insert(key, value);
        Ok(())
    }
}

struct KvData;

impl wasmtime::component::HasData for KvData {
    type Data<'a> = Kv<'a>;
}

fn runner() -> Runner {
    runner_with_cache(None)
}

fn runner_with_cache(cache: Option<Cache>) -> Runner {
    let host = HostInterfaces::new().with("acme:host/kv", |linker| {
        kv::add_to_linker::<_, KvData>(linker, |state: &mut TaskState| {
            Kv(state.run_data::<Tenant>().expect("every run of these tests has a tenant"))
        })
    });
    Runner::with_cache(cache).unwrap().with_host_interfaces(host)
}

/// A pipeline whose `use` task calls the store inside an exit handler, and whose `peek` task
/// reads the store without being granted it.
fn pipeline(dir: &Path, use_task: &str) -> std::path::PathBuf {
    let file = dir.join("pipeline.yaml");
    let text = format!(
        "version: 1\nname: plugins\ncomponents:\n  kv_user: {{path: {:?}}}\n  exit_report: {{path: {:?}}}\nsteps:\n  - exit_handler:\n      name: guard\n      exit: {{task: report, component: exit_report, inputs: {{message: done}}}}\n      steps:\n        - {use_task}\n",
        common::component("kv_user"),
        common::component("exit_report"),
    );
    std::fs::write(&file, text).unwrap();
    file
}

async fn run(runner: &Runner, file: &Path, tenant: &Arc<Tenant>, dir: &Path) -> Value {
    let options = RunOptions {
        run_dir: dir.join("runs"),
        cache: true,
        run_data: Some(tenant.clone() as Arc<dyn std::any::Any + Send + Sync>),
        ..RunOptions::default()
    };
    let prepared = runner.prepare_file(file, &options).await.unwrap_or_else(|e| panic!("{e}"));
    serde_json::to_value(runner.run(&prepared, &options, &mut |_| {}).await).unwrap()
}

/// Ensures that a granted task calls the application's interface with its run's tenant, and
/// that two tenants' runs on one runner never see each other's store.
#[tokio::test]
async fn a_granted_task_calls_the_host_with_its_own_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let runner = runner();
    let (a, b) = (Arc::new(Tenant::default()), Arc::new(Tenant::default()));
    let set =
        pipeline(dir.path(), "{task: use, component: kv_user, host: [acme:host/kv], inputs: {key: k, value: from-a}}");
    let record = run(&runner, &set, &a, dir.path()).await;
    assert_eq!(record["state"], "succeeded", "{record:#}");
    assert_eq!(common::task(&record, "guard/use")["outputs"]["output"], "from-a");
    assert_eq!(a.store.lock().unwrap().get("k").map(String::as_str), Some("from-a"));
    let get = pipeline(dir.path(), "{task: use, component: kv_user, host: [acme:host/kv], inputs: {key: k}}");
    let record = run(&runner, &get, &b, dir.path()).await;
    assert_eq!(common::task(&record, "guard/use")["outputs"]["output"], "-", "tenant b sees nothing of a's store");
    let record = run(&runner, &get, &a, dir.path()).await;
    assert_eq!(common::task(&record, "guard/use")["outputs"]["output"], "from-a");
}

/// Ensures that a task whose component imports the interface without a grant fails with kind
/// `load` naming it (nothing reaches the store), and the handler runs.
#[tokio::test]
async fn an_ungranted_import_is_a_load_failure_naming_the_interface() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = Arc::new(Tenant::default());
    let file = pipeline(dir.path(), "{task: use, component: kv_user, inputs: {key: k, value: v}}");
    let record = run(&runner(), &file, &tenant, dir.path()).await;
    assert_eq!(record["state"], "failed", "{record:#}");
    let task = common::task(&record, "guard/use");
    assert_eq!(task["failure"]["kind"], "load");
    let message = task["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains(
            "imports host interface `acme:host/kv@0.1.0`, which task `use` is not granted; add `host: [acme:host/kv]`"
        ),
        "{message}"
    );
    // Recorded as any component that does not load: one attempt that never started the guest.
    assert_eq!(task["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(task["attempts"][0]["failure"]["kind"], "load");
    assert!(tenant.store.lock().unwrap().is_empty());
    let report = common::task(&record, "guard/report");
    assert_eq!(report["state"], "succeeded");
    assert_eq!(report["final_status"]["failures"][0]["kind"], "load");
}

/// Ensures that a host function that fails traps the guest: the task fails (kind `trap`, the
/// host's message), the store is unchanged, and the handler runs with the failure.
#[tokio::test]
async fn a_failing_host_function_fails_the_task_and_the_handler_runs() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = Arc::new(Tenant::default());
    let file =
        pipeline(dir.path(), "{task: use, component: kv_user, host: [acme:host/kv], inputs: {key: k, value: boom}}");
    let record = run(&runner(), &file, &tenant, dir.path()).await;
    let task = common::task(&record, "guard/use");
    assert_eq!(task["state"], "failed", "{record:#}");
    assert_eq!(task["failure"]["kind"], "trap");
    assert!(task["failure"]["message"].as_str().unwrap().contains("the store refuses the value `boom`"), "{task:#}");
    assert!(tenant.store.lock().unwrap().is_empty());
    assert_eq!(common::task(&record, "guard/report")["final_status"]["failures"][0]["task"], "guard/use");
}

/// Ensures that a grant of an interface the host does not offer is refused before the run, and
/// that the `wasmpipe` CLI, which offers none, cannot load a component that imports one.
#[tokio::test]
async fn grants_are_checked_against_what_the_host_offers() {
    let dir = tempfile::tempdir().unwrap();
    let file =
        pipeline(dir.path(), "{task: use, component: kv_user, host: [acme:host/kv, acme:host/log], inputs: {key: k}}");
    let options = RunOptions { run_dir: dir.path().join("runs"), ..RunOptions::default() };
    let Err(errors) = runner().prepare_file(&file, &options).await else { panic!("the grant is refused") };
    let errors = errors.to_string();
    assert!(errors.contains("task `use` is granted host interface `acme:host/log`, which this host does not offer (it offers: `acme:host/kv`)"), "{errors}");
    let (code, out, _) = common::wasmpipe(
        &["run", file.to_str().unwrap(), "--output", "json", "--run-dir"],
        &[dir.path().join("cli").to_str().unwrap()],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("which this host does not offer (it offers: none)"), "{out}");
}

/// Ensures that a task granted a host interface is never cached, even with caching on: what it
/// computes depends on the application's state, which no cache key covers.
#[tokio::test]
async fn a_task_granted_a_host_interface_is_never_cached() {
    let dir = tempfile::tempdir().unwrap();
    let runner = runner_with_cache(Some(Cache::new(dir.path().join("cache"))));
    let tenant = Arc::new(Tenant::default());
    let file = pipeline(dir.path(), "{task: use, component: kv_user, host: [acme:host/kv], inputs: {key: k}}");
    let first = run(&runner, &file, &tenant, dir.path()).await;
    assert_eq!(common::task(&first, "guard/use")["outputs"]["output"], "-", "{first:#}");
    tenant.store.lock().unwrap().insert("k".into(), "later".into());
    let second = run(&runner, &file, &tenant, dir.path()).await;
    let task = common::task(&second, "guard/use");
    assert_eq!(task["cached"], false, "{second:#}");
    assert_eq!(task["outputs"]["output"], "later");
}

/// What a run's outcome is, without times and ids: the run's state, and each task's id, state,
/// outputs and failure kind.
fn outcome(record: &Value) -> Value {
    let tasks: Vec<Value> = record["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| serde_json::json!([t["id"], t["state"], t["outputs"], t["failure"]["kind"]]))
        .collect();
    serde_json::json!({"state": record["state"], "tasks": tasks})
}

/// Ensures that tenants sharing one runner are kept apart under load: while one tenant floods
/// the runner with hostile plugins (a trap, a spin, a memory bomb, a call of an ungranted host
/// interface), every run of the well-behaved tenants completes with the record it has when run
/// alone, and each tenant's store holds only what its own runs wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenants_are_isolated_while_another_floods_the_runner_with_hostile_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let runner = Arc::new(runner());
    let good = dir.path().join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "version: 1\nname: good\ncomponents:\n  kv_user: {{path: {:?}}}\n  add: {{path: {:?}}}\nparams:\n  key: {{type: string}}\nsteps:\n  - {{task: set, component: kv_user, host: [acme:host/kv], inputs: {{key: \"{{{{params.key}}}}\", value: v}}}}\n  - {{task: get, component: kv_user, host: [acme:host/kv], after: [set], inputs: {{key: \"{{{{params.key}}}}\"}}}}\n  - {{task: sum, component: add, inputs: {{a: 2, b: 3}}}}\n",
            common::component("kv_user"),
            common::component("add"),
        ),
    )
    .unwrap();
    let hostile = dir.path().join("hostile.yaml");
    std::fs::write(
        &hostile,
        format!(
            "version: 1\nname: hostile\ncomponents:\n  kv_user: {{path: {:?}}}\n  fault: {{path: {:?}}}\nsteps:\n  - {{task: trap, component: fault, inputs: {{mode: unreachable}}}}\n  - {{task: spin, component: fault, timeout: 1s, inputs: {{mode: spin}}}}\n  - {{task: bomb, component: fault, memory: 32MiB, inputs: {{mode: alloc}}}}\n  - {{task: steal, component: kv_user, inputs: {{key: k0, value: stolen}}}}\n",
            common::component("kv_user"),
            common::component("fault"),
        ),
    )
    .unwrap();
    // Each run in a run directory of its own, which it must leave empty.
    let run_one = |file: std::path::PathBuf, tenant: Arc<Tenant>, params: Vec<(String, String)>, sub: String| {
        let runner = runner.clone();
        let runs = dir.path().join(sub);
        async move {
            let options = RunOptions {
                run_dir: runs,
                params,
                run_data: Some(tenant as Arc<dyn std::any::Any + Send + Sync>),
                write_record: false,
                ..RunOptions::default()
            };
            let prepared = runner.prepare_file(&file, &options).await.unwrap_or_else(|e| panic!("{e}"));
            serde_json::to_value(runner.run(&prepared, &options, &mut |_| {}).await).unwrap()
        }
    };
    let key = |k: &str| vec![("key".to_string(), k.to_string())];
    // Alone: the record a good run has.
    let alone = outcome(&run_one(good.clone(), Arc::new(Tenant::default()), key("k0"), "alone".into()).await);
    assert_eq!(alone["state"], "succeeded", "{alone:#}");

    let intruder = Arc::new(Tenant::default());
    let tenants: Vec<Arc<Tenant>> = (0..4).map(|_| Arc::new(Tenant::default())).collect();
    let mut handles = Vec::new();
    for i in 0..12 {
        handles.push((false, tokio::spawn(run_one(hostile.clone(), intruder.clone(), Vec::new(), format!("h{i}")))));
    }
    for (i, tenant) in tenants.iter().enumerate() {
        for j in 0..3 {
            let params = key(&format!("k{j}"));
            handles.push((true, tokio::spawn(run_one(good.clone(), tenant.clone(), params, format!("g{i}-{j}")))));
        }
    }
    for (is_good, handle) in handles {
        let record = handle.await.unwrap();
        if is_good {
            assert_eq!(outcome(&record), alone, "{record:#}");
        } else {
            let kinds: Vec<&Value> =
                record["tasks"].as_array().unwrap().iter().map(|t| &t["failure"]["kind"]).collect();
            assert_eq!(kinds, ["trap", "timeout", "memory_limit", "load"], "{record:#}");
        }
    }
    for tenant in &tenants {
        let store = tenant.store.lock().unwrap();
        let mut keys: Vec<(&String, &String)> = store.iter().collect();
        keys.sort();
        assert_eq!(format!("{keys:?}"), r#"[("k0", "v"), ("k1", "v"), ("k2", "v")]"#);
    }
    assert!(intruder.store.lock().unwrap().is_empty(), "the ungranted plugin wrote nothing");
    // No journal and no record on disk: the runs had no artifacts, so nothing at all.
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| e.unwrap().file_name().to_str().unwrap().ends_with(".yaml"))
    );
}

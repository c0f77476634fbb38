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
    path: "../tests/guests/wit/acme",
    world: "kv-user",
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
        component("kv_user"),
        component("exit_report"),
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// The `.wasm` of test component `name`.
fn component(name: &str) -> &'static str {
    common::COMPONENTS.iter().find(|(n, _)| *n == name).expect("a test component").1
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

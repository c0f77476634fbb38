//! The plugin host over HTTP, as a tenant uses it: uploads, runs, records, the store; bad
//! requests refused with what to do; hostile plugins and a flood of runs from one tenant
//! leave other tenants' runs with the records they have alone.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};
use wasmpipe_plugin_host::{App, Config};
use wasmpipe_test_artifacts as art;

/// A service on 127.0.0.1 (a port of its own) with its files in a temporary directory, on a
/// thread of its own; dropped with the test.
struct Service {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Service {
    fn start() -> Service {
        let dir = tempfile::tempdir().unwrap();
        let config = Config { root: dir.path().join("root"), ..Config::default() };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
            rt.block_on(async move {
                let app = App::new(config).unwrap();
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app.router()).await.unwrap();
            });
        });
        Service { addr, _dir: dir }
    }

    /// One HTTP/1.1 request; the status and the JSON body.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
            self.addr,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        let text = String::from_utf8_lossy(&answer);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {text}"));
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
        (status, body)
    }

    fn put_file(&self, path: &str, file: &str) -> (u16, Value) {
        self.request("PUT", path, &std::fs::read(file).unwrap())
    }

    fn run(&self, tenant: &str, request: Value) -> Value {
        let (status, record) =
            self.request("POST", &format!("/tenants/{tenant}/runs?wait=true"), request.to_string().as_bytes());
        assert_eq!(status, 200, "{record:#}");
        record
    }
}

/// The example's pipeline file.
fn count_yaml() -> String {
    format!("{}/count.yaml", env!("CARGO_MANIFEST_DIR"))
}

/// A run's outcome without times and ids: state, and each task's id, state, outputs and
/// failure kind.
fn outcome(record: &Value) -> Value {
    let tasks: Vec<Value> = record["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("a record: {record:#}"))
        .iter()
        .map(|t| json!([t["id"], t["state"], t["outputs"], t["failure"]["kind"]]))
        .collect();
    json!({"state": record["state"], "tasks": tasks, "outputs": record["outputs"]})
}

/// Ensures that the README's session works: upload the plugin and the pipeline, run it twice,
/// read the counter from the tenant's store.
#[test]
fn a_tenant_uploads_runs_and_reads_its_store() {
    let service = Service::start();
    let (status, body) = service.put_file("/tenants/acme/components/kv_counter", art::EXAMPLE_KV_COUNTER);
    assert_eq!(status, 201, "{body}");
    let (status, body) = service.put_file("/tenants/acme/pipelines/count", &count_yaml());
    assert_eq!((status, &body["warnings"]), (201, &json!([])), "{body}");
    let first = service.run("acme", json!({"pipeline": "count"}));
    assert_eq!(first["state"], "succeeded", "{first:#}");
    assert_eq!(first["outputs"]["count"], 1);
    let second = service.run("acme", json!({"pipeline": "count", "params": {"key": "other"}}));
    assert_eq!(second["outputs"]["count"], 1);
    service.run("acme", json!({"pipeline": "count"}));
    let (status, store) = service.request("GET", "/tenants/acme/kv", b"");
    assert_eq!((status, store), (200, json!({"other": "1", "visits": "2"})));
    let (status, store) = service.request("GET", "/tenants/zeta/kv", b"");
    assert_eq!((status, store), (200, json!({})), "another tenant's store is its own");
    // Uploaded again under its name, a component is the new one from the next run on: here a
    // plugin that reads the counter (as text) instead of adding to it.
    assert_eq!(service.put_file("/tenants/acme/components/kv_counter", art::KV_USER).0, 201);
    let read = service.run("acme", json!({"pipeline": "count"}));
    assert_eq!(read["outputs"]["count"], "2", "{read:#}");
}

/// Ensures that bad requests are refused with the status and a message that says what to do.
#[test]
fn bad_requests_are_refused_with_what_to_do() {
    let service = Service::start();
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("PUT", "/tenants/Bad!/components/x", b"\0asm".to_vec(), 400, "is not a tenant name"),
        ("PUT", "/tenants/acme/components/x", b"not wasm".to_vec(), 422, "is not WebAssembly"),
        ("PUT", "/tenants/acme/pipelines/p", b"version: 1\nname: p\nsteps: [".to_vec(), 422, "cannot run here"),
        (
            "POST",
            "/tenants/acme/runs",
            b"{\"pipeline\": \"nope\"}".to_vec(),
            404,
            "no pipeline `nope`: PUT it to /tenants/acme/pipelines/nope first",
        ),
        ("POST", "/tenants/acme/runs", b"{\"pipe\": 1}".to_vec(), 400, "is not a run request"),
        ("GET", "/tenants/acme/runs/run-999", Vec::new(), 404, "no run `run-999`"),
    ];
    for (method, path, body, status, needle) in cases {
        let (got, answer) = service.request(method, path, &body);
        assert_eq!(got, status, "{method} {path}: {answer}");
        assert!(answer["error"].as_str().unwrap().contains(needle), "{method} {path}: {answer}");
    }
    // A pipeline asking for what tenants are not granted: every problem, with its place.
    service.put_file("/tenants/acme/components/kv_counter", art::EXAMPLE_KV_COUNTER);
    let greedy = "version: 1\nname: greedy\ncomponents:\n  kv_counter: {path: kv_counter.wasm}\n  spy: {path: ../../other/components/x.wasm}\nsteps:\n  - {task: a, component: kv_counter, dirs: {/etc: /etc}, inputs: {key: k}}\n";
    let (status, answer) = service.request("PUT", "/tenants/acme/pipelines/greedy", greedy.as_bytes());
    assert_eq!(status, 422, "{answer}");
    let problems = answer["problems"].to_string();
    assert!(
        problems.contains("components.spy: a component's `path` is the name of an uploaded component"),
        "{problems}"
    );
    assert!(problems.contains("task `a`, `dirs`: tenants' plugins are granted no host directories"), "{problems}");
}

/// The hostile tenant's pipeline: a trap, a spin, a memory bomb and a call of the store
/// without a grant, under an exit handler that reports them.
const HOSTILE: &str = "version: 1\nname: hostile\ncomponents:\n  fault: {path: fault.wasm}\n  kv_user: {path: kv_user.wasm}\n  report: {path: exit_report.wasm}\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: report, component: report, inputs: {message: done}}\n      steps:\n        - {task: trap, component: fault, inputs: {mode: unreachable}}\n        - {task: spin, component: fault, timeout: 1s, inputs: {mode: spin}}\n        - {task: bomb, component: fault, memory: 32MiB, inputs: {mode: alloc}}\n        - {task: steal, component: kv_user, inputs: {key: visits, value: stolen}}\n";

/// Ensures that while one tenant floods the service with runs of hostile plugins (many refused
/// with 429 past its queue), the runs of two other tenants end with the records a tenant's
/// runs have alone, and their stores hold only their own counts.
#[test]
fn hostile_plugins_and_a_flood_leave_other_tenants_unaffected() {
    let service = Service::start();
    for tenant in ["solo", "a", "b"] {
        service.put_file(&format!("/tenants/{tenant}/components/kv_counter"), art::EXAMPLE_KV_COUNTER);
        service.put_file(&format!("/tenants/{tenant}/pipelines/count"), &count_yaml());
    }
    let alone: Vec<Value> = (0..3).map(|_| outcome(&service.run("solo", json!({"pipeline": "count"})))).collect();
    assert_eq!(alone[2]["outputs"]["count"], 3);

    for (name, file) in [("fault", art::FAULT), ("kv_user", art::KV_USER), ("exit_report", art::EXAMPLE_EXIT_REPORT)] {
        let (status, body) = service.put_file(&format!("/tenants/evil/components/{name}"), file);
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = service.request("PUT", "/tenants/evil/pipelines/hostile", HOSTILE.as_bytes());
    assert_eq!(status, 201, "{body}");
    assert!(body["warnings"].to_string().contains("which task `steal` is not granted"), "{body}");

    // The flood: more runs than the tenant may have queued and running.
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for _ in 0..24 {
        let (status, body) = service.request("POST", "/tenants/evil/runs", br#"{"pipeline": "hostile"}"#);
        match status {
            202 => accepted.push(body["run"].as_str().unwrap().to_string()),
            429 => refused += 1,
            other => panic!("{other}: {body}"),
        }
    }
    // 2 running and 16 queued, unless one ended meanwhile (each takes over a second).
    assert!(accepted.len() >= 18 && refused > 0, "{} accepted, {refused} refused", accepted.len());
    // Meanwhile, the other tenants' runs.
    let others: Vec<std::thread::JoinHandle<Vec<Value>>> = ["a", "b"]
        .into_iter()
        .map(|tenant| {
            let addr = service.addr;
            std::thread::spawn(move || {
                let client = Service { addr, _dir: tempfile::tempdir().unwrap() };
                (0..3).map(|_| outcome(&client.run(tenant, json!({"pipeline": "count"})))).collect()
            })
        })
        .collect();
    for handle in others {
        assert_eq!(handle.join().unwrap(), alone);
    }
    for tenant in ["a", "b"] {
        assert_eq!(service.request("GET", &format!("/tenants/{tenant}/kv"), b"").1, json!({"visits": "3"}));
    }
    // Every hostile run ended the same way: each plugin failed with its own kind, the handler ran.
    for id in accepted {
        let record = loop {
            let (status, record) = service.request("GET", &format!("/tenants/evil/runs/{id}"), b"");
            if status == 200 {
                break record;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let kinds: Vec<&Value> = ["g/trap", "g/spin", "g/bomb", "g/steal"]
            .iter()
            .map(|t| &record["tasks"].as_array().unwrap().iter().find(|r| r["id"] == *t).unwrap()["failure"]["kind"])
            .collect();
        assert_eq!(kinds, ["trap", "timeout", "memory_limit", "load"], "{record:#}");
        let report = record["tasks"].as_array().unwrap().iter().find(|r| r["id"] == "g/report").unwrap();
        assert_eq!(report["state"], "succeeded", "{record:#}");
        assert_eq!(report["final_status"]["failures"].as_array().unwrap().len(), 4);
    }
    assert_eq!(service.request("GET", "/tenants/evil/kv", b"").1, json!({}));
}

/// Ensures that DELETE cancels a run: its sleeping task is cancelled, its exit handler runs.
#[test]
fn a_run_is_cancelled_by_delete_and_its_handler_runs() {
    let service = Service::start();
    service.put_file("/tenants/acme/components/fault", art::FAULT);
    service.put_file("/tenants/acme/components/kv_user", art::KV_USER);
    service.put_file("/tenants/acme/components/exit_report", art::EXAMPLE_EXIT_REPORT);
    // The body marks the store when it has started, then sleeps.
    let sleepy = "version: 1\nname: sleepy\ncomponents:\n  fault: {path: fault.wasm}\n  kv_user: {path: kv_user.wasm}\n  report: {path: exit_report.wasm}\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: report, component: report, inputs: {message: done}}\n      steps:\n        - {task: mark, component: kv_user, host: [acme:host/kv], inputs: {key: started, value: yes}}\n        - {task: sleep, component: fault, after: [mark], inputs: {mode: sleep}}\n";
    let (status, body) = service.request("PUT", "/tenants/acme/pipelines/sleepy", sleepy.as_bytes());
    assert_eq!(status, 201, "{body}");
    let (_, started) = service.request("POST", "/tenants/acme/runs", br#"{"pipeline": "sleepy"}"#);
    let id = started["run"].as_str().unwrap();
    while service.request("GET", "/tenants/acme/kv", b"").1 != json!({"started": "yes"}) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(service.request("DELETE", &format!("/tenants/acme/runs/{id}"), b"").0, 202);
    let record = loop {
        let (status, record) = service.request("GET", &format!("/tenants/acme/runs/{id}"), b"");
        if status == 200 {
            break record;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(record["state"], "cancelled", "{record:#}");
    let tasks = record["tasks"].as_array().unwrap();
    // Cancelled while it slept, or (when the DELETE came before it started) skipped as cancelled.
    let sleep = tasks.iter().find(|t| t["id"] == "g/sleep").unwrap();
    assert!(
        sleep["failure"]["kind"] == "cancelled"
            || (sleep["state"] == "skipped" && sleep["skip"]["reason"] == "cancelled"),
        "{sleep:#}"
    );
    assert_eq!(tasks.iter().find(|t| t["id"] == "g/report").unwrap()["state"], "succeeded", "{record:#}");
}

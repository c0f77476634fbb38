//! Outbound HTTP by grant (`network: {allow: [host:port]}`): a task reaches the hosts listed
//! through `wasi:http`, and nothing else; a denied request is an error the guest reports, not
//! a trap, and never leaves the host. Against a server on 127.0.0.1 only.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{Case, task};

/// A tiny HTTP server on 127.0.0.1: answers every request `200 hello`, and keeps the request
/// lines it got.
fn server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let theirs = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            theirs.lock().unwrap().push(line.trim_end().to_string());
            // The rest of the head, up to its blank line.
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        }
    });
    (port, seen)
}

/// Ensures that a task granted the server's `host:port` gets its answer, and that tasks with
/// no grant, a grant for another port or for another name of the same host get a denial they
/// report as their failure (kind `error`) without a request reaching the server; the exit
/// handler runs after them and receives the three failures.
#[test]
fn requests_reach_only_the_hosts_a_task_is_granted() {
    let (port, seen) = server();
    let case = Case::new(&format!(
        concat!(
            "name: net\n",
            "params:\n  url: {{type: string}}\n",
            "steps:\n",
            "  - exit_handler:\n",
            "      name: guard\n",
            "      exit: {{task: report, component: exit_report, inputs: {{message: done}}}}\n",
            "      steps:\n",
            "        - {{task: allowed, component: fetch, inputs: {{url: \"{{{{params.url}}}}\"}}, network: {{allow: [\"127.0.0.1:{port}\"]}}}}\n",
            "        - {{task: no-grant, component: fetch, inputs: {{url: \"{{{{params.url}}}}\"}}}}\n",
            "        - {{task: other-port, component: fetch, inputs: {{url: \"{{{{params.url}}}}\"}}, network: {{allow: [\"127.0.0.1:1\"]}}}}\n",
            "        - {{task: other-name, component: fetch, inputs: {{url: \"{{{{params.url}}}}\"}}, network: {{allow: [\"localhost:{port}\"]}}}}\n",
        ),
        port = port
    ));
    let url = format!("url=http://127.0.0.1:{port}/data?x=1");
    let (code, record) = case.run_json(&["-p", &url, "--jobs", "1"]);
    assert_eq!(code, 1, "{record:#}");
    let allowed = task(&record, "guard/allowed");
    assert_eq!(allowed["state"], "succeeded", "{allowed:#}");
    assert_eq!(allowed["outputs"]["output"], "200 hello");
    for id in ["guard/no-grant", "guard/other-port", "guard/other-name"] {
        let denied = task(&record, id);
        assert_eq!(denied["state"], "failed", "{denied:#}");
        assert_eq!(denied["failure"]["kind"], "error", "a denial is the guest's error, not a trap: {denied:#}");
        let message = denied["failure"]["message"].as_str().unwrap();
        assert!(message.contains("denied") && message.contains(&format!("127.0.0.1:{port}")), "{message}");
    }
    assert_eq!(*seen.lock().unwrap(), ["GET /data?x=1 HTTP/1.1"], "only the granted request reached the server");
    let report = task(&record, "guard/report");
    assert_eq!(report["state"], "succeeded");
    assert_eq!(report["final_status"]["failures"].as_array().unwrap().len(), 3);
}

/// Ensures that malformed `network.allow` entries are refused by `validate`, each at its place
/// with the form it should take, and that `network` takes only `allow`.
#[test]
fn malformed_network_grants_are_refused_where_they_are() {
    let case = Case::new(concat!(
        "name: net\n",
        "steps:\n",
        "  - {task: a, component: fetch, inputs: {url: x}, network: {allow: [example.org, \"example.org:0\", \"exa mple.org:80\", \"[zz]:80\", \"*.example.org:443\", \"[::1]:8080\"]}}\n",
    ));
    let messages = common::validation_messages(&case);
    common::assert_messages(
        &messages,
        &[
            "task `a`: `example.org` has no port; write it as `host:port`",
            "task `a`: `0` in `example.org:0` is not a port (1 to 65535)",
            "task `a`: `exa mple.org` in `exa mple.org:80` is not a host name",
            "task `a`: `zz` in `[zz]:80` is not an IPv6 address",
        ],
    );
    assert_eq!(messages.len(), 4, "{messages:#?}");
    let (code, errors) = case.validate_json();
    assert_eq!(code, 2);
    let paths: Vec<&str> = errors["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, (0..4).map(|i| format!("steps[0].network.allow[{i}]")).collect::<Vec<_>>());
    let case =
        Case::new("name: net\nsteps:\n  - {task: b, component: fetch, inputs: {url: x}, network: {hosts: [a]}}\n");
    common::assert_messages(&common::validation_messages(&case), &["unknown field `hosts`, expected `allow`"]);
}

//! `wasmpipe report`: the HTML page of a run, from its record alone. These tests read the page
//! as text (attributes the page sets for tools: `data-task`, `data-state`, `data-template`);
//! `scripts/check-report` opens pages in Chromium and checks the rendered DOM.

mod common;

use common::{Case, task, wasmpipe};
use serde_json::Value;

/// Runs `case`, then `wasmpipe report latest` on its run directory: the record and the page.
fn run_and_report(case: &Case) -> (Value, String) {
    let (_, record) = case.run_json(&[]);
    let runs = case.runs();
    let (code, stdout, stderr) = wasmpipe(&["report", "latest", "--run-dir", runs.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    let page = std::path::PathBuf::from(stdout.trim());
    assert_eq!(page, runs.join(record["run_id"].as_str().unwrap()).join("report.html"), "written beside the record");
    (record, std::fs::read_to_string(page).unwrap())
}

/// The state a page shows for task `id`.
fn shown_state<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("data-task=\"{id}\" data-state=\"")).unwrap_or_else(|| panic!("no row for {id}"));
    let rest = &page[at..];
    let start = rest.find("data-state=\"").unwrap() + "data-state=\"".len();
    &rest[start..start + rest[start..].find('"').unwrap()]
}

/// Ensures that the page shows every task in its recorded state, the trap with its code in
/// the failures, the exit handler with the final status it received, artifacts with size and
/// digest, a loop as one folded row, markup from guests as text, and nothing from the network.
#[test]
fn a_report_shows_every_task_its_failures_and_its_exit_handler() {
    let case = Case::new(concat!(
        "name: shown\n",
        "steps:\n",
        "  - {task: gen, component: numbers, inputs: {count: 5}}\n",
        "  - exit_handler:\n",
        "      name: guard\n",
        "      exit: {task: report, component: exit_report, inputs: {message: cleanup}}\n",
        "      steps:\n",
        "        - {task: boom, component: trap_op, inputs: {message: \"<script>alert(1)</script> & co\"}}\n",
        "        - parallel_for:\n",
        "            name: fan\n",
        "            items: [1, 2, 3]\n",
        "            steps:\n",
        "              - {task: each, component: add, inputs: {a: \"{{item}}\"}}\n",
    ));
    let (record, page) = run_and_report(&case);
    let tasks = record["tasks"].as_array().unwrap();
    assert_eq!(page.matches("<details class=\"task\"").count(), tasks.len());
    for t in tasks {
        assert_eq!(shown_state(&page, t["id"].as_str().unwrap()), t["state"], "{}", t["id"]);
    }
    // The trap: in the failures table, with its kind and code.
    let boom = task(&record, "guard/boom");
    let code = boom["failure"]["trap_code"].as_str().unwrap();
    let failures =
        &page[page.find("<section id=\"failures\">").unwrap()..page.find("<section id=\"exit-handlers\">").unwrap()];
    assert!(failures.contains("data-task=\"guard/boom\""), "{failures}");
    assert!(failures.contains(&format!("trap ({code})")), "{failures}");
    // The exit handler, and what it received.
    let handlers =
        &page[page.find("<section id=\"exit-handlers\">").unwrap()..page.find("<section id=\"graph\">").unwrap()];
    assert!(
        handlers.contains("<code>guard/report</code>") && handlers.contains("<code>guard/boom</code> trap"),
        "{handlers}"
    );
    // The artifact, with its size and digest.
    let data = &task(&record, "gen")["outputs"]["data"];
    assert!(page.contains(data["digest"].as_str().unwrap()));
    assert!(page.contains(&format!("Dataset file, {} B", data["size"])));
    // The loop: one folded row of three instances, and a box in the graph.
    assert!(page.contains("data-template=\"guard/fan/*/each\"><summary"));
    assert!(page.contains("3 instances"));
    assert!(page.contains("<svg") && page.contains("guard/fan/*/each"));
    // What the guest printed is text, not markup; the page's only script is its own.
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
    assert_eq!(page.matches("<script").count(), 1);
    for remote in ["src=\"http", "href=\"http", "src=\"//", "href=\"//", "@import"] {
        assert!(!page.contains(remote), "the page loads `{remote}`");
    }
    // The drawing's `url(...)`s are its own clip paths and markers.
    assert!(page.match_indices("url(").all(|(at, _)| page[at + 4..].starts_with('#')));
}

/// Ensures that a run is found by id, `latest`, its directory or its record file, that `-o -`
/// prints the page, and that a run that is not there or a file that is not a record is refused
/// with exit 2, a message naming it and a way on.
#[test]
fn report_finds_a_run_by_id_directory_or_file_and_refuses_what_is_not_one() {
    let case = Case::new("name: found\nsteps:\n  - {task: one, component: add, inputs: {a: 1}}\n");
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0);
    let runs = case.runs();
    let id = record["run_id"].as_str().unwrap();
    let dir = runs.join(id);
    let report = |run: &str| wasmpipe(&["report", run, "--run-dir", runs.to_str().unwrap(), "-o", "-"], &[]);
    let (code, by_id, _) = report(id);
    assert_eq!(code, 0);
    assert!(by_id.starts_with("<!DOCTYPE html>") && by_id.contains("data-task=\"one\""));
    assert!(!dir.join("report.html").exists(), "`-o -` writes nothing");
    // The same page whichever way the run is named.
    assert_eq!(report("latest").1, by_id);
    assert_eq!(report(dir.to_str().unwrap()).1, by_id);
    assert_eq!(report(dir.join("record.json").to_str().unwrap()).1, by_id);

    let typo = format!("{}x", &id[..id.len() - 1]);
    let (code, _, stderr) = report(&typo);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("no run `{typo}`")) && stderr.contains(&format!("did you mean `{id}`?")),
        "{stderr}"
    );
    assert!(stderr.contains(runs.to_str().unwrap()), "{stderr}");

    let bogus = case.dir.path().join("bogus.json");
    std::fs::write(&bogus, r#"{"run_id": "r", "pipeline": 7}"#).unwrap();
    let (code, _, stderr) = report(bogus.to_str().unwrap());
    assert_eq!(code, 2);
    assert!(stderr.contains("is not a wasmpipe run record: at `pipeline`"), "{stderr}");
    assert!(!stderr.contains("struct"), "no Rust type names: {stderr}");

    let empty = case.dir.path().join("no-runs");
    let (code, _, stderr) = wasmpipe(&["report", "latest", "--run-dir", empty.to_str().unwrap()], &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no run in") && stderr.contains("yet"), "{stderr}");
}

/// Ensures that a loop of many failing items stays readable: one folded row for the loop's
/// task, every instance inside it, the failures table cut at 100 rows with the rest counted,
/// and the exit handlers after a failed body listed, the others counted.
#[test]
fn a_report_of_a_big_failing_loop_folds_and_counts() {
    let items: Vec<String> = (0..150).map(|i| i.to_string()).collect();
    let case = Case::new(&format!(
        concat!(
            "name: many\n",
            "steps:\n",
            "  - parallel_for:\n",
            "      name: fan\n",
            "      items: [{}]\n",
            "      steps:\n",
            "        - exit_handler:\n",
            "            name: g\n",
            "            exit: {{task: note, component: print_op, inputs: {{message: done}}}}\n",
            "            steps:\n",
            "              - {{task: each, component: fail_op, inputs: {{message: \"item {{{{item}}}} failed\"}}}}\n",
        ),
        items.join(", ")
    ));
    let (record, page) = run_and_report(&case);
    assert_eq!(record["tasks"].as_array().unwrap().len(), 300);
    assert_eq!(page.matches("<details class=\"template\"").count(), 2, "one row per task of the pipeline");
    assert_eq!(page.matches("<details class=\"task\"").count(), 300);
    assert_eq!(page.matches("<tr class=\"failure\"").count(), 100);
    assert!(page.contains("… and 50 more, in the task list below"));
    assert!(page.contains("150 failed"));
}

/// Ensures that a hostile record (markup in ids and logs, times that are not times, a log line
/// of megabytes) gives a page that shows it as text, cut to a bound, without failing.
#[test]
fn a_hostile_record_is_shown_as_text_and_cut() {
    let case = Case::new("name: t\nsteps:\n  - {task: one, component: print_op, inputs: {message: hi}}\n");
    let (_, mut record) = case.run_json(&[]);
    let evil = "x\"><img src=x onerror=alert(1)>";
    record["pipeline"] = Value::from(evil);
    record["started_at"] = Value::from("yesterday");
    record["tasks"][0]["id"] = Value::from(format!("one{evil}"));
    record["tasks"][0]["attempts"][0]["finished_at"] = Value::from("soon");
    record["tasks"][0]["logs"] = serde_json::json!([{"source": "stdout", "text": "A".repeat(4 << 20)}]);
    let file = case.dir.path().join("evil.json");
    std::fs::write(&file, record.to_string()).unwrap();
    let (code, page, stderr) = wasmpipe(&["report", file.to_str().unwrap(), "-o", "-"], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!page.contains("<img"), "markup from the record is escaped");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.len() < 64 << 10, "a 4 MiB log line is cut: the page is {} bytes", page.len());
    assert!(page.contains("(4.0 MiB in all)"));
}

/// Ensures that a graph of chained fork-joins (3^20 paths) and a record listing a dependency a
/// thousand times are laid out at once (each edge once), and that one with more edges than the
/// layout takes gets a note instead of a graph.
#[test]
fn the_graph_is_laid_out_in_bounded_time() {
    let case = Case::new("name: t\nsteps:\n  - {task: one, component: add, inputs: {a: 1}}\n");
    let (_, mut record) = case.run_json(&[]);
    let template = |id: String, deps: Vec<String>| serde_json::json!({"id": id, "component": "add", "exit_handler": false, "depends_on": deps});
    let mut templates = vec![template("one".into(), vec!["one".into(); 1000])];
    let mut previous = "one".to_string();
    for stage in 0..20 {
        let fork: Vec<String> = (0..3).map(|k| format!("s{stage}-{k}")).collect();
        for id in &fork {
            templates.push(template(id.clone(), vec![previous.clone()]));
        }
        previous = format!("join{stage}");
        templates.push(template(previous.clone(), fork));
    }
    record["templates"] = Value::from(templates.clone());
    let file = case.dir.path().join("forks.json");
    std::fs::write(&file, record.to_string()).unwrap();
    let (code, page, stderr) = wasmpipe(&["report", file.to_str().unwrap(), "-o", "-"], &[]);
    assert_eq!(code, 0, "{stderr}");
    let graph = &page[page.find("<section id=\"graph\">").unwrap()..page.find("<section id=\"tasks\">").unwrap()];
    assert!(graph.contains("<svg") && graph.contains("join19"), "{graph}");

    // 2,000 edges: more than the layout takes.
    for t in templates.iter_mut().skip(1) {
        t["depends_on"] = Value::from((0..25).map(|k| format!("s{}-{}", k % 20, k % 3)).collect::<Vec<_>>());
    }
    record["templates"] = Value::from(templates);
    std::fs::write(&file, record.to_string()).unwrap();
    let (code, page, _) = wasmpipe(&["report", file.to_str().unwrap(), "-o", "-"], &[]);
    assert_eq!(code, 0);
    assert!(page.contains("The graph is not drawn:") && page.contains("edges are more than the 1600 it lays out"));
}

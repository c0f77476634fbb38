//! What a tenant's pipeline may ask of the host. wasmpipe grants a task nothing by default, but
//! a pipeline file may grant host directories, host variables and outbound network, read
//! artifact files from host paths, and name component files anywhere: fine for a user on their
//! own machine, not for a tenant of a shared service. The service refuses those before
//! anything runs, each with the place and the fix.

use serde_json::Value;
use wasmpipe::model::Pipeline;
use wasmpipe::model::value::ValueType;

/// The problems of `pipeline` as a tenant's pipeline: `(place, message)`, empty when none.
/// `uploaded` says whether the tenant uploaded a component of that name.
pub fn check(pipeline: &Pipeline, uploaded: &dyn Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (name, component) in &pipeline.components {
        let place = format!("components.{name}");
        if component.pipeline.is_some() || component.build.is_some() {
            problems.push((
                place,
                "sub-pipelines and builds are not offered here: upload each component's .wasm and name it by `path`"
                    .into(),
            ));
            continue;
        }
        match component.path.as_deref().and_then(|p| p.strip_suffix(".wasm")) {
            Some(stem) if is_name(stem) && uploaded(stem) => {}
            Some(stem) if is_name(stem) => problems.push((place, format!("component `{stem}` was not uploaded: PUT it to /tenants/TENANT/components/{stem} first"))),
            _ => problems.push((place, "a component's `path` is the name of an uploaded component and `.wasm` (`path: counter.wasm`), nothing else".into())),
        }
    }
    for (name, param) in &pipeline.params {
        if param.ty == ValueType::Artifact && param.default.as_ref().is_some_and(|d| !d.is_null()) {
            problems.push((
                format!("params.{name}.default"),
                "an artifact parameter cannot default to a host file here".into(),
            ));
        }
    }
    let steps = serde_json::to_value(&pipeline.steps).unwrap_or(Value::Null);
    visit_tasks(&steps, &mut |task| {
        let name = task["task"].as_str().unwrap_or("?");
        for (field, what) in
            [("dirs", "host directories"), ("host_env", "host variables"), ("network", "outbound network")]
        {
            let granted = match &task[field] {
                Value::Null => false,
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            };
            if granted {
                problems.push((
                    format!("task `{name}`, `{field}`"),
                    format!("tenants' plugins are granted no {what}: remove `{field}`"),
                ));
            }
        }
    });
    problems
}

/// Calls `f` on every task (an object with `task` and `component`) anywhere in `value`.
fn visit_tasks(value: &Value, f: &mut dyn FnMut(&Value)) {
    match value {
        Value::Object(map) => {
            if map.contains_key("task") && map.contains_key("component") {
                f(value);
            }
            map.values().for_each(|v| visit_tasks(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| visit_tasks(v, f)),
        _ => {}
    }
}

/// Whether `name` may name a tenant, a component, a pipeline: 1 to 64 of `a-z`, `0-9`, `_`, `-`.
pub fn is_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let loaded = wasmpipe::model::load::load_str(text, "p.yaml".as_ref(), ".".as_ref()).unwrap();
        check(&loaded.pipeline, &|name| name == "counter")
            .into_iter()
            .map(|(place, m)| format!("{place}: {m}"))
            .collect()
    }

    #[test]
    fn a_pipeline_of_uploaded_components_without_host_grants_passes() {
        let text = "version: 1\nname: ok\ncomponents: {counter: {path: counter.wasm}}\nsteps:\n  - {task: a, component: counter, host: [acme:host/kv], env: {A: b}}\n";
        assert!(problems(text).is_empty());
    }

    #[test]
    fn host_grants_paths_and_host_files_are_refused_with_the_place() {
        let text = "version: 1\nname: bad\nparams:\n  data: {type: artifact, kind: Dataset, default: /etc/passwd}\ncomponents:\n  counter: {path: counter.wasm}\n  other: {path: ../other/x.wasm}\n  missing: {path: missing.wasm}\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: counter, dirs: {/d: /etc}}\n      steps:\n        - {task: a, component: counter, host_env: [HOME], network: {allow: [\"example.org:443\"]}}\n";
        let found = problems(text);
        for needle in [
            "components.other: a component's `path` is the name of an uploaded component",
            "components.missing: component `missing` was not uploaded",
            "params.data.default: an artifact parameter cannot default to a host file",
            "task `e`, `dirs`: tenants' plugins are granted no host directories",
            "task `a`, `host_env`: tenants' plugins are granted no host variables",
            "task `a`, `network`: tenants' plugins are granted no outbound network",
        ] {
            assert!(found.iter().any(|p| p.starts_with(needle)), "{needle} in {found:#?}");
        }
    }
}

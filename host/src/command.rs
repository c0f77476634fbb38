//! WASI commands as pipeline components (KFP's container component, with a `.wasm` instead of
//! an image): a preview-1 command module or a preview-2 command component that knows nothing
//! of wasmpipe. The pipeline declares its inputs and outputs ([`CommandSpec`]); its arguments
//! and environment are templates over the inputs; its outputs are read from the files it writes
//! under `/out` (or its stdout) once it exits with status 0. Any other status fails the task with
//! kind `error`, the code and the tail of its stderr.

use indexmap::IndexMap;
use serde_json::Value;

use crate::artifact::{AttemptDirs, GUEST_OUT};
use crate::capture::Capture;
use crate::component::{Component, InputSpec, OutputSpec, PortType, Pre, Signature};
use crate::executor::{self, AttemptOutcome};
use crate::model::{CommandSpec, OutputFrom};
use crate::plan::Grants;
use crate::record::{Failure, FailureKind};
use crate::sandbox::{self, Access, Limits};
use crate::value::{self, ValueType};
use crate::wit::types;

/// The signature a command's declaration gives it.
pub fn signature(spec: &CommandSpec) -> Signature {
    let port = |ty: ValueType, kind: &Option<String>, directory: bool| match ty {
        ValueType::Artifact => {
            PortType::Artifact { kind: kind.clone().unwrap_or_else(|| "Artifact".into()), directory }
        }
        t => PortType::Value(t),
    };
    Signature {
        name: String::new(),
        description: String::new(),
        inputs: spec
            .inputs
            .iter()
            .map(|(name, p)| InputSpec {
                name: name.clone(),
                ty: port(p.ty, &p.kind, p.directory.unwrap_or(false)),
                required: p.default.is_none(),
                default: p.default.clone(),
                description: p.description.clone(),
            })
            .collect(),
        outputs: spec
            .outputs
            .iter()
            .map(|(name, o)| OutputSpec {
                name: name.clone(),
                ty: port(o.ty, &o.kind, o.directory),
                description: o.description.clone(),
            })
            .collect(),
    }
}

/// A piece of an argument or environment template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    /// `{{inputs.NAME}}`
    Input(&'a str),
    /// `{{outputs.NAME}}`
    Output(&'a str),
}

/// Splits a template into text and placeholders, or says what is not a placeholder.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        found.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("`{template}` has a `{{{{` without its `}}}}`"))?;
        let inner = after[..end].trim();
        match inner.split_once('.') {
            Some(("inputs", name)) if !name.is_empty() => found.push(Piece::Input(name)),
            Some(("outputs", name)) if !name.is_empty() => found.push(Piece::Output(name)),
            _ => {
                return Err(format!(
                    "`{{{{{inner}}}}}` is not a placeholder: write `{{{{inputs.NAME}}}}` or `{{{{outputs.NAME}}}}`"
                ));
            }
        }
        rest = &after[end + 2..];
    }
    found.push(Piece::Text(rest));
    Ok(found)
}

/// The placeholders of a template: `(inputs|outputs, NAME)` for each `{{inputs.NAME}}` and
/// `{{outputs.NAME}}`, or an error naming what is not one.
pub fn placeholders(template: &str) -> Result<Vec<(&str, &str)>, String> {
    Ok(pieces(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Text(_) => None,
            Piece::Input(name) => Some(("inputs", name)),
            Piece::Output(name) => Some(("outputs", name)),
        })
        .collect())
}

/// Fills a template (validated before the run): an input's value as text (a string as it is,
/// anything else as JSON; an artifact as its guest path; an unbound optional input as nothing),
/// an output's guest path.
fn render(template: &str, inputs: &IndexMap<String, String>) -> String {
    let Ok(pieces) = pieces(template) else { return template.to_string() };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Input(name) => out.push_str(inputs.get(name).map(String::as_str).unwrap_or("")),
            Piece::Output(name) => out.push_str(&format!("{GUEST_OUT}/{name}")),
        }
    }
    out
}

/// Runs one attempt of a command: renders its arguments and environment, runs it to its exit,
/// and reads its outputs.
pub async fn run_attempt(
    component: &Component,
    inputs: &[(String, types::InputValue)],
    limits: &Limits,
    grants: &Grants,
    dirs: Option<&AttemptDirs>,
    capture: Capture,
) -> AttemptOutcome {
    let spec = component.command.as_ref().expect("a command component has its spec");
    let mut texts = IndexMap::new();
    for (name, input) in inputs {
        let text = match input {
            types::InputValue::Value(v) => match value::from_wit(v) {
                Ok(Value::String(s)) => s,
                Ok(other) => other.to_string(),
                Err(e) => return fail(FailureKind::Input, format!("input `{name}`: {e}")),
            },
            types::InputValue::Artifact(a) => a.path.clone(),
            types::InputValue::FinalStatus(_) => continue,
        };
        texts.insert(name.clone(), text);
    }
    let program = component.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let args: Vec<String> = std::iter::once(program).chain(spec.args.iter().map(|a| render(a, &texts))).collect();
    let env: Vec<(String, String)> = spec.env.iter().map(|(k, v)| (k.clone(), render(v, &texts))).collect();
    let access = Access {
        grants: Some(grants),
        preopens: dirs.map(AttemptDirs::preopens).unwrap_or_default(),
        args: &args,
        env: &env,
        preview1: matches!(component.pre, Pre::Module(_)),
    };
    let mut store = match sandbox::new_store(&component.engine, limits, &access, component.kind.fuel, capture.clone()) {
        Ok(store) => store,
        Err(message) => return fail(FailureKind::Input, message),
    };
    let call = async {
        match &component.pre {
            Pre::Command(pre) => {
                let command = pre.instantiate_async(&mut store).await?;
                let status = command.wasi_cli_run().call_run(&mut store).await?;
                Ok(if status.is_ok() { 0 } else { 1 })
            }
            Pre::Module(pre) => {
                let instance = pre.instantiate_async(&mut store).await?;
                let start = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
                start.call_async(&mut store, ()).await.map(|()| 0)
            }
            Pre::Task(..) => unreachable!("a task component is not run as a command"),
        }
    };
    let called: Result<wasmtime::Result<i32>, _> = tokio::time::timeout(limits.timeout, call).await;
    let logs = capture.lines();
    let exited = match called {
        Err(_elapsed) => Err(executor::timeout(limits)),
        Ok(Ok(code)) => Ok(code),
        Ok(Err(error)) => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(executor::classify(&error, &store.data().limiter, limits, &logs)),
        },
    };
    let result = match exited {
        Ok(0) => read_outputs(component, spec, dirs, &capture, limits),
        Ok(code) => Err(Failure::new(
            FailureKind::Error,
            executor::with_stderr_tail(format!("the command exited with status {code}"), &logs),
        )),
        Err(failure) => Err(failure),
    };
    AttemptOutcome { result, logs }
}

fn fail(kind: FailureKind, message: String) -> AttemptOutcome {
    AttemptOutcome { result: Err(Failure::new(kind, message)), logs: Vec::new() }
}

/// Reads a command's declared outputs after it exited with status 0.
fn read_outputs(
    component: &Component,
    spec: &CommandSpec,
    dirs: Option<&AttemptDirs>,
    capture: &Capture,
    limits: &Limits,
) -> Result<IndexMap<String, Value>, Failure> {
    let bad = |message: String| Failure::new(FailureKind::Error, message);
    let mut outputs = IndexMap::new();
    let mut artifact_bytes = 0;
    for (name, declared) in &spec.outputs {
        let value = match (&component.signature.output(name).expect("declared").ty, declared.from) {
            (PortType::Artifact { kind, directory }, _) => {
                let dirs = dirs.expect("a command with output artifacts runs with attempt directories");
                let none = types::Artifact {
                    path: String::new(),
                    name: name.clone(),
                    size: 0,
                    digest: String::new(),
                    metadata: types::Value { nodes: Vec::new() },
                };
                let artifact = executor::check_artifact(name, kind, *directory, &none, dirs)?;
                artifact_bytes += artifact.size;
                artifact.to_value()
            }
            (_, OutputFrom::Stdout) => {
                let (bytes, dropped) = capture.stdout.contents();
                if dropped > 0 {
                    return Err(Failure::new(
                        FailureKind::OutputLimit,
                        format!(
                            "output `{name}`: the command wrote more to stdout than the {} bytes kept",
                            limits.output
                        ),
                    ));
                }
                parse(declared.ty, &String::from_utf8_lossy(&bytes))
                    .map_err(|e| bad(format!("output `{name}` (stdout): {e}")))?
            }
            (_, OutputFrom::File) => {
                let dirs = dirs.expect("a command with file outputs runs with attempt directories");
                let text = read_file_output(name, &dirs.staged(name), limits)?;
                parse(declared.ty, &text).map_err(|e| bad(format!("output `{name}` (`{GUEST_OUT}/{name}`): {e}")))?
            }
        };
        outputs.insert(name.clone(), value);
    }
    executor::check_artifact_total(artifact_bytes, limits)?;
    Ok(outputs)
}

/// Reads value output `name` from the file the command wrote at `path`: a plain file (a symlink
/// could point anywhere on the host), at most `limits.output` bytes.
fn read_file_output(name: &str, path: &std::path::Path, limits: &Limits) -> Result<String, Failure> {
    let bad = |message: String| Failure::new(FailureKind::Error, message);
    let at = format!("{GUEST_OUT}/{name}");
    let meta = std::fs::symlink_metadata(path)
        .map_err(|_| bad(format!("output `{name}`: the command wrote no `{at}`; it must write the value there")))?;
    if !meta.is_file() {
        return Err(bad(format!("output `{name}`: `{at}` must be a plain file, not a symlink or a directory")));
    }
    if meta.len() > limits.output as u64 {
        return Err(Failure::new(
            FailureKind::OutputLimit,
            format!(
                "output `{name}`: `{at}` holds {} bytes, more than the {} a value output may",
                meta.len(),
                limits.output
            ),
        ));
    }
    std::fs::read_to_string(path).map_err(|e| bad(format!("output `{name}`: cannot read `{at}` as text: {e}")))
}

/// A value output as a command writes it: a string as written less one final newline; other
/// types as `-p` reads them (numbers and bools trimmed, lists, dicts and `any` as JSON).
fn parse(ty: ValueType, text: &str) -> Result<Value, String> {
    match ty {
        ValueType::String => Ok(Value::String(text.strip_suffix('\n').unwrap_or(text).to_string())),
        other => other.parse_cli(text.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_inputs_and_output_paths() {
        let inputs: IndexMap<String, String> = [("data".to_string(), "/in/data".to_string())].into_iter().collect();
        assert_eq!(render("--in={{inputs.data}} {{ outputs.lines }}", &inputs), "--in=/in/data /out/lines");
        assert_eq!(render("{{inputs.missing}}x", &inputs), "x");
        assert_eq!(placeholders("a {{inputs.x}} {{outputs.y}}").unwrap(), [("inputs", "x"), ("outputs", "y")]);
        assert!(placeholders("{{params.x}}").unwrap_err().contains("not a placeholder"));
        assert!(placeholders("{{inputs.x").unwrap_err().contains("without its"));
    }

    #[test]
    fn outputs_parse_by_type() {
        assert_eq!(parse(ValueType::String, "hello\n").unwrap(), Value::from("hello"));
        assert_eq!(parse(ValueType::Int, " 42\n").unwrap(), Value::from(42));
        assert_eq!(parse(ValueType::List, "[1, 2]").unwrap(), serde_json::json!([1, 2]));
        assert!(parse(ValueType::Int, "4.5").is_err());
    }
}

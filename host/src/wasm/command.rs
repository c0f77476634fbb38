//! WASI commands as pipeline components (KFP's container component, with a `.wasm` instead of
//! an image): a preview-1 command module or a preview-2 command component that knows nothing
//! of wasmpipe. The pipeline declares its inputs and outputs ([`CommandSpec`]); its arguments
//! and environment are templates over the inputs; its outputs are read from the files it writes
//! under `/out` (or its stdout) once it exits with status 0. Any other status fails the task with
//! kind `error`, the code and the tail of its stderr.

use indexmap::IndexMap;
use serde_json::Value;

use super::attempt_dirs::AttemptDirs;
use super::capture::Capture;
use super::loader::{LoadedComponent, Pre};
use super::sandbox::{self, Access, AttemptPolicy};
use super::verdict::{self, AttemptOutcome};
use super::wit::types;
use super::wit_value;
use crate::model::artifact::GUEST_OUT;
use crate::model::component::PortType;
use crate::model::outcome::{Failure, FailureKind};
use crate::model::policy::Limits;
use crate::model::template::render;
use crate::model::value::ValueType;
use crate::model::{CommandSpec, OutputFrom};

/// Runs one attempt of a command: renders its arguments and environment, runs it to its exit,
/// and reads its outputs.
pub(crate) async fn run_attempt(
    component: &LoadedComponent,
    inputs: &[(String, types::InputValue)],
    policy: AttemptPolicy<'_>,
    dirs: Option<&AttemptDirs>,
    capture: Capture,
) -> AttemptOutcome {
    let AttemptPolicy { limits, grants, run_data } = policy;
    let spec = component.command.as_ref().expect("a command component has its spec");
    let mut texts = IndexMap::new();
    for (name, input) in inputs {
        let text = match input {
            types::InputValue::Value(v) => match wit_value::from_wit(v) {
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
        run_data,
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
            Pre::Task(..) | Pre::Unlinked => unreachable!("a task component is not run as a command"),
        }
    };
    let called: Result<wasmtime::Result<i32>, _> = tokio::time::timeout(limits.timeout, call).await;
    let logs = capture.lines();
    let exited = match called {
        Err(_elapsed) => Err(verdict::timeout(limits)),
        Ok(Ok(code)) => Ok(code),
        Ok(Err(error)) => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Ok(exit.0),
            None => Err(verdict::classify(&error, &store.data().limiter, limits, &logs)),
        },
    };
    let result = match exited {
        Ok(0) => read_outputs(component, spec, dirs, &capture, limits),
        Ok(code) => Err(Failure::new(
            FailureKind::Error,
            verdict::with_stderr_tail(format!("the command exited with status {code}"), &logs),
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
    component: &LoadedComponent,
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
                let artifact = verdict::check_artifact(name, kind, *directory, &none, dirs)?;
                artifact_bytes += artifact.size;
                artifact.to_value()
            }
            (_, OutputFrom::Stdout) => {
                let (bytes, dropped, _) = capture.stdout.contents();
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
    verdict::check_artifact_total(artifact_bytes, limits)?;
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
    fn outputs_parse_by_type() {
        assert_eq!(parse(ValueType::String, "hello\n").unwrap(), Value::from("hello"));
        assert_eq!(parse(ValueType::Int, " 42\n").unwrap(), Value::from(42));
        assert_eq!(parse(ValueType::List, "[1, 2]").unwrap(), serde_json::json!([1, 2]));
        assert!(parse(ValueType::Int, "4.5").is_err());
    }
}

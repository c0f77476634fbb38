//! Runs one attempt of one task in wasmtime: a fresh store from the component's cached
//! `InstancePre`, one call of `run`, and a verdict: typed outputs, or a [`Failure`] of the
//! right kind. A trapped store is dropped with the attempt and never entered again.

use indexmap::IndexMap;
use serde_json::Value;
use wasmtime::Trap;

use crate::capture::Capture;
use crate::component::{Component, PortType};
use crate::plan::Grants;
use crate::record::{Failure, FailureKind, LogLine};
use crate::sandbox::{self, Limits, RecordingLimiter};
use crate::value;
use crate::wit::types;

/// What one attempt produced.
pub struct AttemptOutcome {
    /// The outputs, checked against the signature, or the failure.
    pub result: Result<IndexMap<String, Value>, Failure>,
    /// What the guest logged and printed.
    pub logs: Vec<LogLine>,
}

/// Runs `component` once with `inputs` under `limits`, writing its output to `capture`.
pub async fn run_attempt(
    component: &Component,
    ctx: types::Context,
    inputs: Vec<(String, types::InputValue)>,
    limits: &Limits,
    grants: &Grants,
    capture: Capture,
) -> AttemptOutcome {
    let mut store = match sandbox::new_store(&component.engine, limits, grants, component.kind.fuel, capture.clone()) {
        Ok(store) => store,
        Err(message) => {
            return AttemptOutcome { result: Err(Failure::new(FailureKind::Input, message)), logs: Vec::new() };
        }
    };
    let call = async {
        let task = component.pre.instantiate_async(&mut store).await?;
        task.wasmpipe_pipeline_component().call_run(&mut store, &ctx, &inputs).await
    };
    // A spinning guest yields at every epoch tick and a blocked one awaits a host future, so the
    // timer fires in both cases and dropping the call stops the guest.
    let called = tokio::time::timeout(limits.timeout, call).await;
    let logs = capture.lines();
    let result = match called {
        Err(_elapsed) => Err(timeout(limits)),
        Ok(Err(error)) => Err(classify(&error, &store.data().limiter, limits, &logs)),
        Ok(Ok(Err(message))) => Err(Failure::new(FailureKind::Error, message)),
        Ok(Ok(Ok(outputs))) => check_outputs(component, outputs),
    };
    AttemptOutcome { result, logs }
}

fn timeout(limits: &Limits) -> Failure {
    Failure::new(
        FailureKind::Timeout,
        format!("the task ran longer than its timeout of {:?}; raise `timeout` if it needs more", limits.timeout),
    )
}

/// Turns an error from instantiate or call into a failure of the right kind.
fn classify(error: &wasmtime::Error, limiter: &RecordingLimiter, limits: &Limits, logs: &[LogLine]) -> Failure {
    if limiter.hit {
        return Failure::new(
            FailureKind::MemoryLimit,
            format!(
                "the task tried to use more than its memory limit of {} MiB; raise `memory` if it needs more",
                limits.memory >> 20
            ),
        );
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => timeout(limits),
        Some(Trap::OutOfFuel) => {
            let fuel = limits.fuel.map(|f| f.to_string()).unwrap_or_else(|| "unlimited".into());
            Failure::new(
                FailureKind::FuelExhausted,
                format!("the task used up its fuel of {fuel} units; raise `fuel` if it needs more"),
            )
        }
        Some(trap) => Failure {
            kind: FailureKind::Trap,
            message: with_stderr_tail(trap.to_string(), logs),
            trap_code: Some(snake_case(&format!("{trap:?}"))),
        },
        None => Failure::new(FailureKind::Trap, with_stderr_tail(format!("{error:#}"), logs)),
    }
}

/// Adds the last lines the guest wrote to stderr (a Rust panic message, say) to a message.
fn with_stderr_tail(message: String, logs: &[LogLine]) -> String {
    let tail: Vec<&str> =
        logs.iter().filter(|l| l.source == "stderr" && !l.text.trim().is_empty()).map(|l| l.text.as_str()).collect();
    match tail.len() {
        0 => message,
        n => format!("{message}; stderr: {}", tail[n.saturating_sub(2)..].join(" | ")),
    }
}

/// `UnreachableCodeReached` -> `unreachable_code_reached`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks the outputs a guest returned against its signature: each declared output once, of
/// its type, and nothing else.
fn check_outputs(
    component: &Component,
    outputs: Vec<(String, types::OutputValue)>,
) -> Result<IndexMap<String, Value>, Failure> {
    let bad = |message: String| Failure::new(FailureKind::Error, message);
    let mut values = IndexMap::new();
    for (name, output) in outputs {
        let spec = component.signature.output(&name).ok_or_else(|| {
            bad(format!("the component returned output `{name}`, which its describe does not declare"))
        })?;
        let types::OutputValue::Value(raw) = output else {
            return Err(bad(format!(
                "output `{name}` is an artifact, which this version of wasmpipe does not support"
            )));
        };
        let decoded = value::from_wit(&raw).map_err(|e| bad(format!("output `{name}`: {e}")))?;
        let checked = match &spec.ty {
            PortType::Value(t) => t.coerce(decoded).map_err(|e| bad(format!("output `{name}`: {e}")))?,
            other => {
                return Err(bad(format!(
                    "output `{name}` has type {other}, which this version of wasmpipe does not support"
                )));
            }
        };
        if values.insert(name.clone(), checked).is_some() {
            return Err(bad(format!("the component returned output `{name}` twice")));
        }
    }
    if let Some(missing) = component.signature.outputs.iter().find(|o| !values.contains_key(&o.name)) {
        return Err(bad(format!("the component did not return its declared output `{}`", missing.name)));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    #[test]
    fn trap_names_become_snake_case() {
        assert_eq!(super::snake_case("UnreachableCodeReached"), "unreachable_code_reached");
        assert_eq!(super::snake_case("StackOverflow"), "stack_overflow");
    }
}

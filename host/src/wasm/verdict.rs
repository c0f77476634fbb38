//! The verdict of one attempt, shared by task components and WASI commands: how a wasmtime
//! error becomes a failure of the right kind (`memory_limit` from the limiter's record,
//! `timeout` from epoch interruption, `trap` with its code), and the checks of what a guest
//! returned (outputs against the signature, artifacts where they belong, within their limit).

use indexmap::IndexMap;
use serde_json::Value;
use wasmtime::Trap;

use super::attempt_dirs::AttemptDirs;
use super::loader::LoadedComponent;
use super::sandbox::RecordingLimiter;
use super::wit::types;
use super::wit_value;
use crate::model::artifact::{self, ArtifactRef, GUEST_OUT};
use crate::model::component::PortType;
use crate::model::outcome::{Failure, FailureKind, LogLine};
use crate::model::policy::Limits;
use crate::model::value::json_size;

/// What one attempt produced.
pub struct AttemptOutcome {
    /// The outputs, checked against the signature, or the failure.
    pub result: Result<IndexMap<String, Value>, Failure>,
    /// What the guest logged and printed.
    pub logs: Vec<LogLine>,
}

/// The failure of an attempt that ran past its timeout.
pub(crate) fn timeout(limits: &Limits) -> Failure {
    Failure::new(
        FailureKind::Timeout,
        format!("the task ran longer than its timeout of {:?}; raise `timeout` if it needs more", limits.timeout),
    )
}

/// Turns an error from instantiate or call into a failure of the right kind.
pub(crate) fn classify(
    error: &wasmtime::Error,
    limiter: &RecordingLimiter,
    limits: &Limits,
    logs: &[LogLine],
) -> Failure {
    if limiter.hit {
        return Failure::new(
            FailureKind::MemoryLimit,
            format!(
                "the task tried to use more than its memory limit of {} MiB; raise `memory` if it needs more",
                limits.memory >> 20
            ),
        );
    }
    // wasmtime's bound on what one call copies out of the guest (`sandbox::hostcall_fuel`);
    // its error type is private, so it is known by its message.
    if error.chain().any(|e| e.to_string().contains("fuel allocated for hostcalls has been exhausted")) {
        return Failure::new(
            FailureKind::OutputLimit,
            format!(
                "the task handed the host more than {} MiB in one call (its outputs, or a call to the host), more than its value limit allows; raise `value_limit` or `--value-limit` if it needs more",
                super::sandbox::hostcall_fuel(limits) >> 20
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
pub(crate) fn with_stderr_tail(message: String, logs: &[LogLine]) -> String {
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
/// its type, and nothing else. An artifact output must be where the guest was told to write it,
/// a plain file or directory, and all of them together within the attempt's artifact limit.
pub(crate) fn check_outputs(
    component: &LoadedComponent,
    outputs: Vec<(String, types::OutputValue)>,
    dirs: Option<&AttemptDirs>,
    limits: &Limits,
) -> Result<IndexMap<String, Value>, Failure> {
    let bad = |message: String| Failure::new(FailureKind::Error, message);
    let mut values = IndexMap::new();
    let mut artifact_bytes = 0;
    let mut value_bytes = 0;
    for (name, output) in outputs {
        let spec = component.signature.output(&name).ok_or_else(|| {
            bad(format!("the component returned output `{name}`, which its describe does not declare"))
        })?;
        let checked = match (&spec.ty, output) {
            (PortType::Value(t), types::OutputValue::Value(raw)) => {
                // Refused before it is decoded when even its smallest JSON text is over the limit.
                check_value_total(value_bytes + json_size_at_least(&raw), &name, limits)?;
                let decoded = wit_value::from_wit(&raw).map_err(|e| bad(format!("output `{name}`: {e}")))?;
                value_bytes += json_size(&decoded);
                check_value_total(value_bytes, &name, limits)?;
                t.coerce(decoded).map_err(|e| bad(format!("output `{name}`: {e}")))?
            }
            (PortType::Artifact { kind, directory }, types::OutputValue::Artifact(returned)) => {
                let dirs = dirs.expect("a component with artifact outputs runs with attempt directories");
                let artifact = check_artifact(&name, kind, *directory, &returned, dirs)?;
                artifact_bytes += artifact.size;
                value_bytes += json_size(&artifact.metadata);
                check_value_total(value_bytes, &name, limits)?;
                artifact.to_value()
            }
            (ty, _) => {
                return Err(bad(format!(
                    "output `{name}` is declared as {ty} but the component returned something else"
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
    check_artifact_total(artifact_bytes, limits)?;
    Ok(values)
}

/// A lower bound of the length of the JSON text of a value in its WIT encoding, measured
/// without decoding it: every string with its quotes, every key with its quotes and colon,
/// one byte per number, the brackets and commas.
fn json_size_at_least(value: &types::Value) -> u64 {
    value
        .nodes
        .iter()
        .map(|node| match node {
            types::Node::Str(s) => s.len() as u64 + 2,
            types::Node::ListOf(items) => 2 + items.len().saturating_sub(1) as u64,
            types::Node::DictOf(entries) => {
                2 + entries.iter().map(|(k, _)| k.len() as u64 + 3).sum::<u64>()
                    + entries.len().saturating_sub(1) as u64
            }
            types::Node::Int(_) | types::Node::Float(_) => 1,
            types::Node::Null | types::Node::Boolean(true) => 4,
            types::Node::Boolean(false) => 5,
        })
        .sum()
}

/// Fails an attempt whose value outputs (and artifact metadata) hold more than its limit, as
/// JSON text, once output `name` is counted (kind `output_limit`).
pub(crate) fn check_value_total(bytes: u64, name: &str, limits: &Limits) -> Result<(), Failure> {
    if bytes > limits.values {
        return Err(Failure::new(
            FailureKind::OutputLimit,
            format!(
                "the task's value outputs hold {bytes} bytes (as JSON) once output `{name}` is counted, over its value limit of {} bytes; raise `value_limit` on the task or `--value-limit` if it needs more",
                limits.values
            ),
        ));
    }
    Ok(())
}

/// Fails an attempt whose output artifacts hold more than its limit (kind `output_limit`).
pub(crate) fn check_artifact_total(bytes: u64, limits: &Limits) -> Result<(), Failure> {
    if bytes > limits.artifacts {
        return Err(Failure::new(
            FailureKind::OutputLimit,
            format!(
                "the task's output artifacts hold {bytes} bytes, over its limit of {} bytes; raise `artifact_limit` if it needs more",
                limits.artifacts
            ),
        ));
    }
    Ok(())
}

/// Checks output artifact `name` that the guest says it wrote, and describes it.
pub(crate) fn check_artifact(
    name: &str,
    kind: &str,
    directory: bool,
    returned: &types::Artifact,
    dirs: &AttemptDirs,
) -> Result<ArtifactRef, Failure> {
    let bad = |message: String| Failure::new(FailureKind::Error, message);
    let expected = format!("{GUEST_OUT}/{name}");
    if !returned.path.is_empty() && returned.path.trim_end_matches('/') != expected {
        return Err(bad(format!(
            "output artifact `{name}` was returned at `{}`; write it at `{expected}` and return that path",
            returned.path
        )));
    }
    let staged = dirs.staged(name);
    let meta = std::fs::symlink_metadata(&staged)
        .map_err(|_| bad(format!("output artifact `{name}`: the component wrote nothing at `{expected}`")))?;
    if meta.is_dir() != directory || meta.file_type().is_symlink() {
        let want = if directory { "a directory" } else { "a file" };
        return Err(bad(format!("output artifact `{name}` must be {want} at `{expected}`")));
    }
    let (size, digest) = artifact::measure(&staged).map_err(|e| bad(format!("output artifact `{name}`: {e}")))?;
    let metadata = if returned.metadata.nodes.is_empty() {
        Value::Object(Default::default())
    } else {
        wit_value::from_wit(&returned.metadata)
            .map_err(|e| bad(format!("the metadata of output artifact `{name}`: {e}")))?
    };
    Ok(ArtifactRef {
        kind: kind.to_string(),
        directory,
        name: name.to_string(),
        path: dirs.published(name),
        size,
        digest,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_names_become_snake_case() {
        assert_eq!(snake_case("UnreachableCodeReached"), "unreachable_code_reached");
        assert_eq!(snake_case("StackOverflow"), "stack_overflow");
    }

    /// Ensures that the lower bound never exceeds the real JSON length (so it never refuses a
    /// value the exact check admits), on values of every node kind.
    #[test]
    fn the_size_estimate_is_a_lower_bound() {
        for value in [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(false),
            serde_json::json!(7),
            serde_json::json!(-1.5e300),
            serde_json::json!("a \"quoted\" \n string"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([1, [2, 3], {"k": "v", "": null}, "s", false]),
            serde_json::json!({"a": {"b": {"c": [1, 2, 3]}}, "d": [true, null]}),
        ] {
            let wit = wit_value::to_wit(&value);
            assert!(json_size_at_least(&wit) <= json_size(&value), "{value}");
        }
    }
}

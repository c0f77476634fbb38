//! An exit component built against `wasmpipe:pipeline@0.1.0` (`wit/v0.1.0`), by hand with
//! wit-bindgen, as components built before 0.2.0 were: it logs through the 0.1.0 host
//! interface and returns the kinds of the failures it received, so that tests can check what a
//! 0.1.0 component sees of kinds added later (`internal` arrives as `error`).

wit_bindgen::generate!({
    path: "../../wit/v0.1.0",
    world: "task",
});

use exports::wasmpipe::pipeline::component::Guest;
use wasmpipe::pipeline::host::{Level, log};
use wasmpipe::pipeline::types::{
    Context, FailureKind, InputSpec, InputValue, Node, OutputSpec, OutputValue, PortType, Signature, Value,
};

struct LegacyExit;

impl Guest for LegacyExit {
    fn describe() -> Signature {
        Signature {
            name: "legacy_exit".into(),
            description: "Returns the failure kinds of its body, as a 0.1.0 component sees them.".into(),
            inputs: vec![InputSpec {
                name: "status".into(),
                type_: PortType::FinalStatus,
                required: false,
                default: None,
                description: "The body's final status.".into(),
            }],
            outputs: vec![OutputSpec { name: "output".into(), type_: PortType::Str, description: String::new() }],
        }
    }

    fn run(_ctx: Context, inputs: Vec<(String, InputValue)>) -> Result<Vec<(String, OutputValue)>, String> {
        let status = inputs
            .into_iter()
            .find_map(|(name, value)| match value {
                InputValue::FinalStatus(status) if name == "status" => Some(status),
                _ => None,
            })
            .ok_or("no final status")?;
        let kinds: Vec<&str> = status
            .failures
            .iter()
            .map(|f| match f.kind {
                FailureKind::Error => "error",
                FailureKind::Trap => "trap",
                FailureKind::Timeout => "timeout",
                FailureKind::MemoryLimit => "memory_limit",
                FailureKind::FuelExhausted => "fuel_exhausted",
                FailureKind::OutputLimit => "output_limit",
                FailureKind::Load => "load",
                FailureKind::Input => "input",
                FailureKind::Cancelled => "cancelled",
            })
            .collect();
        log(Level::Info, &format!("kinds: {}", kinds.join(",")));
        Ok(vec![("output".into(), OutputValue::Value(Value { nodes: vec![Node::Str(kinds.join(","))] }))])
    }
}

export!(LegacyExit);

/// A component binary has no use for `main`; the host calls the exports.
fn main() {}

//! A guest whose `describe` is too big (written against the raw WIT bindings): 2 MiB of
//! description and 2,000 outputs, which the host must refuse at load.
use wasmpipe_guest::__private::{Context, Guest, InputValue, OutputSpec, OutputValue, Signature, export};
use wasmpipe_guest::bindings::wasmpipe::pipeline::types::PortType;

struct HostileDescribe;

impl Guest for HostileDescribe {
    fn describe() -> Signature {
        Signature {
            name: "hostile_describe".into(),
            description: "d".repeat(2 << 20),
            inputs: Vec::new(),
            outputs: (0..2000)
                .map(|i| OutputSpec { name: format!("out{i}"), type_: PortType::Str, description: String::new() })
                .collect(),
        }
    }

    fn run(_ctx: Context, _inputs: Vec<(String, InputValue)>) -> Result<Vec<(String, OutputValue)>, String> {
        Err("never run: the host refuses this component at load".into())
    }
}

export!(HostileDescribe);

fn main() {}

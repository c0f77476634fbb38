//! A guest that returns an output artifact with `n` bytes of metadata (written against the raw
//! WIT bindings): the metadata counts toward the task's value limit.
use wasmpipe_guest::__private::{Context, Guest, InputSpec, InputValue, OutputSpec, OutputValue, Signature, export};
use wasmpipe_guest::bindings::wasmpipe::pipeline::types::{Artifact, ArtifactType, Node, PortType, Value};

struct HostileMeta;

impl Guest for HostileMeta {
    fn describe() -> Signature {
        Signature {
            name: "hostile_meta".into(),
            description: "returns an artifact with n bytes of metadata".into(),
            inputs: vec![InputSpec {
                name: "n".into(),
                type_: PortType::Int,
                required: true,
                default: None,
                description: String::new(),
            }],
            outputs: vec![OutputSpec {
                name: "data".into(),
                type_: PortType::Artifact(ArtifactType { kind: "Artifact".into(), directory: false }),
                description: String::new(),
            }],
        }
    }

    fn run(_ctx: Context, inputs: Vec<(String, InputValue)>) -> Result<Vec<(String, OutputValue)>, String> {
        let n = inputs
            .iter()
            .find_map(|(name, v)| match v {
                InputValue::Value(Value { nodes }) if name == "n" => match nodes.first() {
                    Some(Node::Int(n)) => Some(*n),
                    _ => None,
                },
                _ => None,
            })
            .ok_or("input `n` (int) is required")?;
        std::fs::write("/out/data", "x").map_err(|e| e.to_string())?;
        let metadata = Value { nodes: vec![Node::DictOf(vec![("note".into(), 1)]), Node::Str("m".repeat(n as usize))] };
        let artifact =
            Artifact { path: "/out/data".into(), name: "data".into(), size: 0, digest: String::new(), metadata };
        Ok(vec![("data".into(), OutputValue::Artifact(artifact))])
    }
}

export!(HostileMeta);

fn main() {}

//! A guest that attacks the host through what it returns, written against the raw WIT bindings
//! (the SDK would never build such values). `mode` picks the attack; `n` sizes it.
//!
//! - `shared_nodes`: a value whose `n` list nodes each hold the next node twice, so that a
//!   decoder following references without checking the tree builds 2^n values from n + 1 nodes.
//! - `orphan_node`: a value with a node that no list or dict holds.
//! - `big_string`: a string of `n` bytes.
//! - `many_items`: a list of `n` ints (for a loop to iterate over).
use wasmpipe_guest::__private::{Context, Guest, InputSpec, InputValue, OutputSpec, OutputValue, Signature, export};
use wasmpipe_guest::bindings::wasmpipe::pipeline::types::{Node, PortType, Value};

struct Hostile;

impl Guest for Hostile {
    fn describe() -> Signature {
        let input = |name: &str, ty: PortType| InputSpec {
            name: name.into(),
            type_: ty,
            required: true,
            default: None,
            description: String::new(),
        };
        Signature {
            name: "hostile".into(),
            description: "returns values that break the WIT value rules".into(),
            inputs: vec![input("mode", PortType::Str), input("n", PortType::Int)],
            outputs: vec![OutputSpec { name: "out".into(), type_: PortType::Any, description: String::new() }],
        }
    }

    fn run(_ctx: Context, inputs: Vec<(String, InputValue)>) -> Result<Vec<(String, OutputValue)>, String> {
        let scalar = |name: &str| {
            inputs.iter().find(|(n, _)| n == name).and_then(|(_, v)| match v {
                InputValue::Value(Value { nodes }) => nodes.first().cloned(),
                _ => None,
            })
        };
        let (Some(Node::Str(mode)), Some(Node::Int(n))) = (scalar("mode"), scalar("n")) else {
            return Err("inputs `mode` (string) and `n` (int) are required".into());
        };
        let nodes = match mode.as_str() {
            "shared_nodes" => {
                let n = n as u32;
                let mut nodes: Vec<Node> = (0..n).map(|i| Node::ListOf(vec![i + 1, i + 1])).collect();
                nodes.push(Node::Int(1));
                nodes
            }
            "orphan_node" => vec![Node::Int(1), Node::Int(2)],
            "big_string" => vec![Node::Str("x".repeat(n as usize))],
            "many_items" => {
                let mut nodes = vec![Node::ListOf((1..=n as u32).collect())];
                nodes.extend((0..n).map(Node::Int));
                nodes
            }
            other => return Err(format!("unknown mode `{other}`")),
        };
        Ok(vec![("out".into(), OutputValue::Value(Value { nodes }))])
    }
}

export!(Hostile);

fn main() {}

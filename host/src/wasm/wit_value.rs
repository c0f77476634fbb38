//! Values on the WIT boundary: WIT has no recursive types, so a JSON value travels as a
//! flattened list of nodes ([`to_wit`], [`from_wit`]), and a component's `describe` result
//! becomes a [`Signature`] ([`signature_from_wit`]).

use serde_json::{Map, Number, Value};

use super::wit::types::{self, Node, Value as WitValue};
use crate::model::artifact::plain_name;
use crate::model::component::{InputSpec, OutputSpec, PortType, Signature};
use crate::model::value::ValueType;

/// Flattens a JSON value into the WIT encoding.
pub fn to_wit(value: &Value) -> WitValue {
    let mut nodes = Vec::new();
    push(value, &mut nodes);
    WitValue { nodes }
}

fn push(value: &Value, nodes: &mut Vec<Node>) -> u32 {
    let index = nodes.len();
    nodes.push(Node::Null);
    let node = match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Node::Int(i),
            None => Node::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Node::Str(s.clone()),
        Value::Array(items) => Node::ListOf(items.iter().map(|v| push(v, nodes)).collect()),
        Value::Object(map) => Node::DictOf(map.iter().map(|(k, v)| (k.clone(), push(v, nodes))).collect()),
    };
    nodes[index] = node;
    index as u32
}

/// Rebuilds a JSON value from the WIT encoding a guest returned, checking every index (a
/// guest may send anything). The nodes must form a tree, as the WIT says: every node but the
/// root is held by exactly one list or dict, after its parent. A node held twice is refused:
/// followed as given, n such nodes would make the host build 2^n values. So the work and the
/// value built are proportional to the nodes the guest sent. Non-finite floats are refused: JSON
/// cannot hold them.
pub fn from_wit(value: &WitValue) -> Result<Value, String> {
    /// Builds node `index`, held by `parent`, marking each node it reaches in `seen`.
    fn build(
        nodes: &[Node],
        index: u32,
        parent: Option<u32>,
        depth: usize,
        seen: &mut [bool],
    ) -> Result<Value, String> {
        if depth > 256 {
            return Err("value nests deeper than 256 levels".into());
        }
        let node = nodes.get(index as usize).ok_or_else(|| format!("value node {index} does not exist"))?;
        if parent.is_some_and(|p| index <= p) {
            return Err(format!("value node {index} does not come after its parent"));
        }
        if std::mem::replace(&mut seen[index as usize], true) {
            return Err(format!(
                "value node {index} is held by more than one list or dict; a value is a tree (each node but the root in exactly one list or dict)"
            ));
        }
        let here = Some(index);
        Ok(match node {
            Node::Null => Value::Null,
            Node::Str(s) => Value::String(s.clone()),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => Number::from_f64(*f)
                .map(Value::Number)
                .ok_or_else(|| format!("float {f} cannot be represented in JSON"))?,
            Node::Boolean(b) => Value::Bool(*b),
            Node::ListOf(items) => {
                let mut list = Vec::with_capacity(items.len().min(nodes.len()));
                for &i in items {
                    list.push(build(nodes, i, here, depth + 1, seen)?);
                }
                Value::Array(list)
            }
            Node::DictOf(entries) => {
                let mut map = Map::new();
                for (k, i) in entries {
                    map.insert(k.clone(), build(nodes, *i, here, depth + 1, seen)?);
                }
                Value::Object(map)
            }
        })
    }
    if value.nodes.is_empty() {
        return Err("value has no nodes".into());
    }
    let mut seen = vec![false; value.nodes.len()];
    let built = build(&value.nodes, 0, None, 0, &mut seen)?;
    if let Some(orphan) = seen.iter().position(|s| !s) {
        return Err(format!(
            "value node {orphan} is in no list or dict; a value is a tree (each node but the root in exactly one list or dict)"
        ));
    }
    Ok(built)
}

/// Checks and converts what a component's `describe` returned.
pub(crate) fn signature_from_wit(sig: types::Signature) -> Result<Signature, String> {
    let mut inputs = Vec::new();
    for input in sig.inputs {
        let ty = port_type(input.type_);
        let default = match input.default {
            Some(d) => {
                let v = from_wit(&d).map_err(|e| format!("the default of input `{}`: {e}", input.name))?;
                Some(match &ty {
                    PortType::Value(t) => {
                        t.coerce(v).map_err(|e| format!("the default of input `{}`: {e}", input.name))?
                    }
                    _ => {
                        return Err(format!("input `{}` of type {ty} cannot have a default", input.name));
                    }
                })
            }
            None => None,
        };
        if !plain_name(&input.name) {
            return Err(format!("input name `{}` may use only letters, digits, `-` and `_`", input.name));
        }
        if inputs.iter().any(|i: &InputSpec| i.name == input.name) {
            return Err(format!("it declares input `{}` twice", input.name));
        }
        inputs.push(InputSpec {
            name: input.name,
            ty,
            required: input.required,
            default,
            description: input.description,
        });
    }
    let mut outputs = Vec::new();
    for output in sig.outputs {
        let ty = port_type(output.type_);
        if ty == PortType::FinalStatus {
            return Err(format!("output `{}` has type final_status, which only inputs can have", output.name));
        }
        if !plain_name(&output.name) {
            return Err(format!("output name `{}` may use only letters, digits, `-` and `_`", output.name));
        }
        if outputs.iter().any(|o: &OutputSpec| o.name == output.name) {
            return Err(format!("it declares output `{}` twice", output.name));
        }
        outputs.push(OutputSpec { name: output.name, ty, description: output.description });
    }
    Ok(Signature { name: sig.name, description: sig.description, inputs, outputs })
}

/// A port type as the model names it.
fn port_type(ty: types::PortType) -> PortType {
    use types::PortType as W;
    match ty {
        W::Str => PortType::Value(ValueType::String),
        W::Int => PortType::Value(ValueType::Int),
        W::Float => PortType::Value(ValueType::Float),
        W::Boolean => PortType::Value(ValueType::Bool),
        W::ListOf => PortType::Value(ValueType::List),
        W::DictOf => PortType::Value(ValueType::Dict),
        W::Any => PortType::Value(ValueType::Any),
        W::FinalStatus => PortType::FinalStatus,
        W::Artifact(a) => PortType::Artifact { kind: a.kind, directory: a.directory },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wit_encoding_round_trips_nested_values_and_keeps_ints_apart_from_floats() {
        let value = json!({"a": [1, 2.5, "x", null, {"b": true}], "c": {}, "d": 3});
        let back = from_wit(&to_wit(&value)).unwrap();
        assert_eq!(back, value);
        assert!(back["d"].is_i64());
        assert!(back["a"][1].is_f64());
    }

    #[test]
    fn from_wit_refuses_shared_and_orphan_nodes() {
        // 41 nodes that would make 2^40 values if shared references were followed.
        let mut nodes: Vec<Node> = (0..40).map(|i| Node::ListOf(vec![i + 1, i + 1])).collect();
        nodes.push(Node::Int(1));
        let error = from_wit(&WitValue { nodes }).unwrap_err();
        assert!(error.contains("value node 40 is held by more than one list or dict"), "{error}");
        let dict = WitValue { nodes: vec![Node::DictOf(vec![("a".into(), 1), ("b".into(), 1)]), Node::Null] };
        assert!(from_wit(&dict).unwrap_err().contains("more than one list or dict"));
        let orphan = WitValue { nodes: vec![Node::Int(1), Node::Int(2)] };
        assert!(from_wit(&orphan).unwrap_err().contains("value node 1 is in no list or dict"));
        let tree =
            WitValue { nodes: vec![Node::ListOf(vec![1, 2]), Node::ListOf(vec![3]), Node::Int(2), Node::Int(3)] };
        assert_eq!(from_wit(&tree).unwrap(), serde_json::json!([[3], 2]));
    }

    #[test]
    fn from_wit_rejects_cycles_and_dangling_indices() {
        let cyclic = WitValue { nodes: vec![Node::ListOf(vec![0])] };
        assert!(from_wit(&cyclic).unwrap_err().contains("after its parent"));
        let dangling = WitValue { nodes: vec![Node::ListOf(vec![7])] };
        assert!(from_wit(&dangling).unwrap_err().contains("does not exist"));
    }
}

//! [`Value`]: a JSON-like tree, and its flattened WIT encoding (`wasmpipe:pipeline/types.value`).

use crate::bindings::wasmpipe::pipeline::types::{self as wit, Node};

/// A value of any wasmpipe type: string, int, float, bool, list or dict, nested freely.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value.
    Null,
    /// A string.
    Str(String),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A list.
    List(Vec<Value>),
    /// A dict, its keys in order.
    Dict(Vec<(String, Value)>),
}

impl Value {
    /// The name of this value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Str(_) => "string",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Bool(_) => "bool",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
        }
    }

    /// Flattens the tree into the WIT encoding: the root first, children after their parent.
    pub fn to_wit(&self) -> wit::Value {
        let mut nodes = Vec::new();
        push(self, &mut nodes);
        wit::Value { nodes }
    }

    /// Rebuilds the tree from the WIT encoding, checking every index.
    pub fn from_wit(value: &wit::Value) -> Result<Value, String> {
        build(&value.nodes, 0, 0)
    }
}

fn push(value: &Value, nodes: &mut Vec<Node>) -> u32 {
    let index = nodes.len();
    nodes.push(Node::Null);
    let node = match value {
        Value::Null => Node::Null,
        Value::Str(s) => Node::Str(s.clone()),
        Value::Int(i) => Node::Int(*i),
        Value::Float(f) => Node::Float(*f),
        Value::Bool(b) => Node::Boolean(*b),
        Value::List(items) => Node::ListOf(items.iter().map(|v| push(v, nodes)).collect()),
        Value::Dict(entries) => Node::DictOf(entries.iter().map(|(k, v)| (k.clone(), push(v, nodes))).collect()),
    };
    nodes[index] = node;
    index as u32
}

fn build(nodes: &[Node], index: u32, parent_bound: u32) -> Result<Value, String> {
    let node = nodes.get(index as usize).ok_or_else(|| format!("value node {index} does not exist"))?;
    if index != 0 && index <= parent_bound {
        return Err(format!("value node {index} does not follow its parent"));
    }
    Ok(match node {
        Node::Null => Value::Null,
        Node::Str(s) => Value::Str(s.clone()),
        Node::Int(i) => Value::Int(*i),
        Node::Float(f) => Value::Float(*f),
        Node::Boolean(b) => Value::Bool(*b),
        Node::ListOf(items) => Value::List(items.iter().map(|&i| build(nodes, i, index)).collect::<Result<_, _>>()?),
        Node::DictOf(entries) => Value::Dict(
            entries.iter().map(|(k, i)| Ok((k.clone(), build(nodes, *i, index)?))).collect::<Result<_, String>>()?,
        ),
    })
}

//! Parameter values and their types.
//!
//! A value is a [`serde_json::Value`]: it keeps ints and floats apart (`1` vs `1.0`), which is
//! what "an int stays an int end to end" needs. [`ValueType`] is the declared type of a
//! parameter, an input or an output; this module checks values against it, parses `-p` values
//! by it, and converts to and from the flattened WIT encoding.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::wit::types::{Node, Value as WitValue};

/// The type of a parameter, input or output value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// A UTF-8 string.
    String,
    /// A 64-bit signed integer.
    Int,
    /// A 64-bit float; an int is accepted and converted.
    Float,
    /// `true` or `false`.
    Bool,
    /// A JSON array.
    List,
    /// A JSON object.
    Dict,
    /// Any JSON value.
    Any,
    /// A file or directory artifact (a [`crate::artifact::ArtifactRef`]): only an artifact
    /// output or an artifact parameter feeds it, and it feeds nothing but an artifact input.
    Artifact,
}

impl ValueType {
    /// The name used in pipeline files and messages.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Int => "int",
            ValueType::Float => "float",
            ValueType::Bool => "bool",
            ValueType::List => "list",
            ValueType::Dict => "dict",
            ValueType::Any => "any",
            ValueType::Artifact => "artifact",
        }
    }

    /// Whether a value declared as `source` may be bound to an input of this type. An int may
    /// feed a float, never the reverse; `any` feeds and accepts everything (checked at run time).
    pub fn accepts(self, source: ValueType) -> bool {
        if (self == ValueType::Artifact) != (source == ValueType::Artifact) {
            return false;
        }
        self == source
            || self == ValueType::Any
            || source == ValueType::Any
            || (self == ValueType::Float && source == ValueType::Int)
    }

    /// The type of a concrete value (`Any` for null).
    pub fn of(value: &Value) -> ValueType {
        match value {
            Value::Null => ValueType::Any,
            Value::Bool(_) => ValueType::Bool,
            Value::Number(n) if n.is_i64() => ValueType::Int,
            Value::Number(_) => ValueType::Float,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::List,
            Value::Object(_) => ValueType::Dict,
        }
    }

    /// Checks `value` against this type and returns it as the type wants it (an int given for
    /// a float becomes a float). The error says what was expected and what came.
    pub fn coerce(self, value: Value) -> Result<Value, String> {
        let actual = ValueType::of(&value);
        match (self, &value) {
            (ValueType::Artifact, _) => crate::artifact::ArtifactRef::from_value(&value).map(|_| value),
            (ValueType::Any, _) => Ok(value),
            (ValueType::Float, Value::Number(n)) if n.is_i64() => Ok(float(n.as_f64().unwrap_or_default())),
            (ValueType::Int, Value::Number(n)) if n.is_u64() && !n.is_i64() => {
                Err(format!("expected an int, got {n}, which does not fit in 64 signed bits"))
            }
            _ if actual == self => Ok(value),
            _ => Err(format!("expected {}, got {} `{}`", article(self), actual.name(), short(&value))),
        }
    }

    /// Parses a command-line value (`-p name=value`) by this type: strings are taken as they
    /// are, ints, floats and bools by their usual spelling, lists and dicts as JSON.
    pub fn parse_cli(self, text: &str) -> Result<Value, String> {
        let bad = |what: &str| format!("`{text}` is not {what}");
        match self {
            ValueType::String => Ok(Value::String(text.to_string())),
            ValueType::Int => text.trim().parse::<i64>().map(Value::from).map_err(|_| bad("an int")),
            ValueType::Float => {
                let f: f64 = text.trim().parse().map_err(|_| bad("a float"))?;
                if f.is_finite() { Ok(float(f)) } else { Err(bad("a finite float")) }
            }
            ValueType::Bool => match text.trim() {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(bad("a bool (write true or false)")),
            },
            ValueType::Artifact => Err("an artifact: give it with `-a NAME=PATH`, not `-p`".into()),
            ValueType::List | ValueType::Dict | ValueType::Any => {
                let value: Value = serde_json::from_str(text).map_err(|e| format!("`{text}` is not JSON ({e})"))?;
                self.coerce(value)
            }
        }
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

fn article(t: ValueType) -> String {
    match t {
        ValueType::Int | ValueType::Any | ValueType::Artifact => format!("an {}", t.name()),
        _ => format!("a {}", t.name()),
    }
}

/// A value shortened for a message.
pub fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 { format!("{}...", text.chars().take(40).collect::<String>()) } else { text }
}

/// A JSON float (never written as an int). Non-finite floats become null.
pub fn float(f: f64) -> Value {
    Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
}

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
/// guest may send anything). Non-finite floats are refused: JSON cannot hold them.
pub fn from_wit(value: &WitValue) -> Result<Value, String> {
    fn build(nodes: &[Node], index: u32, parent: Option<u32>, depth: usize) -> Result<Value, String> {
        if depth > 256 {
            return Err("value nests deeper than 256 levels".into());
        }
        let node = nodes.get(index as usize).ok_or_else(|| format!("value node {index} does not exist"))?;
        if parent.is_some_and(|p| index <= p) {
            return Err(format!("value node {index} does not come after its parent"));
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
                Value::Array(items.iter().map(|&i| build(nodes, i, here, depth + 1)).collect::<Result<_, _>>()?)
            }
            Node::DictOf(entries) => {
                let mut map = Map::new();
                for (k, i) in entries {
                    map.insert(k.clone(), build(nodes, *i, here, depth + 1)?);
                }
                Value::Object(map)
            }
        })
    }
    if value.nodes.is_empty() {
        return Err("value has no nodes".into());
    }
    build(&value.nodes, 0, None, 0)
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
    fn from_wit_rejects_cycles_and_dangling_indices() {
        let cyclic = WitValue { nodes: vec![Node::ListOf(vec![0])] };
        assert!(from_wit(&cyclic).unwrap_err().contains("after its parent"));
        let dangling = WitValue { nodes: vec![Node::ListOf(vec![7])] };
        assert!(from_wit(&dangling).unwrap_err().contains("does not exist"));
    }

    #[test]
    fn cli_values_parse_by_declared_type() {
        assert_eq!(ValueType::Int.parse_cli("42").unwrap(), json!(42));
        assert!(ValueType::Int.parse_cli("42").unwrap().is_i64());
        assert!(ValueType::Float.parse_cli("42").unwrap().is_f64());
        assert_eq!(ValueType::String.parse_cli("42").unwrap(), json!("42"));
        assert_eq!(ValueType::List.parse_cli("[1,2]").unwrap(), json!([1, 2]));
        assert!(ValueType::Int.parse_cli("4.5").unwrap_err().contains("not an int"));
        assert!(ValueType::Bool.parse_cli("yes").unwrap_err().contains("true or false"));
        assert!(ValueType::Dict.parse_cli("[1]").unwrap_err().contains("expected a dict"));
    }

    #[test]
    fn an_int_feeds_a_float_but_not_the_reverse() {
        assert!(ValueType::Float.accepts(ValueType::Int));
        assert!(!ValueType::Int.accepts(ValueType::Float));
        assert!(ValueType::Float.coerce(json!(2)).unwrap().is_f64());
        assert!(ValueType::Int.coerce(json!(2.0)).is_err());
    }
}

//! Parameter values and their types.
//!
//! A value is a [`serde_json::Value`]: it keeps ints and floats apart (`1` vs `1.0`), which is
//! what "an int stays an int end to end" needs. [`ValueType`] is the declared type of a
//! parameter, an input or an output; this module checks values against it, parses `-p` values
//! and parses `-p` values by it. (The flattened WIT encoding of values is `wasm::wit_value`.)

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::diag::short;

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
    /// A file or directory artifact (an `ArtifactRef`): only an artifact
    /// output or an artifact parameter feeds it, and it feeds nothing but an artifact input.
    Artifact,
}

impl ValueType {
    /// Every value type.
    pub const ALL: [ValueType; 8] = [
        ValueType::String,
        ValueType::Int,
        ValueType::Float,
        ValueType::Bool,
        ValueType::List,
        ValueType::Dict,
        ValueType::Any,
        ValueType::Artifact,
    ];

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
            (ValueType::Artifact, _) => super::artifact::ArtifactRef::from_value(&value).map(|_| value),
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
            // YAML 1.2's spellings, which take Python's `True` too.
            ValueType::Bool => match text.trim() {
                "true" | "True" | "TRUE" => Ok(Value::Bool(true)),
                "false" | "False" | "FALSE" => Ok(Value::Bool(false)),
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

/// A JSON float (never written as an int). Non-finite floats become null.
pub(crate) fn float(f: f64) -> Value {
    Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
}

/// `value` as it is formatted into a string (`"n={{tasks.calc.output}}"`), and as other
/// engines pass values as text: a string as it is, any other value as JSON.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The length of `value` as JSON text, in bytes: what the value limits count. Measured without
/// building the text.
pub fn json_size(value: &Value) -> u64 {
    /// Counts what is written to it.
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing JSON to a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// Deserializes a field that may be written `null`: present, even as `null`, is `Some` (with
/// `#[serde(default)]`, absent is `None`), where serde's `Option` would read `null` as absent.
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    <Value as serde::Deserialize>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cli_values_parse_by_declared_type() {
        assert_eq!(ValueType::Int.parse_cli("42").unwrap(), json!(42));
        assert!(ValueType::Int.parse_cli("42").unwrap().is_i64());
        assert!(ValueType::Float.parse_cli("42").unwrap().is_f64());
        assert_eq!(ValueType::String.parse_cli("42").unwrap(), json!("42"));
        assert_eq!(ValueType::List.parse_cli("[1,2]").unwrap(), json!([1, 2]));
        assert!(ValueType::Int.parse_cli("4.5").unwrap_err().contains("not an int"));
        assert!(ValueType::Bool.parse_cli("yes").unwrap_err().contains("true or false"));
        for (text, value) in [("True", true), ("TRUE", true), ("False", false), ("FALSE", false)] {
            assert_eq!(ValueType::Bool.parse_cli(text).unwrap(), json!(value), "{text}: Python's spelling, YAML 1.2's");
        }
        assert!(ValueType::Bool.parse_cli("tRUE").is_err());
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

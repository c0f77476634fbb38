//! Writing a pipeline back out: [`Pipeline::to_json`] and [`Pipeline::to_yaml`], which the
//! parser reads back into the same model (the builder's output is a pipeline file).

use std::borrow::Cow;

use saphyr::{Mapping, Scalar, ScalarStyle, Yaml, YamlEmitter};
use serde_json::Value;

use super::Pipeline;

impl Pipeline {
    /// The pipeline as JSON (a pipeline file `wasmpipe run` reads).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a pipeline serialises")
    }

    /// The pipeline as YAML (a pipeline file `wasmpipe run` reads).
    ///
    /// ```
    /// use std::path::Path;
    /// use wasmpipe::authoring::PipelineBuilder;
    /// use wasmpipe::model::load::load_str;
    ///
    /// let mut p = PipelineBuilder::new("hello");
    /// let echo = p.component("echo", "echo.wasm");
    /// p.task(&echo).input("message", "hi");
    /// let pipeline = p.build().unwrap();
    /// let back = load_str(&pipeline.to_yaml(), Path::new("hello.yaml"), Path::new(".")).unwrap();
    /// assert_eq!(back.pipeline, pipeline);
    /// ```
    pub fn to_yaml(&self) -> String {
        yaml_text(&serde_json::to_value(self).expect("a pipeline serialises"))
    }
}

/// Any JSON document as YAML text (what `wasmpipe compile` writes, say).
pub fn yaml_text(value: &Value) -> String {
    let mut out = String::new();
    YamlEmitter::new(&mut out).dump(&to_yaml(value)).expect("writing to a string cannot fail");
    out.push('\n');
    out
}

/// A JSON value as a YAML node. Floats are written as JSON writes them (`1.0`, not `1`), so
/// they stay floats when read back. (An integer above `i64::MAX` does not survive: YAML readers
/// here hold integers in 64 signed bits.)
fn to_yaml(value: &Value) -> Yaml<'static> {
    match value {
        Value::Null => Yaml::Value(Scalar::Null),
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Yaml::Value(Scalar::Integer(i)),
            None => Yaml::Representation(Cow::Owned(n.to_string()), ScalarStyle::Plain, None),
        },
        // A string a YAML reader would take for something else (`0o17` is an int) is written
        // JSON-quoted, which is a YAML double-quoted scalar; the emitter quotes the others.
        Value::String(s) if !matches!(Scalar::parse_from_cow(Cow::Borrowed(s)), Scalar::String(_)) => {
            Yaml::Representation(Cow::Owned(Value::String(s.clone()).to_string()), ScalarStyle::Plain, None)
        }
        Value::String(s) => Yaml::Value(Scalar::String(Cow::Owned(s.clone()))),
        Value::Array(items) => Yaml::Sequence(items.iter().map(to_yaml).collect()),
        Value::Object(map) => {
            let mut mapping = Mapping::new();
            for (k, v) in map {
                mapping.insert(Yaml::Value(Scalar::String(Cow::Owned(k.clone()))), to_yaml(v));
            }
            Yaml::Mapping(mapping)
        }
    }
}

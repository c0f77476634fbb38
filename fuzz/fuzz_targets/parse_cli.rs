//! Fuzz target `parse_cli`: a `-p NAME=VALUE` value, parsed by
//! `model::value::ValueType::parse_cli` as every value type.
//!
//! Besides never panicking: a value that parses has the type it was parsed as (`coerce` keeps
//! it as it is), and its canonical text (a string's own text, else its JSON) parses back to the
//! same value. Floats inside JSON (list, dict, any) came back a few units in the last place off
//! while serde_json was built without `float_roundtrip` (fuzz/README.md, "Findings", 5; fixed
//! since), so this target lets a relative difference up to 1e-14 through; with the fix that
//! tolerance can go, once a fuzz run has confirmed it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use wasmpipe::model::value::ValueType;

/// Whether two values are equal, floats allowed a relative difference of 1e-14.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() && y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or_default(), y.as_f64().unwrap_or_default());
            x == y || (x - y).abs() <= 1e-14 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|text: &str| {
    for ty in ValueType::ALL {
        let Ok(value) = ty.parse_cli(text) else { continue };
        assert_ne!(ty, ValueType::Artifact, "an artifact parsed from `-p`");
        assert_eq!(ty.coerce(value.clone()).as_ref(), Ok(&value), "{ty} `{text}` parsed to a value of another type");
        let canonical = match (&value, ty) {
            (Value::String(s), ValueType::String) => s.clone(),
            (other, _) => other.to_string(),
        };
        let back = ty.parse_cli(&canonical);
        assert!(back.as_ref().is_ok_and(|b| same(b, &value)), "{ty} `{text}`: `{canonical}` parses back as {back:?}");
    }
});

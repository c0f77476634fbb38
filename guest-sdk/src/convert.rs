//! Conversions between Rust types and wasmpipe's ports: [`InputType`], [`OutputType`] and
//! [`Outputs`], used by the code that `#[component]` and `#[derive(Outputs)]` generate.

use std::collections::BTreeMap;

use crate::Value;
use crate::bindings::wasmpipe::pipeline::types::{FinalStatus, InputSpec, InputValue, OutputValue, PortType};

/// A Rust type that holds a wasmpipe value (string, int, float, bool, list, dict or any).
pub trait ValueType: Sized {
    /// The wasmpipe type it maps to.
    fn port_type() -> PortType;
    /// Converts a value, or says why it cannot.
    fn from_value(value: Value) -> Result<Self, String>;
    /// Converts into a value.
    fn into_value(self) -> Value;
}

fn mismatch<T>(expected: &str, got: &Value) -> Result<T, String> {
    Err(format!("expected {expected}, got {}", got.type_name()))
}

impl ValueType for String {
    fn port_type() -> PortType {
        PortType::Str
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Str(s) => Ok(s),
            other => mismatch("a string", &other),
        }
    }
    fn into_value(self) -> Value {
        Value::Str(self)
    }
}

impl ValueType for i64 {
    fn port_type() -> PortType {
        PortType::Int
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Int(i) => Ok(i),
            other => mismatch("an int", &other),
        }
    }
    fn into_value(self) -> Value {
        Value::Int(self)
    }
}

impl ValueType for i32 {
    fn port_type() -> PortType {
        PortType::Int
    }
    fn from_value(value: Value) -> Result<Self, String> {
        let wide = i64::from_value(value)?;
        i32::try_from(wide).map_err(|_| format!("{wide} does not fit in an i32"))
    }
    fn into_value(self) -> Value {
        Value::Int(self.into())
    }
}

impl ValueType for f64 {
    fn port_type() -> PortType {
        PortType::Float
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => mismatch("a float", &other),
        }
    }
    fn into_value(self) -> Value {
        Value::Float(self)
    }
}

impl ValueType for bool {
    fn port_type() -> PortType {
        PortType::Boolean
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(b),
            other => mismatch("a bool", &other),
        }
    }
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

impl ValueType for Value {
    fn port_type() -> PortType {
        PortType::Any
    }
    fn from_value(value: Value) -> Result<Self, String> {
        Ok(value)
    }
    fn into_value(self) -> Value {
        self
    }
}

impl<T: ValueType> ValueType for Vec<T> {
    fn port_type() -> PortType {
        PortType::ListOf
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_value(v).map_err(|e| format!("item {i}: {e}")))
                .collect(),
            other => mismatch("a list", &other),
        }
    }
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(T::into_value).collect())
    }
}

impl<T: ValueType> ValueType for BTreeMap<String, T> {
    fn port_type() -> PortType {
        PortType::DictOf
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Dict(entries) => entries
                .into_iter()
                .map(|(k, v)| {
                    let v = T::from_value(v).map_err(|e| format!("key `{k}`: {e}"))?;
                    Ok((k, v))
                })
                .collect(),
            other => mismatch("a dict", &other),
        }
    }
    fn into_value(self) -> Value {
        Value::Dict(self.into_iter().map(|(k, v)| (k, v.into_value())).collect())
    }
}

/// A Rust type a component function can take as an argument.
pub trait InputType: Sized {
    /// The value type a default for this input is written in (`T` for `T` and `Option<T>`).
    type Inner: ValueType;
    /// The wasmpipe type of the input.
    fn port_type() -> PortType;
    /// Whether the pipeline must bind the input (false for `Option<T>`).
    fn required() -> bool {
        true
    }
    /// Converts the value the host passed (`None` when the input was not bound).
    fn from_input(input: Option<InputValue>) -> Result<Self, String>;
}

impl<T: ValueType> InputType for T {
    type Inner = T;
    fn port_type() -> PortType {
        T::port_type()
    }
    fn from_input(input: Option<InputValue>) -> Result<Self, String> {
        match input {
            Some(InputValue::Value(v)) => T::from_value(Value::from_wit(&v)?),
            Some(_) => Err("expected a value, got a final status or an artifact".into()),
            None => Err("no value was given".into()),
        }
    }
}

impl<T: ValueType> InputType for Option<T> {
    type Inner = T;
    fn port_type() -> PortType {
        T::port_type()
    }
    fn required() -> bool {
        false
    }
    fn from_input(input: Option<InputValue>) -> Result<Self, String> {
        match input {
            None => Ok(None),
            Some(InputValue::Value(v)) => match Value::from_wit(&v)? {
                Value::Null => Ok(None),
                other => T::from_value(other).map(Some),
            },
            Some(_) => Err("expected a value, got a final status or an artifact".into()),
        }
    }
}

impl InputType for FinalStatus {
    type Inner = Value;
    fn port_type() -> PortType {
        PortType::FinalStatus
    }
    fn required() -> bool {
        false
    }
    fn from_input(input: Option<InputValue>) -> Result<Self, String> {
        match input {
            Some(InputValue::FinalStatus(status)) => Ok(status),
            Some(_) => Err("expected a final status".into()),
            None => Err("no final status was given: is this component used as an exit task?".into()),
        }
    }
}

/// A Rust type a component can return as one output.
pub trait OutputType {
    /// The wasmpipe type of the output.
    fn port_type() -> PortType;
    /// Converts into the output value.
    fn into_output(self) -> OutputValue;
}

impl<T: ValueType> OutputType for T {
    fn port_type() -> PortType {
        T::port_type()
    }
    fn into_output(self) -> OutputValue {
        OutputValue::Value(self.into_value().to_wit())
    }
}

/// What a component function returns: no outputs (`()`), one output named `output`, or a
/// struct with `#[derive(Outputs)]`, one output per field.
pub trait Outputs {
    /// The outputs it declares.
    fn specs() -> Vec<crate::__private::OutputSpec>;
    /// The outputs, by name.
    fn into_outputs(self) -> Vec<(String, OutputValue)>;
}

impl Outputs for () {
    fn specs() -> Vec<crate::__private::OutputSpec> {
        Vec::new()
    }
    fn into_outputs(self) -> Vec<(String, OutputValue)> {
        Vec::new()
    }
}

impl<T: OutputType> Outputs for T {
    fn specs() -> Vec<crate::__private::OutputSpec> {
        vec![crate::__private::OutputSpec { name: "output".into(), type_: T::port_type(), description: String::new() }]
    }
    fn into_outputs(self) -> Vec<(String, OutputValue)> {
        vec![("output".into(), self.into_output())]
    }
}

/// Builds the `describe` entry of one argument.
pub fn input_spec<T: InputType>(name: &str, default: Option<Value>) -> InputSpec {
    InputSpec {
        name: name.into(),
        type_: T::port_type(),
        required: T::required() && default.is_none(),
        default: default.map(|d| d.to_wit()),
        description: String::new(),
    }
}

/// Takes the value of one input out of `run`'s arguments and converts it, falling back to the
/// default; the error names the input.
pub fn take_input<T: InputType>(
    inputs: &mut Vec<(String, InputValue)>,
    name: &str,
    default: Option<Value>,
) -> Result<T, String> {
    let given = inputs
        .iter()
        .position(|(n, _)| n == name)
        .map(|i| inputs.swap_remove(i).1)
        .or_else(|| default.map(|d| InputValue::Value(d.to_wit())));
    T::from_input(given).map_err(|e| format!("input `{name}`: {e}"))
}

/// Converts a default written in `#[default(...)]` on an argument of type `T` into a value.
pub fn default_value<T: InputType>(value: impl Into<T::Inner>) -> Value {
    value.into().into_value()
}

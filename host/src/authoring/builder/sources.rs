//! What an input can be bound to, typed: literals, parameters ([`ParamRef`]), task outputs
//! ([`Out`]) and loop items ([`Item`]), the Rust types ports can have ([`HasValueType`]), and
//! the handles the builder gives back for components and tasks.

use std::fmt;
use std::marker::PhantomData;

use serde_json::Value;

use crate::model::value::ValueType;

/// A Rust type that a parameter, an input or an output can have, and its wasmpipe value type.
pub trait HasValueType {
    /// Its wasmpipe type.
    const TYPE: ValueType;
}

impl HasValueType for String {
    const TYPE: ValueType = ValueType::String;
}
impl HasValueType for i64 {
    const TYPE: ValueType = ValueType::Int;
}
impl HasValueType for f64 {
    const TYPE: ValueType = ValueType::Float;
}
impl HasValueType for bool {
    const TYPE: ValueType = ValueType::Bool;
}
impl<T> HasValueType for Vec<T> {
    const TYPE: ValueType = ValueType::List;
}
impl HasValueType for Value {
    const TYPE: ValueType = ValueType::Any;
}

/// An artifact, as the type of a parameter or an output handle.
pub struct Artifact;
impl HasValueType for Artifact {
    const TYPE: ValueType = ValueType::Artifact;
}

/// What an input can be bound to: a literal, a parameter, a task output or a loop item.
#[derive(Clone, Debug, PartialEq)]
pub struct Source(Value);

impl Source {
    /// The binding as the pipeline file writes it.
    pub fn into_value(self) -> Value {
        self.0
    }
}

macro_rules! literal_sources {
    ($($t:ty),*) => {$(
        impl From<$t> for Source {
            fn from(v: $t) -> Source {
                Source(Value::from(v))
            }
        }
    )*};
}
literal_sources!(&str, String, i64, i32, f64, bool);

impl From<Value> for Source {
    fn from(v: Value) -> Source {
        Source(v)
    }
}

/// A typed pipeline parameter: `{{params.NAME}}`.
#[derive(Debug)]
pub struct ParamRef<T> {
    pub(super) name: String,
    pub(super) ty: PhantomData<T>,
}

impl<T> Clone for ParamRef<T> {
    fn clone(&self) -> Self {
        ParamRef { name: self.name.clone(), ty: PhantomData }
    }
}

impl<T> fmt::Display for ParamRef<T> {
    /// `{{params.NAME}}`, for conditions and formatted strings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{params.{}}}}}", self.name)
    }
}

impl<T> From<&ParamRef<T>> for Source {
    fn from(p: &ParamRef<T>) -> Source {
        Source(Value::String(p.to_string()))
    }
}

/// A typed output of a task: `{{tasks.TASK.outputs.NAME}}`.
#[derive(Debug)]
pub struct Out<T> {
    pub(super) task: String,
    pub(super) name: String,
    pub(super) ty: PhantomData<T>,
}

impl<T> Clone for Out<T> {
    fn clone(&self) -> Self {
        Out { task: self.task.clone(), name: self.name.clone(), ty: PhantomData }
    }
}

impl<T> fmt::Display for Out<T> {
    /// `{{tasks.TASK.outputs.NAME}}`, for conditions and formatted strings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{tasks.{}.outputs.{}}}}}", self.task, self.name)
    }
}

impl<T> From<&Out<T>> for Source {
    fn from(o: &Out<T>) -> Source {
        Source(Value::String(o.to_string()))
    }
}

/// A loop's item (`{{item}}`, or `{{NAME}}` for a loop that names it), and its fields.
#[derive(Clone, Debug)]
pub struct Item {
    pub(super) var: String,
}

impl Item {
    /// Field `name` of a dict item: `{{item.name}}`.
    pub fn field(&self, name: &str) -> Source {
        Source(Value::String(format!("{{{{{}.{name}}}}}", self.var)))
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{{}}}}}", self.var)
    }
}

impl From<&Item> for Source {
    fn from(i: &Item) -> Source {
        Source(Value::String(i.to_string()))
    }
}

/// A source that can feed an input of type `T` (checked by the compiler): literals, parameters
/// and outputs of type `T`, and ints for floats.
pub trait SourceOf<T>: Into<Source> {}
impl<T> SourceOf<T> for &ParamRef<T> {}
impl<T> SourceOf<T> for &Out<T> {}
impl SourceOf<f64> for &ParamRef<i64> {}
impl SourceOf<f64> for &Out<i64> {}
impl SourceOf<String> for &str {}
impl SourceOf<String> for String {}
impl SourceOf<i64> for i64 {}
impl SourceOf<f64> for f64 {}
impl SourceOf<f64> for i64 {}
impl SourceOf<bool> for bool {}

/// A component declared in the pipeline.
#[derive(Clone, Debug)]
pub struct ComponentHandle {
    pub(super) name: String,
}

/// A task created by the builder: use it to read its outputs, order other tasks after it, or
/// make it an exit task.
#[derive(Clone, Debug)]
pub struct TaskHandle {
    pub(super) id: usize,
    pub(super) name: String,
}

impl TaskHandle {
    /// The task's name (unique in the pipeline).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its output `name`, of type `T`.
    pub fn output_of<T>(&self, name: &str) -> Out<T> {
        Out { task: self.name.clone(), name: name.into(), ty: PhantomData }
    }

    /// Its output named `output` (KFP's `.output`), of type `T`.
    pub fn output<T>(&self) -> Out<T> {
        self.output_of("output")
    }
}

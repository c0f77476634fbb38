//! Artifacts: files and directories passed between tasks. An input artifact is an argument of
//! type [`Input<K>`], an output artifact a result of type [`Output<K>`], where `K` names the
//! kind ([`Dataset`], [`Model`], [`Metrics`], [`Artifact`], or [`Dir<K>`] for a directory).
//!
//! ```ignore
//! use wasmpipe_guest::{component, Dataset, Input, Output};
//!
//! /// Doubles every number of a dataset, one per line.
//! #[component]
//! fn double(data: Input<Dataset>) -> Result<Output<Dataset>, String> {
//!     let text = data.read_to_string().map_err(|e| e.to_string())?;
//!     let doubled: Vec<String> = text.lines().map(|l| (l.trim().parse::<i64>().unwrap_or(0) * 2).to_string()).collect();
//!     let out = Output::new("output").with_metadata("factor", 2i64);
//!     out.write(doubled.join("\n")).map_err(|e| e.to_string())?;
//!     Ok(out)
//! }
//! ```
//!
//! The host lays input `x` at `/in/x` (read-only) and takes output `y` from `/out/y`; it
//! measures and publishes outputs only when the task succeeds.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use crate::Value;
use crate::bindings::wasmpipe::pipeline::types::{
    Artifact as WitArtifact, ArtifactType, InputValue, OutputValue, PortType,
};
use crate::convert::{InputType, OutputType, ValueType};

/// A kind of artifact: its label and whether it is a directory.
pub trait ArtifactKind {
    /// The kind's label ("Dataset", "Model", ...).
    const KIND: &'static str;
    /// Whether artifacts of this kind are directories.
    const DIRECTORY: bool = false;
}

macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl ArtifactKind for $name {
            const KIND: &'static str = stringify!($name);
        }
    )*};
}

kinds!(
    /// Any artifact (KFP's generic `Artifact`): feeds and takes every kind.
    Artifact,
    /// A dataset (KFP's `Dataset`).
    Dataset,
    /// A model (KFP's `Model`).
    Model,
    /// Metrics (KFP's `Metrics`).
    Metrics
);

/// A directory artifact of kind `K`.
pub struct Dir<K>(PhantomData<K>);

impl<K: ArtifactKind> ArtifactKind for Dir<K> {
    const KIND: &'static str = K::KIND;
    const DIRECTORY: bool = true;
}

fn port_type<K: ArtifactKind>() -> PortType {
    PortType::Artifact(ArtifactType { kind: K::KIND.into(), directory: K::DIRECTORY })
}

/// An input artifact: a file or directory the task may read (and not change).
pub struct Input<K> {
    path: PathBuf,
    name: String,
    size: u64,
    digest: String,
    metadata: Value,
    kind: PhantomData<K>,
}

impl<K> Input<K> {
    /// Where it is inside the sandbox (`/in/<input>`).
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The name of the output or parameter that made it.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }
    /// Its content hash, `blake3:<hex>`.
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// The metadata its producer set (a dict, possibly empty).
    pub fn metadata(&self) -> &Value {
        &self.metadata
    }
    /// Reads a file artifact as text.
    pub fn read_to_string(&self) -> std::io::Result<String> {
        std::fs::read_to_string(&self.path)
    }
    /// Reads a file artifact as bytes.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(&self.path)
    }
}

impl<K: ArtifactKind> InputType for Input<K> {
    type Inner = Value;
    fn port_type() -> PortType {
        port_type::<K>()
    }
    fn from_input(input: Option<InputValue>) -> Result<Self, String> {
        match input {
            Some(InputValue::Artifact(a)) => Ok(Input {
                path: PathBuf::from(a.path),
                name: a.name,
                size: a.size,
                digest: a.digest,
                metadata: Value::from_wit(&a.metadata).unwrap_or(Value::Null),
                kind: PhantomData,
            }),
            Some(_) => Err("expected an artifact, got a value".into()),
            None => Err("no artifact was given".into()),
        }
    }
}

impl<K: ArtifactKind> InputType for Option<Input<K>> {
    type Inner = Value;
    fn port_type() -> PortType {
        port_type::<K>()
    }
    fn required() -> bool {
        false
    }
    fn from_input(input: Option<InputValue>) -> Result<Self, String> {
        input.map(|i| Input::from_input(Some(i))).transpose()
    }
}

/// Artifacts collected over a loop's iterations (KFP's `Input[List[Dataset]]`, a
/// `dsl.Collected` of artifacts): the input is a `list` of artifact descriptions, and the host
/// lays each out at `/in/<input>/<i>`, in item order.
impl<K: ArtifactKind> InputType for Vec<Input<K>> {
    type Inner = Value;
    fn port_type() -> PortType {
        <Vec<Value> as ValueType>::port_type()
    }
    fn from_input(input: Option<InputValue>) -> Result<Self, String> {
        let list = <Vec<Value> as InputType>::from_input(input)?;
        list.into_iter().enumerate().map(|(i, v)| collected::<K>(v).map_err(|e| format!("item {i}: {e}"))).collect()
    }
}

/// One artifact of a collected list, from its description.
fn collected<K: ArtifactKind>(description: Value) -> Result<Input<K>, String> {
    let Value::Dict(fields) = description else {
        return Err("expected an artifact's description (a dict), got another value".into());
    };
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let text = |name: &str| match field(name) {
        Some(Value::Str(s)) => Ok(s.clone()),
        _ => Err(format!("the artifact's description has no `{name}`")),
    };
    let kind = text("kind")?;
    let directory = matches!(field("directory"), Some(Value::Bool(true)));
    if (K::KIND != "Artifact" && kind != "Artifact" && kind != K::KIND) || directory != K::DIRECTORY {
        let shape = if directory { "directory" } else { "file" };
        return Err(format!("expected a {} artifact, got a {kind} {shape}", K::KIND));
    }
    Ok(Input {
        path: PathBuf::from(text("path")?),
        name: text("name")?,
        size: match field("size") {
            Some(Value::Int(n)) => *n as u64,
            _ => 0,
        },
        digest: text("digest").unwrap_or_default(),
        metadata: field("metadata").cloned().unwrap_or(Value::Null),
        kind: PhantomData,
    })
}

/// An output artifact: the task writes it at [`Output::path`] and returns it.
pub struct Output<K> {
    name: String,
    metadata: BTreeMap<String, Value>,
    kind: PhantomData<K>,
}

impl<K: ArtifactKind> Output<K> {
    /// Output artifact `name` (the field's name in a `#[derive(Outputs)]` struct, or `output`
    /// for a lone result). For a directory kind the host has created the directory already.
    pub fn new(name: &str) -> Self {
        Output { name: name.into(), metadata: BTreeMap::new(), kind: PhantomData }
    }
    /// Where to write it inside the sandbox: `/out/<name>`.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/out/{}", self.name))
    }
    /// Writes a file artifact whole.
    pub fn write(&self, contents: impl AsRef<[u8]>) -> std::io::Result<()> {
        std::fs::write(self.path(), contents)
    }
    /// Sets one metadata entry (any value type: string, int, float, bool, list, dict).
    pub fn set_metadata(&mut self, key: &str, value: impl ValueType) {
        self.metadata.insert(key.into(), value.into_value());
    }
    /// Sets one metadata entry, builder style.
    pub fn with_metadata(mut self, key: &str, value: impl ValueType) -> Self {
        self.set_metadata(key, value);
        self
    }
}

impl<K: ArtifactKind> OutputType for Output<K> {
    fn port_type() -> PortType {
        port_type::<K>()
    }
    fn into_output(self) -> OutputValue {
        OutputValue::Artifact(WitArtifact {
            path: self.path().display().to_string(),
            name: self.name,
            size: 0,
            digest: String::new(),
            metadata: Value::Dict(self.metadata.into_iter().collect()).to_wit(),
        })
    }
}

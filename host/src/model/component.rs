//! What the model knows of a component: where it comes from ([`ComponentSource`]), the inputs
//! and outputs it declares ([`Signature`]), and why it could not be used ([`LoadError`]).
//! Loading and describing components is `wasm::loader`'s; validation reads these types.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::CommandSpec;
use super::value::ValueType;

/// The type of an input or output as a component declares it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PortType {
    /// A parameter value.
    Value(ValueType),
    /// The final status of an exit handler's body (inputs only).
    FinalStatus,
    /// An artifact: a file or a directory, with a kind label.
    Artifact {
        /// Its kind label.
        kind: String,
        /// Whether it is a directory.
        directory: bool,
    },
}

impl std::fmt::Display for PortType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortType::Value(t) => write!(f, "{t}"),
            PortType::FinalStatus => f.write_str("final_status"),
            PortType::Artifact { kind, directory: true } => write!(f, "artifact directory ({kind})"),
            PortType::Artifact { kind, directory: false } => write!(f, "artifact file ({kind})"),
        }
    }
}

/// One input of a component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: PortType,
    /// Whether the pipeline must bind it.
    pub required: bool,
    /// Its default, for an optional input.
    pub default: Option<Value>,
    /// What it is for.
    pub description: String,
}

/// One output of a component.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputSpec {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: PortType,
    /// What it is.
    pub description: String,
}

/// What a component's `describe` returned, checked and converted. (Serialised only for the
/// compiled-component cache, which keeps it beside the compiled form.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// The component's own name for itself.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its inputs.
    pub inputs: Vec<InputSpec>,
    /// Its outputs.
    pub outputs: Vec<OutputSpec>,
}

impl Signature {
    /// The input called `name`.
    pub fn input(&self, name: &str) -> Option<&InputSpec> {
        self.inputs.iter().find(|i| i.name == name)
    }

    /// The output called `name`.
    pub fn output(&self, name: &str) -> Option<&OutputSpec> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// The signature a command's declaration gives it.
    pub fn of_command(spec: &CommandSpec) -> Signature {
        let port = |ty: ValueType, kind: &Option<String>, directory: bool| match ty {
            ValueType::Artifact => {
                PortType::Artifact { kind: kind.clone().unwrap_or_else(|| "Artifact".into()), directory }
            }
            t => PortType::Value(t),
        };
        Signature {
            name: String::new(),
            description: String::new(),
            inputs: spec
                .inputs
                .iter()
                .map(|(name, p)| InputSpec {
                    name: name.clone(),
                    ty: port(p.ty, &p.kind, p.directory.unwrap_or(false)),
                    required: p.default.is_none(),
                    default: p.default.clone(),
                    description: p.description.clone(),
                })
                .collect(),
            outputs: spec
                .outputs
                .iter()
                .map(|(name, o)| OutputSpec {
                    name: name.clone(),
                    ty: port(o.ty, &o.kind, o.directory),
                    description: o.description.clone(),
                })
                .collect(),
        }
    }
}

/// Where a component comes from: its file, and for a WASI command how to run it.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentSource {
    /// The `.wasm` or `.wat` file.
    pub path: PathBuf,
    /// For a WASI command: its arguments, environment, inputs and outputs.
    pub command: Option<CommandSpec>,
}

impl ComponentSource {
    /// What tells this source apart from others: the file, and the command spec if any.
    pub fn key(&self) -> (PathBuf, Option<String>) {
        (self.path.clone(), self.command.as_ref().map(|c| serde_json::to_string(c).expect("a spec serialises")))
    }
}

/// Why a component could not be used; the message says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    /// What is wrong with the component and how to fix it.
    pub message: String,
    /// Whether it failed only when instantiated for `describe` (it compiled and linked): with
    /// the pooling allocator that may mean it does not fit the pool's slots.
    pub in_describe: bool,
}

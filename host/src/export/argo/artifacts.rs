//! Artifacts through Argo's artifact repository: a task's output artifact is its container
//! template's `outputs.artifacts` (at [`ARTIFACT_OUTPUTS_DIR`]`/NAME`, where task-run places
//! it), an input artifact its `inputs.artifacts` (at [`ARTIFACT_INPUTS_DIR`]`/NAME`, where
//! Argo puts it) given `from` the producer (`{{tasks.T.outputs.artifacts.O}}`, through the DAG
//! templates' input and output artifacts for groups, as parameters go), and a pipeline's
//! artifact parameter an input artifact of the entrypoint (`spec.arguments.artifacts`, whose
//! source the user gives at submit time). Argo keeps no metadata with an artifact: a reader
//! gets `{}`. A list of artifacts (collected over a loop) is refused: Argo does not aggregate
//! the output artifacts of a loop's iterations.

use serde_json::{Value, json};

use super::reference::Source;
use super::{Exporter, Local, Scope};
use crate::export::{Document, find_task};
use crate::model::binding::{Binding, Ref};
use crate::model::component::PortType;
use crate::model::value::ValueType;

/// Where task-run places each output artifact in the container (`outputs.artifacts[].path`).
pub const ARTIFACT_OUTPUTS_DIR: &str = "/tmp/artifacts/outputs";

/// Where Argo puts each input artifact in the container (`inputs.artifacts[].path`).
pub const ARTIFACT_INPUTS_DIR: &str = "/tmp/artifacts/inputs";

impl Source {
    /// The tag Argo resolves to the artifact (a DAG task's `arguments.artifacts[].from`).
    pub(super) fn artifact_tag(&self) -> String {
        match self {
            Source::Param(p) | Source::Channel(p) => format!("{{{{inputs.artifacts.{p}}}}}"),
            Source::Sibling { task, output } => format!("{{{{tasks.{task}.outputs.artifacts.{output}}}}}"),
        }
    }
}

impl Exporter<'_> {
    /// Whether `r` is an artifact: an artifact parameter, or an artifact output of a task (of
    /// a sub-pipeline's task too).
    pub(super) fn is_artifact(&self, r: &Ref) -> bool {
        doc_artifact(self.doc, r)
    }

    /// The input artifact `name` of a task, bound to `value` (at `at`): its declaration in the
    /// container template and its argument; None (refused) when it is not one reference to an
    /// artifact, or a list of them.
    pub(super) fn artifact_input(
        &mut self,
        name: &str,
        value: Option<&Value>,
        at: &str,
        scope: &Scope,
        local: &Local<'_>,
    ) -> Option<(Value, Value)> {
        let r = match value.map(Binding::parse) {
            Some(Ok(Binding::Ref(r))) if self.is_artifact(&r) => r,
            Some(Ok(Binding::Ref(Ref::Item { .. }))) => {
                self.refuse(at, "a loop over artifacts (an artifact input bound to the loop's item) is not exported to Argo: Argo's loops iterate over parameters, and a list of artifacts is not one");
                return None;
            }
            None => {
                self.refuse(at, "an artifact input left unbound is not exported to Argo (bind it)");
                return None;
            }
            _ => {
                self.refuse(
                    at,
                    "an artifact input is exported to Argo bound to one artifact (a parameter or an output)",
                );
                return None;
            }
        };
        if self.fan_in(&r, scope, local) {
            self.refuse(at, "a list of artifacts (collected over a loop) is not exported to Argo: Argo does not aggregate the output artifacts of a loop's iterations");
            return None;
        }
        let source = match self.reference(&r, scope, local, None) {
            Ok(source) => source,
            Err(e) => {
                self.refuse(at, e);
                return None;
            }
        };
        let declared = json!({"name": name, "path": format!("{ARTIFACT_INPUTS_DIR}/{name}")});
        Some((declared, json!({"name": name, "from": source.artifact_tag()})))
    }

    /// Refuses (at `at`) a value input bound to artifacts: a list of them, collected over a
    /// loop. True when refused.
    pub(super) fn artifact_list(&mut self, value: &Value, at: &str) -> bool {
        let listed = Binding::parse(value)
            .map(|b| b.refs().into_iter().any(|r| matches!(r, Ref::Output { .. }) && self.is_artifact(r)))
            .unwrap_or(false);
        if listed {
            self.refuse(at, "a list of artifacts (collected over a loop) is not exported to Argo: Argo does not aggregate the output artifacts of a loop's iterations");
        }
        listed
    }
}

/// Whether `r` is an artifact of `doc` (see [`Exporter::is_artifact`]).
fn doc_artifact(doc: &Document, r: &Ref) -> bool {
    match r {
        Ref::Param(p) => doc.pipeline.params.get(p).is_some_and(|p| p.ty == ValueType::Artifact),
        Ref::Output { task, output } => {
            let Some(component) = find_task(&doc.pipeline.steps, task).map(|t| &t.component) else { return false };
            if let Some(sub) = doc.subs.get(component) {
                return match sub.pipeline.outputs.get(output).map(Binding::parse) {
                    Some(Ok(Binding::Ref(r))) => doc_artifact(sub, &r),
                    _ => false,
                };
            }
            doc.components
                .get(component)
                .and_then(|c| c.signature.output(output))
                .is_some_and(|o| matches!(o.ty, PortType::Artifact { .. }))
        }
        Ref::Item { .. } => false,
    }
}

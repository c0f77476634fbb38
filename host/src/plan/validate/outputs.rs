//! Pipeline outputs (`docs/semantics.md`, rule 12, names and types): names made of letters,
//! digits, `-` and `_`, bound to references (not literals) that resolve. Their types are noted
//! for the readers of a sub-pipeline task, and for `--export`.

use super::{Checker, Reader};
use crate::model::artifact::plain_name;
use crate::model::binding::Binding;
use crate::model::component::Signature;
use crate::model::value::ValueType;
use crate::plan::ScopeIdx;

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks the outputs of scope `s` and notes their types for the sub-pipeline's readers.
    pub(super) fn outputs(&mut self, s: ScopeIdx) {
        let plan = self.plan;
        let from = plan.scopes[s].group;
        for (name, binding) in &plan.scopes[s].outputs {
            let path = format!("outputs.{name}");
            if !plain_name(name) {
                self.error(
                    s,
                    &path,
                    format!("pipeline output name `{name}` may use only letters, digits, `-` and `_`"),
                );
            }
            let ty = match binding {
                Ok(Binding::Literal(_)) => {
                    self.error(s, &path, format!("pipeline output `{name}` must reference a task output, like `{{{{tasks.TASK.outputs.OUTPUT}}}}`"));
                    None
                }
                Ok(b) => {
                    let reader = Reader { scope: s, from, task: None, items: false, path: &path };
                    // A sub-pipeline's output is read like a task output: it needs a value.
                    let usage = if s == ScopeIdx::ROOT {
                        super::nullable::Use::Absent
                    } else {
                        super::nullable::Use::Needed("a sub-pipeline's output needs a value")
                    };
                    self.check_nullable(reader, b, usage);
                    if self.check_one_of(reader, b) { self.binding_type(reader, b) } else { None }
                }
                Err(e) => {
                    self.error(s, &path, format!("pipeline output `{name}`: {e}"));
                    None
                }
            };
            self.output_types.insert((s, name.clone()), ty);
        }
    }

    /// Notes the pipeline's outputs whose type is an artifact (what `--export` copies).
    pub(super) fn artifact_outputs(&mut self) {
        let root = ScopeIdx::ROOT;
        let is_artifact =
            |name: &String| self.output_types.get(&(root, name.clone())) == Some(&Some(ValueType::Artifact));
        let outputs = self.plan.scopes[root].outputs.keys().filter(|name| is_artifact(name)).cloned().collect();
        self.report.artifact_outputs = outputs;
    }
}

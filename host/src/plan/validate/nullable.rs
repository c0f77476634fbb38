//! Parameters with `default: null` (KFP's `int = None`): optional, and without a value unless
//! `-p` (or the task that runs a sub-pipeline) gives one. They are read only where no value can
//! stand (`docs/semantics.md`, rule 12): alone, by an optional input (the component's own
//! default applies), by a sub-pipeline parameter that has `default: null` too, or by a pipeline
//! output (left out of the record's outputs). Never formatted into a string, in a condition or
//! as a loop's items.

use serde_json::Value;

use super::{Checker, Reader};
use crate::model::binding::{Binding, Ref};
use crate::model::component::Signature;
use crate::plan::ScopeIdx;

/// Where a binding that reads a parameter stands.
pub(super) enum Use<'a> {
    /// Alone, a parameter with no value is simply not there.
    Absent,
    /// Required input `input` of task `task`.
    RequiredInput { input: &'a str, task: &'a str },
    /// Parameter `param` of a sub-pipeline, which has a default other than null (or none).
    SubParam { param: &'a str },
    /// A condition or a loop's items, saying that it needs a value.
    Needed(&'a str),
}

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Whether parameter `name` of scope `scope` is declared with `default: null`.
    pub(super) fn nullable(&self, scope: ScopeIdx, name: &str) -> bool {
        self.plan.scopes[scope].pipeline.params.get(name).is_some_and(|p| p.default == Some(Value::Null))
    }

    /// Reports the parameters with `default: null` that `binding`, read by `reader` in place
    /// `usage`, reads where a value is needed.
    pub(super) fn check_nullable(&mut self, reader: Reader, binding: &Binding, usage: Use) {
        for r in binding.refs() {
            let Ref::Param(name) = r else { continue };
            if !self.nullable(reader.scope, name) {
                continue;
            }
            let problem = match (binding, &usage) {
                (Binding::Format(_), _) => "it cannot be formatted into a string".to_string(),
                (_, Use::Absent) => continue,
                (_, Use::RequiredInput { input, task }) => format!("input `{input}` of task `{task}` is required"),
                (_, Use::SubParam { param }) => {
                    format!("parameter `{param}` of the sub-pipeline needs a value (it has no `default: null`)")
                }
                (_, Use::Needed(what)) => what.to_string(),
            };
            self.error(
                reader.scope,
                reader.path,
                format!(
                    "`{r}`: parameter `{name}` has `default: null`, so it may have no value, and {problem}; give it a default, or bind it alone to an optional input (the component's own default applies when it has no value) (see {})",
                    crate::model::diag::rule(12, "Load errors and validation errors")
                ),
            );
        }
    }
}

//! Loops (`docs/semantics.md`, rule 12, groups): a `parallel_for`'s variable is a plain name,
//! its `parallelism` at least 1, and its items a list, or one reference to a list, read from
//! before the loop. What `{{item}}` and `{{item.FIELD}}` read inside the loop is checked with the
//! other references (`references.rs`).

use super::{Checker, Reader};
use crate::model::binding::{self, Binding};
use crate::model::component::Signature;
use crate::model::value::ValueType;
use crate::plan::{GroupIdx, LoopInfo};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks `parallel_for` groups: the items' binding and type, the variable's name,
    /// `parallelism`, and that the items read nothing inside the loop.
    pub(super) fn loops(&mut self) {
        let plan = self.plan;
        for s in plan.scopes.indices() {
            if plan.scopes[s].pipeline.parallelism == Some(0) {
                self.error(s, "parallelism", "a pipeline's `parallelism` must be at least 1".into());
            }
        }
        for l in plan.groups.indices() {
            let Some(looping) = &plan.groups[l].looping else { continue };
            let (scope, path) = (plan.groups[l].scope, &plan.groups[l].doc_path);
            if !binding::is_var(&looping.var) {
                self.error(
                    scope,
                    &format!("{path}.as"),
                    format!("`as: {}`: a loop variable is a plain name (letters, digits, `-`, `_`) other than `params` and `tasks`", looping.var),
                );
            }
            if looping.parallelism == Some(0) {
                self.error(scope, &format!("{path}.parallelism"), "`parallelism` must be at least 1".into());
            }
            self.loop_items(l, looping);
        }
    }

    /// Checks the items of loop `l`: a list, or exactly one reference to a list, that reads no
    /// task inside the loop.
    fn loop_items(&mut self, l: GroupIdx, looping: &LoopInfo) {
        let group = &self.plan.groups[l];
        let path = format!("{}.items", group.doc_path);
        let binding = match &looping.items {
            Ok(b) => b,
            Err(e) => {
                self.error(group.scope, &path, format!("the items are not valid: {e}"));
                return;
            }
        };
        if let Binding::OneOf(_) = binding {
            self.error(group.scope, &path, "`one_of` binds task inputs and pipeline outputs, not a loop's items; give the items to a task that picks, or loop inside each branch".into());
            return;
        }
        if let Binding::Format(_) = binding {
            self.error(group.scope, &path, "the items must be a list, or exactly one reference to a list (`\"{{params.NAME}}\"`, `\"{{tasks.TASK.output}}\"`), not text".into());
            return;
        }
        for r in binding.refs() {
            if self.reads_inside(group.scope, r, l) {
                self.error(
                    group.scope,
                    &path,
                    format!("the items read `{r}`, a task inside the loop itself; they must come from before the loop"),
                );
            }
        }
        let from = group.parent.unwrap_or(GroupIdx::ROOT);
        let reader = Reader { scope: group.scope, from, task: None, items: true, path: &path };
        self.check_nullable(reader, binding, super::nullable::Use::Needed("a loop's items need a value"));
        match self.binding_type(reader, binding) {
            Some(ValueType::List | ValueType::Any) | None => {}
            Some(other) => self.error(
                group.scope,
                &path,
                format!("the items must be a list, but they are {other}; loop over a list literal, a `list` parameter or a `list` output"),
            ),
        }
    }
}

//! Conditional groups (`docs/semantics.md`, rule 12, groups): `elif` and `else` right after an
//! `if` or `elif` step, and conditions that parse, whose references resolve, that read no task
//! inside their own branch, and that compare values of one type.

use std::collections::HashMap;

use super::{Checker, Reader};
use crate::model::binding::Binding;
use crate::model::component::Signature;
use crate::plan::{BranchInfo, GroupIdx};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks `if`/`elif`/`else` groups: their place, their condition's syntax, references and
    /// types, and that a condition reads nothing inside its own branch.
    pub(super) fn branches(&mut self) {
        let plan = self.plan;
        for s in plan.scopes.indices() {
            for path in &plan.scopes[s].misplaced_branches {
                self.error(s, path, "`elif` and `else` must directly follow an `if` or `elif` step".into());
            }
        }
        for h in plan.groups.indices() {
            self.condition(h);
        }
    }

    /// Checks the condition of group `h`, if it is a branch that has one (an `else` has none).
    fn condition(&mut self, h: GroupIdx) {
        let group = &self.plan.groups[h];
        let Some(BranchInfo { condition: Some(condition), .. }) = &group.branch else { return };
        let path = format!("{}.condition", group.doc_path);
        let expr = match condition {
            Ok(expr) => expr,
            Err(e) => {
                self.error(group.scope, &path, format!("the condition is not valid: {e}"));
                return;
            }
        };
        let reader = Reader { scope: group.scope, from: h, task: None, items: false, path: &path };
        let mut types = HashMap::new();
        let mut known = true;
        for r in expr.refs() {
            self.check_nullable(
                reader,
                &Binding::Ref(r.clone()),
                super::nullable::Use::Needed("a condition needs a value"),
            );
            let ty = self.ref_type(reader, r);
            known &= ty.is_some();
            if self.reads_inside(group.scope, r, h) {
                self.error(group.scope, &path, format!("the condition reads `{r}`, a task inside its own branch; it must read tasks that run before the branch"));
                known = false;
            }
            types.insert(r.clone(), ty);
        }
        if known && let Err(e) = expr.check(&|r| types.get(r).copied().flatten()) {
            self.error(group.scope, &path, format!("the condition compares values of different types: {e}"));
        }
    }
}

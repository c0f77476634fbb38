//! Names and declarations (`docs/semantics.md`, rule 12, names): task names used once in their
//! pipeline, groups declared once in the same place, task, sub-pipeline task and group names
//! made of letters, digits, `-` and `_`, and components declared with exactly one of `path` and
//! `pipeline`.

use std::collections::HashSet;

use super::Checker;
use crate::model::artifact::plain_name;
use crate::model::component::Signature;
use crate::plan::{MAX_RECURSION, ScopeIdx};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks the names of tasks and groups, and the components each pipeline declares.
    pub(super) fn names(&mut self) {
        for s in self.plan.scopes.indices() {
            self.duplicate_tasks(s);
            self.component_declarations(s);
        }
        self.group_names();
        self.task_names();
    }

    /// Reports the task names that scope `s` uses twice.
    fn duplicate_tasks(&mut self, s: ScopeIdx) {
        let plan = self.plan;
        for (name, path) in &plan.scopes[s].duplicates {
            self.error(
                s,
                &format!("{path}.task"),
                format!("task name `{name}` is used twice: task names must be unique in the pipeline; rename one"),
            );
        }
    }

    /// Reports the components of scope `s` declared with neither or both of `path` and `pipeline`.
    fn component_declarations(&mut self, s: ScopeIdx) {
        let plan = self.plan;
        for (name, c) in &plan.scopes[s].pipeline.components {
            if c.path.is_some() == c.pipeline.is_some() {
                self.error(
                    s,
                    &format!("components.{name}"),
                    format!("component `{name}` needs exactly one of `path` (a .wasm or .wat file) and `pipeline` (a pipeline file)"),
                );
            }
            match c.max_depth {
                Some(_) if c.pipeline.is_none() => self.error(
                    s,
                    &format!("components.{name}.max_depth"),
                    format!("component `{name}` has `max_depth` but no `pipeline`: only a pipeline can call itself; remove `max_depth`"),
                ),
                Some(n) if n == 0 || n > MAX_RECURSION => self.error(
                    s,
                    &format!("components.{name}.max_depth"),
                    format!("component `{name}` has `max_depth: {n}`: a pipeline may call itself 1 to {MAX_RECURSION} levels deep; pick a depth in that range"),
                ),
                _ => {}
            }
        }
    }

    /// Reports groups declared twice in the same place (the same id), and group names with other
    /// characters than letters, digits, `-` and `_`.
    fn group_names(&mut self) {
        let plan = self.plan;
        let mut ids = HashSet::new();
        for group in plan.groups.iter().skip(1).filter(|g| !g.iteration && g.sub.is_none()) {
            let path = format!("{}.name", group.doc_path);
            if !ids.insert(&group.id) {
                self.error(
                    group.scope,
                    &path,
                    format!("group `{}` is declared twice in the same place: rename one", group.name),
                );
            }
            if !plain_name(&group.name) {
                self.error(
                    group.scope,
                    &path,
                    format!("group name `{}` may use only letters, digits, `-` and `_`", group.name),
                );
            }
        }
    }

    /// Reports task names, sub-pipeline tasks' included, with other characters than letters,
    /// digits, `-` and `_`.
    fn task_names(&mut self) {
        let plan = self.plan;
        let tasks = plan.tasks.iter().map(|t| (t.scope, &t.name, &t.doc_path));
        let subs = plan.groups.iter().filter(|g| g.sub.is_some()).map(|g| (g.scope, &g.name, &g.doc_path));
        for (scope, name, doc_path) in tasks.chain(subs) {
            if !plain_name(name) {
                self.error(
                    scope,
                    &format!("{doc_path}.task"),
                    format!("task name `{name}` may use only letters, digits, `-` and `_`"),
                );
            }
        }
    }
}

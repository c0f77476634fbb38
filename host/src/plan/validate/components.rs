//! Components that do not load (`docs/semantics.md`, rule 12, load errors): an exit task's
//! component stops the run; a body task's is a load failure, reported once per component, whose
//! tasks fail with kind `load` when the run reaches them.

use std::collections::HashSet;

use super::Checker;
use crate::model::component::{LoadError, Signature};
use crate::plan::PlanTask;

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Reports components that fail to load: fatal for exit tasks, a load failure otherwise.
    pub(super) fn components(&mut self) {
        let (plan, components) = (self.plan, self.components);
        let mut reported = HashSet::new();
        for task in &plan.tasks {
            let Some(Err(e)) = components.get(&(task.scope, task.component.clone())) else {
                continue;
            };
            let e = self.load_error(task, e);
            if task.is_exit {
                let message = format!(
                    "exit task `{}` cannot run: {e}; an exit task must load before its run starts (see {})",
                    task.name,
                    crate::model::diag::rule(12, "Load errors and validation errors")
                );
                self.error(task.scope, &format!("{}.component", task.doc_path), message);
            } else if reported.insert((task.scope, &task.component)) {
                let d = plan.scopes[task.scope].source.error(
                    &format!("components.{}", task.component),
                    format!(
                        "{e} (its tasks will fail with kind `load`; see {})",
                        crate::model::diag::rule(12, "Load errors and validation errors")
                    ),
                );
                self.report.load_failures.push(d);
            }
        }
    }

    /// What to say of the component of `task`, which failed to load with `e`: one that declares
    /// `build:` and cannot be read is not built yet.
    fn load_error(&self, task: &PlanTask, e: &LoadError) -> String {
        let declared = self.plan.scopes[task.scope].pipeline.components.get(&task.component);
        match declared.and_then(|c| Some((c.build.as_ref()?, c.path.as_ref()?))) {
            Some((_, path)) if e.message.starts_with("cannot read component") => format!(
                "component `{}` ({path}) is not built yet: it declares `build:`, so run `wasmpipe build` on the pipeline, or `wasmpipe run --build`",
                task.component
            ),
            _ => e.to_string(),
        }
    }
}

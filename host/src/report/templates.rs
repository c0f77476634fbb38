//! The record's tasks grouped by the task of the pipeline they run (their template): a loop's
//! 10,000 iterations of `fan/*/train` are one template with 10,000 instances, so the report's
//! graph and task list stay as small as the pipeline.

use std::collections::HashMap;

use crate::record::{RunRecord, TaskState, TemplateRecord};

/// A task of the pipeline, and the task instances of the run that ran it.
pub(super) struct Template {
    /// Its id, with `*` for a loop's iteration (`fan/*/train`).
    pub id: String,
    /// The component it runs.
    pub component: String,
    /// Whether it is the exit task of a group.
    pub exit_handler: bool,
    /// The templates and groups it depends on.
    pub depends_on: Vec<String>,
    /// Its instances: indices into the record's `tasks`, in record order.
    pub tasks: Vec<usize>,
    /// Its instances by final state: succeeded, failed, skipped, cancelled.
    pub counts: [usize; 4],
}

/// The order states are counted and shown in.
pub(super) const STATES: [TaskState; 4] =
    [TaskState::Succeeded, TaskState::Failed, TaskState::Skipped, TaskState::Cancelled];

/// A state's place in [`STATES`].
pub(super) fn state_index(state: TaskState) -> usize {
    STATES.iter().position(|s| *s == state).expect("every state is listed")
}

impl Template {
    /// The state that stands for all instances: failed over cancelled over succeeded over
    /// skipped (a loop with one failed iteration is drawn failed).
    pub fn state(&self) -> TaskState {
        [TaskState::Failed, TaskState::Cancelled, TaskState::Succeeded, TaskState::Skipped]
            .into_iter()
            .find(|s| self.counts[state_index(*s)] > 0)
            .unwrap_or(TaskState::Skipped)
    }

    /// Its instances by state, as text (`3 succeeded, 1 failed`; empty when none ran).
    pub fn counts_text(&self) -> String {
        let parts: Vec<String> = STATES
            .iter()
            .filter(|s| self.counts[state_index(**s)] > 0)
            .map(|s| format!("{} {}", self.counts[state_index(*s)], super::state_word(*s)))
            .collect();
        parts.join(", ")
    }

    /// The group it is in (`fan/*` for `fan/*/train`), or "" at the top.
    pub fn group(&self) -> &str {
        self.id.rsplit_once('/').map_or("", |(group, _)| group)
    }
}

/// The templates of `record`, in its order, each with its instances. A task that no template
/// names (a record written before records listed templates) gets a template of its own shape.
pub(super) fn templates(record: &RunRecord) -> Vec<Template> {
    let mut out: Vec<Template> = record.templates.iter().map(from_record).collect();
    // Templates by their shape (every all-digit part as `*`): usually one per shape.
    let mut by_shape: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, template) in out.iter().enumerate() {
        by_shape.entry(shape(&template.id)).or_default().push(i);
    }
    for (t, task) in record.tasks.iter().enumerate() {
        let key = shape(&task.id);
        let found = by_shape.get(&key).and_then(|candidates| match candidates[..] {
            [only] => Some(only),
            _ => candidates
                .iter()
                .copied()
                .find(|&i| out[i].id == task.id)
                .or_else(|| candidates.iter().copied().find(|&i| matches(&out[i].id, &task.id))),
        });
        let i = match found {
            Some(i) => i,
            None => {
                out.push(Template {
                    id: key.clone(),
                    component: task.component.clone(),
                    exit_handler: task.exit_handler,
                    depends_on: Vec::new(),
                    tasks: Vec::new(),
                    counts: [0; 4],
                });
                by_shape.entry(key).or_default().push(out.len() - 1);
                out.len() - 1
            }
        };
        out[i].tasks.push(t);
        out[i].counts[state_index(task.state)] += 1;
    }
    out
}

fn from_record(template: &TemplateRecord) -> Template {
    Template {
        id: template.id.clone(),
        component: template.component.clone(),
        exit_handler: template.exit_handler,
        depends_on: template.depends_on.clone(),
        tasks: Vec::new(),
        counts: [0; 4],
    }
}

/// `id` with every all-digit part (a loop iteration's index, or a name of digits) as `*`.
fn shape(id: &str) -> String {
    let parts: Vec<&str> =
        id.split('/').map(|p| if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) { "*" } else { p }).collect();
    parts.join("/")
}

/// Whether task instance `id` runs template `template` (`*` matches an iteration's index).
fn matches(template: &str, id: &str) -> bool {
    let (mut t, mut i) = (template.split('/'), id.split('/'));
    loop {
        match (t.next(), i.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b || (a == "*" && b.bytes().all(|c| c.is_ascii_digit())) => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ensures that a loop's instances land on the loop's template, and a group named with
    /// digits beside a loop on its own.
    #[test]
    fn instances_find_their_template() {
        assert!(matches("fan/*/train", "fan/12/train"));
        assert!(!matches("fan/*/train", "fan/x/train"));
        assert!(matches("g/7/x", "g/7/x"));
        assert!(!matches("g/7/x", "g/8/x"));
        assert_eq!(shape("fan/12/inner/3/t"), "fan/*/inner/*/t");
    }
}

//! Names in the Workflow: the workflow's, the groups' (as the plan names them), the channels
//! that carry values into and out of DAG templates, and `expr` string literals.

use std::collections::HashMap;

use crate::model::Step;

/// A Kubernetes name prefix for the workflow from the pipeline's name: lower case, `-` for
/// anything else, at most 57 characters (Argo adds 5 and allows 63).
pub(super) fn workflow_name(name: &str) -> String {
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let trimmed: String = mapped.trim_matches('-').chars().take(57).collect();
    let trimmed = trimmed.trim_end_matches('-');
    if trimmed.is_empty() { "pipeline".to_string() } else { trimmed.to_string() }
}

/// Names every group in `steps` as the plan does: its own name, else `KIND-N`, N counting the
/// unnamed groups in document order, pre-order (keyed by the step's address).
pub(super) fn name_groups(steps: &[Step], unnamed: &mut usize, names: &mut HashMap<usize, String>) {
    for step in steps {
        let (own, kind, inner): (&Option<String>, &str, &[Step]) = match step {
            Step::Task(_) => continue,
            Step::If(s) => (&s.branch.name, "condition", &s.branch.steps),
            Step::Elif(s) => (&s.elif.name, "condition", &s.elif.steps),
            Step::Else(s) => (&s.branch.name, "condition", &s.branch.steps),
            Step::ParallelFor(s) => (&s.parallel_for.name, "for-loop", &s.parallel_for.steps),
            Step::ExitHandler(s) => (&s.exit_handler.name, "exit-handler", &s.exit_handler.steps),
        };
        let name = own.clone().unwrap_or_else(|| {
            *unnamed += 1;
            format!("{kind}-{unnamed}")
        });
        names.insert(step as *const Step as usize, name);
        name_groups(inner, unnamed, names);
    }
}

/// The name of the input or output parameter that carries output `output` of task `task` into
/// or out of a group's DAG template.
pub(super) fn channel_name(task: &str, output: &str) -> String {
    format!("{task}--{output}")
}

/// The name of the input parameter of a loop's body that carries its item (a field of it).
pub(super) fn item_channel(var: &str, field: Option<&str>) -> String {
    match field {
        None => format!("item--{var}"),
        Some(f) => format!("item--{var}--{f}"),
    }
}

/// A string literal of Argo's `expr` expressions.
pub(super) fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Whether `name` can name an Argo parameter.
pub(super) fn parameter_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

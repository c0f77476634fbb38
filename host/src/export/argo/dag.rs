//! One DAG template's tasks: each step of a pipeline or group as a DAG task, what it waits
//! for (`depends`), and the outputs the template gives to the DAG above it.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::names::channel_name;
use super::{Exporter, Local, Scope};
use crate::export::{afters, branch_parts, reads, task_names};
use crate::model::Step;
use crate::model::binding::Ref;
use crate::model::condition::Expr;

/// A DAG template: its input parameters (the channels) and tasks.
pub(super) fn dag_template(name: &str, channels: &[String], tasks: Vec<Value>, fail_fast: bool) -> Value {
    let mut template = json!({"name": name, "dag": {"failFast": fail_fast, "tasks": tasks}});
    if !channels.is_empty() {
        let parameters: Vec<Value> = channels.iter().map(|c| json!({"name": c})).collect();
        template["inputs"] = json!({"parameters": parameters});
    }
    template
}

/// Declares `names` as input artifacts of template `template`.
pub(super) fn with_input_artifacts<'n>(template: &mut Value, names: impl Iterator<Item = &'n str>) {
    let artifacts: Vec<Value> = names.map(|n| json!({"name": n})).collect();
    if !artifacts.is_empty() {
        template["inputs"]["artifacts"] = json!(artifacts);
    }
}

/// A DAG template's `outputs` from `outputs` (as [`Exporter::dag_output`] gives them): its
/// parameters, and its artifacts (those with `from`); None when there are none.
pub(super) fn dag_outputs(outputs: Vec<Value>) -> Option<Value> {
    let (artifacts, parameters): (Vec<Value>, Vec<Value>) = outputs.into_iter().partition(|o| o.get("from").is_some());
    let mut all = json!({});
    if !parameters.is_empty() {
        all["parameters"] = json!(parameters);
    }
    if !artifacts.is_empty() {
        all["artifacts"] = json!(artifacts);
    }
    (!parameters_or_artifacts_empty(&all)).then_some(all)
}

/// Whether `outputs` has neither parameters nor artifacts.
fn parameters_or_artifacts_empty(outputs: &Value) -> bool {
    outputs.get("parameters").is_none() && outputs.get("artifacts").is_none()
}

/// `depends` for waiting on `steps`: each must have succeeded (a failed, skipped or omitted
/// one omits the task, as wasmpipe skips it with `upstream_failed`).
pub(super) fn depends(steps: &BTreeSet<String>) -> String {
    steps.iter().map(|s| format!("{s}.Succeeded")).collect::<Vec<_>>().join(" && ")
}

/// `depends` for a task with `ignore_upstream_failure`: it runs once each of `steps` ended,
/// however it ended (failed, errored, skipped by its `when`, or omitted after an upstream
/// failure).
pub(super) fn depends_however(steps: &BTreeSet<String>) -> String {
    steps
        .iter()
        .map(|s| format!("({s}.Succeeded || {s}.Failed || {s}.Errored || {s}.Skipped || {s}.Omitted)"))
        .collect::<Vec<_>>()
        .join(" && ")
}

impl Exporter<'_> {
    /// The steps of this DAG that `step` waits for: those that hold what it names in `after`
    /// or reads, itself or any step inside it.
    pub(super) fn waits_for(&self, step: &Step, own: &str, local: &Local<'_>) -> BTreeSet<String> {
        let one = std::slice::from_ref(step);
        let mut named: BTreeSet<String> = afters(one);
        named.extend(reads(one).into_iter().filter_map(|r| match r {
            Ref::Output { task, .. } => Some(task),
            _ => None,
        }));
        named.iter().filter_map(|t| local.owner.get(t.as_str())).filter(|o| *o != own).cloned().collect()
    }

    /// The tasks of a DAG made of `steps` (at `prefix` in the file), whose template gives the
    /// outputs `wanted` (read outside it) as its own.
    pub(super) fn dag(&mut self, steps: &[Step], scope: &Scope, prefix: &str, wanted: &BTreeSet<Ref>) -> Vec<Value> {
        if steps.is_empty() {
            self.refuse(prefix, "a group with no steps has no form in Argo (a DAG needs a task); remove it");
        }
        let local = self.local(steps);
        let step_reads: Vec<BTreeSet<Ref>> = steps.iter().map(|s| reads(std::slice::from_ref(s))).collect();
        let mut tasks = Vec::new();
        // The conditions of the earlier branches of the chain under way.
        let mut before: Vec<Expr> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let path = format!("{}[{i}]", scope.prefix);
            // What is read outside this step, of what it holds: its DAG template's outputs.
            let inner = task_names(match step {
                Step::Task(_) => &[],
                Step::If(s) => &s.branch.steps,
                Step::Elif(s) => &s.elif.steps,
                Step::Else(s) => &s.branch.steps,
                Step::ParallelFor(s) => &s.parallel_for.steps,
                Step::ExitHandler(s) => &s.exit_handler.steps,
            });
            let group_wanted: BTreeSet<Ref> = step_reads
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .flat_map(|(_, r)| r.iter())
                .chain(wanted.iter())
                .filter(|r| matches!(r, Ref::Output { task, .. } if inner.contains(task)))
                .cloned()
                .collect();
            let mut extra_waits = BTreeSet::new();
            let entry = match step {
                Step::Task(task) => {
                    let name = self.claim(&task.task, &format!("{path}.task"));
                    if task.ignore_upstream_failure && scope.fail_fast {
                        self.refuse(&format!("{path}.ignore_upstream_failure"), "`ignore_upstream_failure` in a group with `fail_fast` is not exported to Argo: a failFast DAG starts nothing after a failure, this task included; remove one of them");
                    }
                    self.task(task, &path, scope, &local, None).map(|call| {
                        let mut entry = json!({"name": name, "template": call.template});
                        if let Some(arguments) = call.arguments() {
                            entry["arguments"] = arguments;
                        }
                        (name, entry)
                    })
                }
                Step::ExitHandler(s) => self.exit_handler(step, &s.exit_handler, &path, scope, &local, &group_wanted),
                // A branch of a chain: its own `when` and the negation of those before it.
                Step::If(_) | Step::Elif(_) | Step::Else(_)
                    if matches!(step, Step::If(_))
                        || (i > 0 && matches!(steps[i - 1], Step::If(_) | Step::Elif(_))) =>
                {
                    if matches!(step, Step::If(_)) {
                        before.clear();
                    }
                    let (kind, fail_fast, inner, condition) = branch_parts(step).expect("a branch step");
                    let own = self.branch(
                        step,
                        fail_fast,
                        inner,
                        kind,
                        condition,
                        &before,
                        &path,
                        scope,
                        &local,
                        &group_wanted,
                    );
                    // An `else` ends its chain.
                    if matches!(step, Step::Else(_)) {
                        before.clear();
                    } else {
                        before.extend(own.0);
                    }
                    extra_waits = own.2;
                    own.1
                }
                // (an `if` always starts a chain, above)
                Step::If(_) | Step::Elif(_) | Step::Else(_) => {
                    self.refuse(&path, "an `elif` or `else` must follow an `if` or `elif`");
                    None
                }
                Step::ParallelFor(s) => self.parallel_for(step, &s.parallel_for, &path, scope, &local, &group_wanted),
            };
            let Some((name, mut entry)) = entry else { continue };
            let mut waits = self.waits_for(step, &name, &local);
            waits.extend(extra_waits.into_iter().filter(|w| *w != name));
            // A `one_of` waits for its chain's branches its own way.
            let (terms, covered) = match step {
                Step::Task(t) => self.one_of_depends(t, scope, &local),
                _ => (Vec::new(), BTreeSet::new()),
            };
            waits.retain(|w| !covered.contains(w));
            if !waits.is_empty() || !terms.is_empty() {
                let ignore = matches!(step, Step::Task(t) if t.ignore_upstream_failure);
                let mut all: Vec<String> = Vec::new();
                if !waits.is_empty() {
                    all.push(if ignore { depends_however(&waits) } else { depends(&waits) });
                }
                all.extend(terms);
                entry["depends"] = json!(all.join(" && "));
            }
            tasks.push(entry);
        }
        tasks
    }

    /// Output `r` (of a task in the DAG of `local`, at any depth) as an output parameter of
    /// that DAG's template (`valueFrom.parameter`), named after its channel; None (refused at
    /// `at`) when Argo cannot give it: from inside a branch, which fails the DAG when the branch
    /// is not taken, or from an exit task.
    pub(super) fn dag_output(&mut self, r: &Ref, local: &Local<'_>, at: &str) -> Option<Value> {
        let Ref::Output { task, output } = r else { return None };
        let name = channel_name(task, output);
        let artifact = self.is_artifact(r);
        let kind = if artifact { "artifacts" } else { "parameters" };
        let output_of = |task: &str, output: &str| {
            let tag = format!("{{{{tasks.{task}.outputs.{kind}.{output}}}}}");
            if artifact {
                json!({"name": name, "from": tag})
            } else {
                json!({"name": name, "valueFrom": {"parameter": tag}})
            }
        };
        if local.tasks.contains(task.as_str()) {
            return Some(output_of(&task.replace('_', "-"), output));
        }
        let owner = local.owner.get(task.as_str())?;
        if local.exits.contains(task.as_str()) {
            self.refuse(at, format!("`{r}` is an output of an exit task, read outside its group: not exported to Argo yet (an exit hook's outputs are not its group's)"));
            return None;
        }
        if local.branches.contains(owner) {
            self.refuse(at, format!("`{r}` is read outside the group that holds branch `{owner}`: Argo fails a DAG whose output comes from a branch that was not taken (wasmpipe skips only the reader); read it in the DAG that holds the branch"));
            return None;
        }
        Some(output_of(owner, &name))
    }
}

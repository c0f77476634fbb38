//! Reading references while a run goes on: conditions and loop items for the scheduler
//! ([`RunOracle`]), `{{params.X}}` / `{{tasks.T.outputs.O}}` / `{{item}}` against the run's tree
//! ([`resolve`], [`evaluate`]), a task's inputs typed by its component's signature
//! ([`bind_inputs`], artifacts included), the pipeline's outputs and their `--export`.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use super::artifacts::export;
use super::quotas::{self, Reservation};
use super::{Prepared, RunOptions};
use crate::model::artifact::{ArtifactRef, GUEST_IN, kinds_match};
use crate::model::binding::{Binding, Part, Ref};
use crate::model::component::PortType;
use crate::model::value::{ValueType, as_text, json_size};
use crate::plan::scheduler::Oracle;
use crate::plan::tree::InstChild;
use crate::plan::tree::{Found, Tree};
use crate::plan::{BranchInfo, Child, GroupInstIdx, Idx, IdxVec, Node, Plan, ScopeIdx, TaskInstIdx};
use crate::record::{Failure, FailureKind, FinalStatusRecord, RunRecord, RunState};
use crate::wasm::loader::LoadedComponent;
use crate::wasm::wit::types;
use crate::wasm::wit_value::to_wit;

/// The outputs of every task instance that succeeded and whose outputs something reads (None:
/// not run, did not succeed, or nothing reads them); boxed, as most are None.
pub(super) type Outputs = IdxVec<TaskInstIdx, Option<Box<IndexMap<String, Value>>>>;

/// Decides conditions and loop items from parameters and the outputs of finished tasks.
pub(super) struct RunOracle<'a> {
    pub(super) prepared: &'a Prepared,
    pub(super) outputs: &'a Outputs,
    /// The run's options: default limits (`loop_items`, unless the producing task sets its
    /// own), budgets, what a resume concludes.
    pub(super) options: &'a RunOptions,
    /// What the running tasks hold of the run's budgets.
    pub(super) reserved: Reservation,
    /// Artifact bytes the run's finished tasks have kept.
    pub(super) kept: u64,
}

impl Oracle for RunOracle<'_> {
    /// A condition that cannot be evaluated (a value of the wrong type, through an `any`
    /// output) is an error, which fails the group's tasks.
    fn condition(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> Result<bool, String> {
        let group = &plan.groups[tree.groups[h].template];
        match &group.branch {
            Some(BranchInfo { condition: Some(Ok(expr)), .. }) => {
                let at = Reader { from: h, scope: group.scope };
                expr.eval(&|r| resolve(self.prepared, tree, at, r, self.outputs))
            }
            _ => Ok(true),
        }
    }

    /// Items that cannot be had fail the loop's tasks with kind `input`; more items than the
    /// loop-item limit (of the task that produced them, else the run's) with `output_limit`.
    fn items(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> Result<Vec<Value>, Failure> {
        let input = |message: String| Failure::new(FailureKind::Input, message);
        let group = &plan.groups[tree.groups[h].template];
        let looping = group.looping.as_ref().ok_or_else(|| input("not a loop".into()))?;
        let binding = looping.items.as_ref().map_err(|e| input(e.clone()))?;
        // The loop's items are read from where the loop stands, not from inside it.
        let at = Reader { from: tree.groups[h].parent.unwrap_or(GroupInstIdx::ROOT), scope: group.scope };
        let producer = match binding {
            Binding::Ref(Ref::Output { task, .. }) => match plan.lookup(group.scope, task) {
                Some(Node::Task(t)) => Some((task, plan.tasks[t].limits.loop_items)),
                _ => None,
            },
            _ => None,
        };
        let limit = producer.and_then(|(_, own)| own).unwrap_or(self.options.limits.loop_items);
        let too_many = |count: usize| {
            let from = producer.map(|(task, _)| format!(" (from task `{task}`)")).unwrap_or_default();
            Failure::new(
                FailureKind::OutputLimit,
                format!(
                    "{count} items{from} are more than the loop-item limit of {limit}; raise `loop_item_limit` on the task that produces them or `--loop-item-limit` if the loop needs them"
                ),
            )
        };
        // Counted in place first: a list over the limit is never copied.
        if let Binding::Ref(r) = binding
            && let Some(Value::Array(items)) = output_in_place(self.prepared, tree, at, r, self.outputs)
            && items.len() as u64 > limit
        {
            return Err(too_many(items.len()));
        }
        let items = match evaluate(self.prepared, tree, at, binding, self.outputs).map_err(input)? {
            Value::Array(items) => items,
            other => return Err(input(format!("they must be a list, but the value is {}", ValueType::of(&other)))),
        };
        if items.len() as u64 > limit {
            return Err(too_many(items.len()));
        }
        Ok(items)
    }

    /// A task that a resumed run concludes from its journal never runs: it needs no room.
    fn admits(&mut self, plan: &Plan, tree: &Tree, t: TaskInstIdx) -> bool {
        let instance = &tree.tasks[t];
        if self.options.resume.as_ref().is_some_and(|r| r.ended.contains_key(&instance.id)) {
            return true;
        }
        let task = &plan.tasks[instance.template];
        let need = quotas::reservation(
            task,
            self.prepared.tasks[instance.template.index()].component.as_deref().ok(),
            self.options,
        );
        quotas::admits(&self.options.quotas, self.reserved, need, self.kept)
    }
}

/// Where a binding is read: from a group instance, with names in a scope.
#[derive(Clone, Copy)]
pub(super) struct Reader {
    from: GroupInstIdx,
    scope: ScopeIdx,
}

/// The value a reference stands for, if it has one now. A reader outside a loop gets the list
/// of a task's outputs over the loop's iterations; inside a sub-pipeline, a parameter is what
/// the task that runs it binds.
pub(super) fn resolve(
    prepared: &Prepared,
    tree: &Tree,
    at: Reader,
    r: &Ref,
    outputs: &Outputs,
) -> Result<Value, String> {
    let plan = &prepared.plan;
    match r {
        Ref::Param(name) if at.scope == ScopeIdx::ROOT => {
            prepared.params.get(name).cloned().ok_or_else(|| format!("parameter `{name}` has no value"))
        }
        Ref::Param(name) => {
            let group = plan.scopes[at.scope].group;
            let mut h = at.from;
            while tree.groups[h].template != group {
                h = tree.groups[h].parent.ok_or_else(|| format!("`{r}` is read outside its sub-pipeline"))?;
            }
            let declared = plan.scopes[at.scope]
                .pipeline
                .params
                .get(name)
                .ok_or_else(|| format!("the sub-pipeline has no parameter `{name}`"))?;
            let bound = plan.groups[group].sub.as_ref().and_then(|s| s.inputs.iter().find(|i| &i.name == name));
            let outer =
                Reader { from: tree.groups[h].parent.unwrap_or(GroupInstIdx::ROOT), scope: plan.groups[group].scope };
            let value = match bound.map(|i| &i.binding) {
                Some(Ok(binding)) => evaluate(prepared, tree, outer, binding, outputs)?,
                Some(Err(e)) => return Err(e.clone()),
                None => declared.default.clone().ok_or_else(|| format!("parameter `{name}` has no value"))?,
            };
            declared.ty.coerce(value).map_err(|e| format!("parameter `{name}` of the sub-pipeline: {e}"))
        }
        Ref::Item { var, field } => {
            let item = tree
                .item(plan, at.from, var)
                .ok_or_else(|| format!("`{r}` is read outside a loop whose item is `{var}`"))?;
            match field {
                None => Ok(item.clone()),
                Some(field) => {
                    item.get(field).cloned().ok_or_else(|| format!("the item {item} has no field `{field}`"))
                }
            }
        }
        Ref::Output { task, output } => {
            let node = plan.lookup(at.scope, task).ok_or_else(|| format!("there is no task `{task}`"))?;
            let found = tree.producer(plan, at.from, node).ok_or_else(|| format!("task `{task}` has not run"))?;
            collect(&found, &mut |one| match (node, one) {
                // An instance the outputs do not cover yet was made by a loop that expanded in
                // this very pass and started nothing: it has not run.
                (Node::Task(_), Child::Task(one)) => match outputs.get(one).and_then(Option::as_ref) {
                    Some(values) => values
                        .get(output)
                        .cloned()
                        .ok_or_else(|| format!("task `{task}` produced no output `{output}`")),
                    None => Err(format!(
                        "task `{}` did not succeed, so its output `{output}` does not exist",
                        tree.tasks[one].id
                    )),
                },
                (Node::Sub(g), Child::Group(one)) => {
                    let inner = plan.groups[g].sub.as_ref().map(|s| s.scope).unwrap_or(ScopeIdx::ROOT);
                    match plan.scopes[inner].outputs.get(output) {
                        Some(Ok(binding)) => {
                            evaluate(prepared, tree, Reader { from: one, scope: inner }, binding, outputs)
                        }
                        _ => Err(format!("sub-pipeline `{task}` has no output `{output}`")),
                    }
                }
                _ => unreachable!("the tree finds task instances for tasks and group instances for sub-pipelines"),
            })
        }
    }
}

/// For a reference to an output of a task (not of a sub-pipeline): the instances the reader at
/// `at` reads it from, and the output's name.
fn task_output_instances<'r>(prepared: &Prepared, tree: &Tree, at: Reader, r: &'r Ref) -> Option<(Found, &'r str)> {
    let Ref::Output { task, output } = r else { return None };
    let node @ Node::Task(_) = prepared.plan.lookup(at.scope, task)? else { return None };
    Some((tree.producer(&prepared.plan, at.from, node)?, output))
}

/// For a reference to an output of one task instance: the value, where the run keeps it
/// (None for anything else: a parameter, an item, a fan-in, a sub-pipeline's output).
fn output_in_place<'o>(
    prepared: &Prepared,
    tree: &Tree,
    at: Reader,
    r: &Ref,
    outputs: &'o Outputs,
) -> Option<&'o Value> {
    match task_output_instances(prepared, tree, at, r)? {
        (Found::One(Child::Task(t)), output) => outputs.get(t)?.as_ref()?.get(output),
        _ => None,
    }
}

/// For a reference to a task's output over a loop's iterations (a fan-in): the size of the
/// list it stands for, as JSON, measured before it is built. None for anything else.
fn fan_in_size(prepared: &Prepared, tree: &Tree, at: Reader, r: &Ref, outputs: &Outputs) -> Option<u64> {
    let (found, output) = task_output_instances(prepared, tree, at, r)?;
    if matches!(found, Found::One(_)) {
        return None;
    }
    /// The list's size: brackets, commas, and each value (`null` for one that is missing).
    fn size(found: &Found, output: &str, outputs: &Outputs) -> u64 {
        match found {
            Found::One(Child::Task(t)) => {
                outputs.get(*t).and_then(Option::as_ref).and_then(|o| o.get(output)).map_or(4, json_size)
            }
            Found::One(Child::Group(_)) => 4,
            Found::Many(each) => 1 + each.iter().map(|f| size(f, output, outputs) + 1).sum::<u64>(),
        }
    }
    Some(size(&found, output, outputs))
}

/// The value of the instances `found`: `one` of each, in a list per loop (fan-in).
pub(super) fn collect(found: &Found, one: &mut dyn FnMut(InstChild) -> Result<Value, String>) -> Result<Value, String> {
    match found {
        Found::One(i) => one(*i),
        Found::Many(each) => {
            // Sized up front: a fan-in over a big loop would otherwise grow it many times.
            let mut values = Vec::with_capacity(each.len());
            for f in each {
                values.push(collect(f, one)?);
            }
            Ok(Value::Array(values))
        }
    }
}

/// The value of a binding now.
pub(super) fn evaluate(
    prepared: &Prepared,
    tree: &Tree,
    at: Reader,
    binding: &Binding,
    outputs: &Outputs,
) -> Result<Value, String> {
    match binding {
        Binding::Literal(v) => Ok(v.clone()),
        Binding::Ref(r) => resolve(prepared, tree, at, r, outputs),
        // The branch that ran is the one whose output exists.
        Binding::OneOf(refs) => {
            refs.iter().find_map(|r| resolve(prepared, tree, at, r, outputs).ok()).ok_or_else(|| {
                let names: Vec<String> = refs.iter().map(|r| format!("`{r}`")).collect();
                format!("none of {} has a value (no branch that produces one succeeded)", names.join(", "))
            })
        }
        Binding::Format(parts) => {
            let mut text = String::new();
            for part in parts {
                match part {
                    Part::Text(s) => text.push_str(s),
                    Part::Ref(r) => text.push_str(&as_text(&resolve(prepared, tree, at, r, outputs)?)),
                }
            }
            Ok(Value::String(text))
        }
    }
}

/// A task's inputs: as the guest receives them, as JSON values (for the output cache's key),
/// and its input artifacts by input name (to lay out in its sandbox).
pub(super) struct Bound {
    pub(super) inputs: Vec<(String, types::InputValue)>,
    pub(super) values: Vec<(String, Value)>,
    pub(super) artifacts: Vec<(String, ArtifactRef)>,
}

/// The inputs of task `t`, typed by its component's signature. A value that is missing or
/// ill-typed fails the task with kind `input`; an optional input whose producer failed is
/// left out (`docs/semantics.md`, rule 6).
pub(super) fn bind_inputs(
    prepared: &Prepared,
    tree: &Tree,
    t: TaskInstIdx,
    component: &LoadedComponent,
    outputs: &Outputs,
    final_status: Option<&FinalStatusRecord>,
    value_limit: u64,
) -> Result<Bound, Failure> {
    let task = &prepared.plan.tasks[tree.tasks[t].template];
    let at = Reader { from: tree.tasks[t].group, scope: task.scope };
    let bad = |message: String| Failure::new(FailureKind::Input, message);
    let mut inputs = Vec::new();
    let mut values = Vec::new();
    let mut artifacts = Vec::new();
    for spec in &component.signature.inputs {
        let ty = match &spec.ty {
            PortType::FinalStatus => {
                if let Some(status) = final_status {
                    inputs.push((spec.name.clone(), types::InputValue::FinalStatus(final_status_to_wit(status))));
                }
                continue;
            }
            PortType::Value(ty) => *ty,
            PortType::Artifact { .. } => ValueType::Artifact,
        };
        let bound = task.inputs.iter().find(|i| i.name == spec.name);
        if let Some(Ok(Binding::Ref(r))) = bound.map(|i| &i.binding)
            && let Some(size) = fan_in_size(prepared, tree, at, r, outputs)
            && size > value_limit
        {
            return Err(Failure::new(
                FailureKind::OutputLimit,
                format!(
                    "input `{}` reads `{r}` over a loop's iterations: {size} bytes (as JSON), over the task's value limit of {value_limit} bytes; raise `value_limit` on this task or `--value-limit` if it needs them all",
                    spec.name
                ),
            ));
        }
        if let Some(Ok(Binding::Ref(r))) = bound.map(|i| &i.binding)
            && let Some((found, output)) = collected_artifacts(prepared, tree, at, r)
        {
            let (value, key) = lay_out_collected(&spec.name, &found, output, outputs, tree, &mut artifacts)
                .map_err(|e| bad(format!("input `{}`: {e}", spec.name)))?;
            inputs.push((spec.name.clone(), types::InputValue::Value(to_wit(&value))));
            values.push((spec.name.clone(), key));
            continue;
        }
        let value = match bound.map(|i| &i.binding) {
            Some(Ok(binding)) => match evaluate(prepared, tree, at, binding, outputs) {
                // A parameter with `default: null` that has no value: the input is left out.
                Ok(Value::Null) if nullable_param(prepared, task.scope, binding) => None,
                Ok(v) => Some(v),
                Err(_) if !spec.required => None,
                Err(e) => return Err(bad(format!("input `{}`: {e}", spec.name))),
            },
            Some(Err(e)) => return Err(bad(format!("input `{}`: {e}", spec.name))),
            None => None,
        };
        let value = match value.or_else(|| spec.default.clone()) {
            Some(v) => v,
            None if spec.required => {
                return Err(bad(format!("required input `{}` has no value", spec.name)));
            }
            None => continue,
        };
        // An artifact is read once here (the `artifact` type's coercion is this same parse).
        if let PortType::Artifact { kind, directory } = &spec.ty {
            let artifact = ArtifactRef::from_value(&value).map_err(|e| bad(format!("input `{}`: {e}", spec.name)))?;
            if !kinds_match((&artifact.kind, artifact.directory), (kind, *directory)) {
                return Err(bad(format!(
                    "input `{}` takes {}, but it was given `{}` ({}, {})",
                    spec.name,
                    spec.ty,
                    artifact.name,
                    artifact.kind,
                    if artifact.directory { "a directory" } else { "a file" }
                )));
            }
            inputs.push((spec.name.clone(), types::InputValue::Artifact(artifact_to_wit(&spec.name, &artifact))));
            values.push((spec.name.clone(), artifact.content_key()));
            artifacts.push((spec.name.clone(), artifact));
            continue;
        }
        let value = ty.coerce(value).map_err(|e| bad(format!("input `{}`: {e}", spec.name)))?;
        inputs.push((spec.name.clone(), types::InputValue::Value(to_wit(&value))));
        values.push((spec.name.clone(), value));
    }
    Ok(Bound { inputs, values, artifacts })
}

/// For a reference to an artifact output of a task inside loops the reader is outside of
/// (KFP's `dsl.Collected` of artifacts): the instances it collects, and the output's name.
fn collected_artifacts<'r>(prepared: &Prepared, tree: &Tree, at: Reader, r: &'r Ref) -> Option<(Found, &'r str)> {
    let (found, output) = task_output_instances(prepared, tree, at, r)?;
    let Ref::Output { task, .. } = r else { return None };
    let Some(Node::Task(p)) = prepared.plan.lookup(at.scope, task) else { return None };
    let component = prepared.tasks[p.index()].component.as_ref().ok()?;
    let artifact = matches!(component.signature.output(output)?.ty, PortType::Artifact { .. });
    (artifact && matches!(found, Found::Many(_))).then_some((found, output))
}

/// Lays out the artifacts `found` collects (output `output` of each instance) for input
/// `input`: each at `/in/<input>/<i>` (`/in/<input>/<i>/<j>` over nested loops). Gives the
/// list the guest gets (one artifact description per instance, `{path, name, kind, directory,
/// size, digest, metadata}`), and the list the output cache keys on (their contents).
fn lay_out_collected(
    input: &str,
    found: &Found,
    output: &str,
    outputs: &Outputs,
    tree: &Tree,
    artifacts: &mut Vec<(String, ArtifactRef)>,
) -> Result<(Value, Value), String> {
    match found {
        Found::One(Child::Task(t)) => {
            let value = outputs.get(*t).and_then(Option::as_ref).and_then(|o| o.get(output)).ok_or_else(|| {
                format!("task `{}` did not succeed, so its output `{output}` does not exist", tree.tasks[*t].id)
            })?;
            let artifact = ArtifactRef::from_value(value)?;
            let seen = serde_json::json!({
                "path": format!("{GUEST_IN}/{input}"),
                "name": artifact.name,
                "kind": artifact.kind,
                "directory": artifact.directory,
                "size": artifact.size,
                "digest": artifact.digest,
                "metadata": artifact.metadata,
            });
            let key = artifact.content_key();
            artifacts.push((input.to_string(), artifact));
            Ok((seen, key))
        }
        Found::One(Child::Group(_)) => Err("a sub-pipeline's artifacts cannot be collected over a loop".into()),
        Found::Many(each) => {
            let (mut seen, mut keys) = (Vec::with_capacity(each.len()), Vec::with_capacity(each.len()));
            for (i, f) in each.iter().enumerate() {
                let (one, key) = lay_out_collected(&format!("{input}/{i}"), f, output, outputs, tree, artifacts)?;
                seen.push(one);
                keys.push(key);
            }
            Ok((Value::Array(seen), Value::Array(keys)))
        }
    }
}

/// How a guest sees input artifact `input`: at `/in/<input>`, with its size, digest and metadata.
pub(super) fn artifact_to_wit(input: &str, artifact: &ArtifactRef) -> types::Artifact {
    types::Artifact {
        path: format!("{}/{input}", GUEST_IN),
        name: artifact.name.clone(),
        size: artifact.size,
        digest: artifact.digest.clone(),
        metadata: to_wit(&artifact.metadata),
    }
}

pub(super) fn final_status_to_wit(status: &FinalStatusRecord) -> types::FinalStatus {
    types::FinalStatus {
        state: match status.state {
            RunState::Succeeded => types::State::Succeeded,
            RunState::Failed => types::State::Failed,
            RunState::Cancelled => types::State::Cancelled,
        },
        run_id: status.run_id.clone(),
        group: status.group.clone(),
        failures: status
            .failures
            .iter()
            .map(|f| types::TaskFailure {
                task: f.task.clone(),
                kind: failure_kind_to_wit(f.kind),
                message: f.message.clone(),
                trap_code: f.trap_code.clone(),
                cached: f.cached,
                exit_handler: f.exit_handler,
            })
            .collect(),
    }
}

pub(super) fn failure_kind_to_wit(kind: FailureKind) -> types::FailureKind {
    use types::FailureKind as W;
    match kind {
        FailureKind::Error => W::Error,
        FailureKind::Trap => W::Trap,
        FailureKind::Timeout => W::Timeout,
        FailureKind::MemoryLimit => W::MemoryLimit,
        FailureKind::FuelExhausted => W::FuelExhausted,
        FailureKind::OutputLimit => W::OutputLimit,
        FailureKind::Load => W::Load,
        FailureKind::Input => W::Input,
        FailureKind::Cancelled => W::Cancelled,
        // Never a task's failure (only an attempt's), so never in a final status; the nearest.
        FailureKind::Interrupted => W::Cancelled,
        FailureKind::Internal => W::Internal,
    }
}

/// The pipeline's outputs whose producers succeeded.
///
/// `went_wrong` says whether a task or sub-pipeline instance ran (or was meant to) and did not
/// succeed: a `one_of` with a fallback uses it only when no branch did (a reader task would
/// have been skipped).
pub(super) fn pipeline_outputs(
    prepared: &Prepared,
    tree: &Tree,
    outputs: &Outputs,
    went_wrong: &dyn Fn(InstChild) -> bool,
) -> PipelineOutputs {
    let mut found = PipelineOutputs::default();
    for (name, binding) in &prepared.plan.scopes[ScopeIdx::ROOT].outputs {
        let Ok(binding) = binding else { continue };
        let at = Reader { from: GroupInstIdx::ROOT, scope: ScopeIdx::ROOT };
        if let Some(why) = failed_branch(prepared, tree, at, binding, went_wrong) {
            found.missing.insert(name.clone(), why);
            continue;
        }
        match evaluate(prepared, tree, at, binding, outputs) {
            Ok(Value::Null) if nullable_param(prepared, ScopeIdx::ROOT, binding) => {
                let param = binding.refs().first().map(|r| r.to_string()).unwrap_or_default();
                found.missing.insert(name.clone(), format!("`{param}` has no value (its default is null)"));
            }
            Ok(value) => {
                found.values.insert(name.clone(), value);
            }
            Err(why) => {
                found.missing.insert(name.clone(), why);
            }
        }
    }
    found
}

/// For a `one_of` with a fallback: why it has no value when the branch that ran did not
/// succeed (its fallback is for when no branch ran). None for anything else.
fn failed_branch(
    prepared: &Prepared,
    tree: &Tree,
    at: Reader,
    binding: &Binding,
    went_wrong: &dyn Fn(InstChild) -> bool,
) -> Option<String> {
    let Binding::OneOf(refs) = binding else { return None };
    if !prepared.plan.one_of_fallback(at.scope, refs) {
        return None;
    }
    refs[..refs.len() - 1].iter().find_map(|r| {
        let Ref::Output { task, .. } = r else { return None };
        let node = prepared.plan.lookup(at.scope, task)?;
        match tree.producer(&prepared.plan, at.from, node)? {
            Found::One(one) if went_wrong(one) => {
                Some(format!("`{r}` did not succeed, so neither it nor the fallback gives a value"))
            }
            _ => None,
        }
    })
}

/// Whether `binding` is a parameter of `scope` declared with `default: null` (whose null is
/// "no value", where a null given to another parameter is a value).
fn nullable_param(prepared: &Prepared, scope: ScopeIdx, binding: &Binding) -> bool {
    let Binding::Ref(Ref::Param(name)) = binding else { return false };
    prepared.plan.scopes[scope].pipeline.params.get(name).is_some_and(|p| p.default == Some(Value::Null))
}

/// The pipeline's outputs at the end of a run: those with a value, and why the others have none.
#[derive(Default)]
pub(super) struct PipelineOutputs {
    pub(super) values: IndexMap<String, Value>,
    pub(super) missing: IndexMap<String, String>,
}

/// Copies the pipeline's output artifacts of a run (in `run_root`) to `to/<output>`. A failure
/// is reported and does not change the run's state: the artifacts stay in the run directory.
/// Which outputs are artifacts is decided by their declared types, never by the shape of a
/// value (a component may return a dict that looks like an artifact).
pub(super) fn export_outputs(prepared: &Prepared, record: &RunRecord, run_root: &Path, to: &Path) {
    for (name, value) in &record.outputs {
        if !prepared.artifact_outputs.contains(name) {
            continue;
        }
        let Ok(artifact) = ArtifactRef::from_value(value) else { continue };
        if let Err(e) = export(run_root, &artifact, &to.join(name)) {
            eprintln!(
                "wasmpipe: could not export output artifact `{name}` to {}: {e}; it stays at {}",
                to.join(name).display(),
                run_root.join(&artifact.path).display()
            );
        }
    }
}

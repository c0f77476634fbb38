//! A pipeline as Kubeflow Pipelines' IR (`PipelineSpec`, the YAML `kfp.compiler` writes), so
//! that KFP (or Vertex AI) runs it on a cluster. Each task is a container task running
//! `wasmpipe task-run` over its component; groups map to KFP's native forms, as KFP's compiler
//! writes them:
//!
//! - every group is a DAG component `comp-NAME` run by a task of its parent's DAG; what a
//!   group reads from outside arrives as a channel input `pipelinechannel--...`;
//! - an exit handler: a DAG for the body, the exit task beside it triggered by
//!   `ALL_UPSTREAM_TASKS_COMPLETED` with the body's `TASK_FINAL_STATUS`;
//! - `if`: a DAG whose task has a `triggerPolicy.condition` in CEL (`cel.rs`); an
//!   `if`/`elif`/`else` chain: a `condition-branches-N` DAG holding one such DAG per branch,
//!   each condition negating the ones before it;
//! - `parallel_for`: a DAG whose task has a `parameterIterator` (and `iteratorPolicy` for
//!   `parallelism`); the item is an input of the DAG, a field of it a
//!   `parameterExpressionSelector`;
//! - an output read outside the groups that hold its task: each DAG on the way gives it as a
//!   DAG output (`dag_outputs.rs`), a list over a loop (KFP's `dsl.Collected`); pipeline
//!   outputs too;
//! - retries (`retryPolicy`), caching (`cachingOptions`, never on exit tasks, the component's
//!   digest in the executor's arguments so that KFP's cache key changes with it).
//!
//! Everything else is refused with the construct and its place, never dropped: see
//! [`Refusal`]. A task's own spec and executor are in `task.rs`.

mod cel;
mod dag_outputs;
mod one_of;
mod sub_pipeline;
mod task;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::{Document, ExportOptions, Refusal, afters, branch_parts, find_task, loops_around, reads, task_names};
use crate::model::Step;
use crate::model::binding::{Binding, Ref};
use crate::model::component::PortType;
use crate::model::condition::Expr;
use crate::model::value::ValueType;

/// The pipeline of `doc` (its sub-pipelines included) as KFP IR (JSON; YAML is the same
/// document), or every construct refused.
pub fn to_kfp(doc: &Document, options: &ExportOptions) -> Result<Value, Vec<Refusal>> {
    let pipeline = &doc.pipeline;
    let mut ex = Exporter {
        doc,
        options,
        refusals: Vec::new(),
        out_components: Map::new(),
        executors: Map::new(),
        names: HashMap::new(),
        loop_bodies: BTreeSet::new(),
        sub_dags: BTreeSet::new(),
        exposures: Vec::new(),
        one_ofs: Vec::new(),
        literal_loops: 0,
        exit_body: None,
    };
    if pipeline.deadline.is_some() {
        ex.refuse(
            "deadline",
            "a run deadline has no form in KFP's IR; remove `deadline` (set a timeout on the KFP run instead)",
        );
    }
    if pipeline.parallelism.is_some() {
        ex.refuse("parallelism", "KFP has no pipeline-wide limit of tasks at once; remove `parallelism`");
    }
    let root_spec = ex.pipeline_dag(None, Vec::new(), String::new());
    ex.expose_requested(&root_spec);
    ex.one_of_outputs(&root_spec);
    if !ex.refusals.is_empty() {
        return Err(ex.refusals);
    }
    let mut info = json!({"name": kfp_name(&pipeline.name)});
    if !pipeline.description.is_empty() {
        info["description"] = json!(pipeline.description);
    }
    Ok(json!({
        "pipelineInfo": info,
        "root": root_spec,
        "components": ex.out_components,
        "deploymentSpec": {"executors": ex.executors},
        "schemaVersion": "2.1.0",
        "sdkVersion": format!("wasmpipe-{}", env!("CARGO_PKG_VERSION")),
    }))
}

/// KFP's names: lower case letters, digits and `-` (`My Pipeline_2` is `my-pipeline-2`).
fn kfp_name(name: &str) -> String {
    // KFP's backend takes `[a-z0-9-]`, starting with a letter or digit, at most 128 long.
    let mut out = String::new();
    for c in name.chars() {
        match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => out.push(c),
            _ if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    let out = out.trim_end_matches('-');
    let out: String = out.chars().take(128).collect();
    if out.is_empty() { "pipeline".into() } else { out.trim_end_matches('-').to_string() }
}

/// Every name `steps` give a task or a group themselves, nested ones included.
fn given_names(steps: &[Step]) -> BTreeSet<String> {
    let mut names = task_names(steps);
    for step in steps {
        let (own, inner): (&Option<String>, &[Step]) = match step {
            Step::Task(_) => continue,
            Step::If(s) => (&s.branch.name, &s.branch.steps),
            Step::Elif(s) => (&s.elif.name, &s.elif.steps),
            Step::Else(s) => (&s.branch.name, &s.branch.steps),
            Step::ParallelFor(s) => (&s.parallel_for.name, &s.parallel_for.steps),
            Step::ExitHandler(s) => (&s.exit_handler.name, &s.exit_handler.steps),
        };
        names.extend(own.iter().cloned());
        names.extend(given_names(inner));
    }
    names
}

/// The importer task of artifact parameter `p` (KFP's `dsl.importer`).
fn importer_name(p: &str) -> String {
    format!("importer-{}", kfp_name(p))
}

/// The channel that carries output `output` of task `task` into a DAG (KFP's name for it).
fn output_channel(task: &str, output: &str) -> String {
    format!("pipelinechannel--{task}-{output}")
}

/// A group step's identity while the export runs (the pipeline is borrowed throughout).
type StepKey = *const Step;

/// Names every group in `steps` as the plan does (its own name, else `KIND-N`, N counting
/// unnamed groups in document order, pre-order), and each `if` that starts an
/// `if`/`elif`/`else` chain also `condition-branches-M` for the DAG that holds the chain
/// (keyed by the `if` step's address, with the chain's marker bit set; see [`chain_key`]).
/// A chain's name is never one the pipeline gives a task or group (`taken`).
fn name_groups(
    steps: &[Step],
    unnamed: &mut usize,
    chains: &mut usize,
    taken: &BTreeSet<String>,
    names: &mut HashMap<usize, String>,
) {
    let name = |own: &Option<String>, kind: &str, unnamed: &mut usize| {
        own.clone().unwrap_or_else(|| {
            *unnamed += 1;
            format!("{kind}-{unnamed}")
        })
    };
    for (i, step) in steps.iter().enumerate() {
        let key = step as StepKey as usize;
        let (own, kind, inner): (&Option<String>, &str, &[Step]) = match step {
            Step::Task(_) => continue,
            Step::If(s) => {
                if matches!(steps.get(i + 1), Some(Step::Elif(_) | Step::Else(_))) {
                    let chain = loop {
                        *chains += 1;
                        let chain = format!("condition-branches-{chains}");
                        if !taken.contains(&chain) {
                            break chain;
                        }
                    };
                    names.insert(chain_key(step), chain);
                }
                (&s.branch.name, "condition", &s.branch.steps)
            }
            Step::Elif(s) => (&s.elif.name, "condition", &s.elif.steps),
            Step::Else(s) => (&s.branch.name, "condition", &s.branch.steps),
            Step::ParallelFor(s) => (&s.parallel_for.name, "for-loop", &s.parallel_for.steps),
            Step::ExitHandler(s) => (&s.exit_handler.name, "exit-handler", &s.exit_handler.steps),
        };
        let named = name(own, kind, unnamed);
        names.insert(key, named);
        name_groups(inner, unnamed, chains, taken, names);
    }
}

/// The key of the DAG that holds the chain an `if` step starts (step addresses are aligned,
/// so the lowest bit is free).
fn chain_key(step: &Step) -> usize {
    (step as StepKey as usize) | 1
}

/// What the tasks of one DAG see: the pipeline's parameters, and values from outside the DAG
/// that reach it as inputs of the DAG's component (`pipelinechannel--NAME`).
#[derive(Clone)]
struct Scope<'a> {
    params: &'a BTreeMap<String, ValueType>,
    /// Channels the DAG receives: name -> type. Empty at the root (parameters are read directly).
    channels: BTreeMap<String, ValueType>,
    /// The items of the loops around the DAG: variable -> the channel that carries the item.
    items: BTreeMap<String, String>,
    /// The items of the loops around the DAG over literal lists: variable -> the items.
    literal_items: BTreeMap<String, Vec<Value>>,
    /// The place of the DAG's steps in the file, for refusals, and the index of its first
    /// step there (a chain's DAG holds some of its parent's steps).
    prefix: String,
    first: usize,
    /// What the conditions of the branches around the DAG read: KFP passes those channels on
    /// to every group nested inside a branch.
    inherited: BTreeSet<Ref>,
    /// Whether the DAG holds one `if`/`elif`/`else` chain (its branches, one DAG each).
    chain: bool,
    /// The DAG component whose DAG this is; None for the root.
    dag: Option<String>,
    /// The DAG components that hold this DAG's tasks, outermost first (this one last), which
    /// `task-run` leaves with a task's failure for the exit tasks of those groups.
    groups: Vec<String>,
    /// The start of the wasmpipe id of this DAG's tasks (`fan/*/`: KFP gives no iteration
    /// number), which `task-run` gives a failure.
    id_prefix: String,
    /// Whether the DAG is in an exit handler's body inside a loop: its tasks are given the
    /// loops' items, so that the failures they leave name their iteration for the exit task
    /// of that iteration.
    loop_exit: bool,
}

/// The steps of one DAG as its tasks see them: its own tasks, and its groups by name, each
/// with the steps it holds (a loop: the loop's own step, so that it counts among the loops
/// that hold its tasks).
struct Local<'s> {
    tasks: BTreeSet<&'s str>,
    groups: Vec<(String, &'s [Step])>,
}

impl Local<'_> {
    /// The group of this DAG that holds task `task` (at any depth), and how many loops inside
    /// the group hold it (a reader outside them receives a list).
    fn group_of(&self, task: &str) -> Option<(&str, usize)> {
        self.groups.iter().find(|(_, steps)| steps.iter().any(|s| s.tasks().iter().any(|t| t.task == task))).map(
            |(name, steps)| {
                let loops = loops_around(steps, task);
                (name.as_str(), loops)
            },
        )
    }

    /// What a task of this DAG waits for when it names `name` in `after`: the task, or the
    /// group of this DAG that holds it; None when it is outside this DAG (the group that holds
    /// the waiting task waits for it instead).
    fn dependency(&self, name: &str) -> Option<String> {
        if self.tasks.contains(name) {
            return Some(name.to_string());
        }
        self.group_of(name).map(|(g, _)| g.to_string())
    }
}

struct Exporter<'a> {
    /// The pipeline file being exported (a sub-pipeline's while its DAG is written).
    doc: &'a Document,
    options: &'a ExportOptions,
    refusals: Vec<Refusal>,
    out_components: Map<String, Value>,
    executors: Map<String, Value>,
    /// Every group's name, by its step's address (see [`name_groups`]).
    names: HashMap<usize, String>,
    /// The DAG components that are a loop's body (their outputs are lists).
    loop_bodies: BTreeSet<String>,
    /// The DAG components that run a sub-pipeline (its tasks are its own: never searched
    /// for an outer task of the same name).
    sub_dags: BTreeSet<String>,
    /// DAG outputs to add once every component is written: (the reader's DAG component, None
    /// for the root; the group task of that DAG that holds the task; the task; its output).
    exposures: Vec<(Option<String>, String, String, String)>,
    /// `one_of` outputs to add to their chains' DAGs once every component is written.
    one_ofs: Vec<one_of::OneOfOutput>,
    /// Loops over literal lists so far, for the names of their item channels.
    literal_loops: usize,
    /// The DAG component of the exit handler whose exit task is being written.
    exit_body: Option<String>,
}

/// Where a value a task reads comes from, inside its DAG.
enum Source {
    /// A pipeline parameter, at the root.
    Param(String),
    /// A channel of the DAG's component.
    Channel(String),
    /// An output of a task of the same DAG.
    Sibling { task: String, output: String },
    /// A DAG output of a group of the same DAG (`key` is the output's channel name).
    Group { group: String, key: String },
    /// The item of a loop around the DAG (a field of it, for a dict item).
    Item { channel: String, field: Option<String> },
}

impl Source {
    /// The task in this DAG the reader then waits for.
    fn producer(&self) -> Option<&str> {
        match self {
            Source::Sibling { task, .. } => Some(task),
            Source::Group { group, .. } => Some(group),
            _ => None,
        }
    }

    /// A task spec's input artifact of this source.
    fn artifact_spec(&self) -> Value {
        match self {
            Source::Param(c) | Source::Channel(c) => json!({"componentInputArtifact": c}),
            Source::Sibling { task, output } => {
                json!({"taskOutputArtifact": {"producerTask": task, "outputArtifactKey": output}})
            }
            Source::Group { group, key } => {
                json!({"taskOutputArtifact": {"producerTask": group, "outputArtifactKey": key}})
            }
            Source::Item { channel, .. } => json!({"componentInputArtifact": channel}),
        }
    }

    /// A task spec's input of this source.
    fn spec(&self) -> Value {
        match self {
            Source::Param(p) => json!({"componentInputParameter": p}),
            Source::Channel(c) => json!({"componentInputParameter": c}),
            Source::Sibling { task, output } => {
                json!({"taskOutputParameter": {"producerTask": task, "outputParameterKey": output}})
            }
            Source::Group { group, key } => {
                json!({"taskOutputParameter": {"producerTask": group, "outputParameterKey": key}})
            }
            Source::Item { channel, field: None } => json!({"componentInputParameter": channel}),
            Source::Item { channel, field: Some(f) } => json!({
                "componentInputParameter": channel,
                "parameterExpressionSelector": format!("parseJson(string_value)[{}]", Value::String(f.clone())),
            }),
        }
    }
}

/// The item of a loop, as its body's DAG receives it.
struct LoopItem {
    /// The name tasks read it by (`{{item}}`).
    var: String,
    /// The DAG's input that carries it (KFP's `itemInput`).
    channel: String,
    /// Its type (KFP's type of that input).
    ty: ValueType,
    /// The items, when the loop is over a literal list.
    literal: Option<Vec<Value>>,
    /// Whether the items are artifacts (KFP's `artifactIterator`), and then the item's kind.
    over_artifacts: bool,
    kind: Option<String>,
}

/// A group's body, for [`Exporter::group`].
struct Body<'s> {
    /// The group's name (its DAG component is `comp-NAME`).
    name: String,
    steps: &'s [Step],
    /// What the group itself reads (a condition, a loop's items): channels of its DAG too.
    also: BTreeSet<Ref>,
    /// The place of `steps` in the file, and the index of the first there.
    path: String,
    first: usize,
    /// Whether `steps` are one `if`/`elif`/`else` chain.
    chain: bool,
    /// For a loop: its item.
    item: Option<LoopItem>,
    /// What the group adds to its tasks' wasmpipe ids (`fan/*`); None for a chain's DAG.
    id: Option<String>,
    /// Whether it is an exit handler's body.
    exit: bool,
}

impl Exporter<'_> {
    fn refuse(&mut self, path: &str, message: impl Into<String>) {
        self.refusals.push(Refusal { path: path.to_string(), message: message.into() });
    }

    /// Refuses a group's `fail_fast` (at `path`) when it is set: KFP has none.
    fn refuse_fail_fast(&mut self, set: bool, path: &str) {
        if set {
            self.refuse(path, "KFP has no fail_fast for a group; remove it to export the pipeline");
        }
    }

    /// KFP's `parameterType` of a wasmpipe value type.
    fn parameter_type(&mut self, ty: ValueType, path: &str) -> Option<&'static str> {
        Some(match ty {
            ValueType::String => "STRING",
            ValueType::Int => "NUMBER_INTEGER",
            ValueType::Float => "NUMBER_DOUBLE",
            ValueType::Bool => "BOOLEAN",
            ValueType::List => "LIST",
            ValueType::Dict => "STRUCT",
            ValueType::Any | ValueType::Artifact => {
                self.refuse(path, format!("values of type `{ty}` are not exported yet: give it a type KFP has (string, int, float, bool, list, dict)"));
                return None;
            }
        })
    }

    /// The name of group step `step`.
    fn name_of(&self, step: &Step) -> String {
        self.names[&(step as StepKey as usize)].clone()
    }

    /// The steps of `steps` as one DAG sees them.
    fn local<'s>(&self, steps: &'s [Step], chain: bool) -> Local<'s> {
        let mut local = Local { tasks: BTreeSet::new(), groups: Vec::new() };
        let mut i = 0;
        while i < steps.len() {
            let step = &steps[i];
            match step {
                Step::Task(t) => {
                    local.tasks.insert(t.task.as_str());
                }
                // A chain is one group (`condition-branches-N`), unless this DAG is the chain.
                Step::If(_) if !chain && self.names.contains_key(&chain_key(step)) => {
                    let len = chain_len(&steps[i..]);
                    local.groups.push((self.names[&chain_key(step)].clone(), &steps[i..i + len]));
                    i += len;
                    continue;
                }
                Step::ExitHandler(e) => {
                    // The exit task is a task of this DAG, beside its body's DAG.
                    local.tasks.insert(e.exit_handler.exit.task.as_str());
                    local.groups.push((self.name_of(step), &e.exit_handler.steps));
                }
                Step::If(b) => local.groups.push((self.name_of(step), &b.branch.steps)),
                Step::Elif(b) => local.groups.push((self.name_of(step), &b.elif.steps)),
                Step::Else(b) => local.groups.push((self.name_of(step), &b.branch.steps)),
                // The loop step itself: the loop counts among the loops that hold its tasks.
                Step::ParallelFor(_) => local.groups.push((self.name_of(step), std::slice::from_ref(step))),
            }
            i += 1;
        }
        local
    }

    /// The tasks of a DAG made of `steps`.
    fn dag(&mut self, steps: &[Step], scope: &Scope<'_>) -> Map<String, Value> {
        let local = self.local(steps, scope.chain);
        let mut tasks = Map::new();
        let mut i = 0;
        while i < steps.len() {
            let step = &steps[i];
            let path = format!("{}[{}]", scope.prefix, scope.first + i);
            match step {
                Step::Task(task) => {
                    if let Some(spec) = self.task(task, &path, scope, &local, None) {
                        tasks.insert(task.task.clone(), spec);
                    }
                }
                Step::ExitHandler(e) => self.exit_handler(step, &e.exit_handler, &path, scope, &local, &mut tasks),
                Step::If(_) if scope.chain => {
                    self.branches(steps, scope.first, scope, &local, &mut tasks);
                    return tasks;
                }
                Step::If(_) if self.names.contains_key(&chain_key(step)) => {
                    let len = chain_len(&steps[i..]);
                    self.chain(&steps[i..i + len], scope.first + i, scope, &local, &mut tasks);
                    i += len;
                    continue;
                }
                Step::If(_) => self.branches(std::slice::from_ref(step), scope.first + i, scope, &local, &mut tasks),
                Step::Elif(_) | Step::Else(_) => {
                    self.refuse(&path, "an `elif` or `else` must follow an `if` or `elif`");
                }
                Step::ParallelFor(l) => self.parallel_for(step, &l.parallel_for, &path, scope, &local, &mut tasks),
            }
            i += 1;
        }
        tasks
    }

    /// A group's steps as a DAG component `comp-NAME`, and the task that runs it in the parent
    /// DAG: every value read inside from outside (`body.also` too: a condition's references,
    /// a loop's items) arrives as a channel `pipelinechannel--...`, which the task fills from
    /// the parent's parameters, channels, items, sibling tasks or sibling groups' outputs (on
    /// which it then depends). Tasks inside that wait (`after`) for a task of the parent's
    /// DAG make the group wait for it.
    fn group(&mut self, body: Body<'_>, scope: &Scope<'_>, local: &Local<'_>) -> Value {
        let mut refs = reads(body.steps);
        refs.extend(body.also.iter().cloned());
        refs.extend(scope.inherited.iter().cloned());
        // The loops' items go down to exit handlers inside them (their tasks are given them).
        if scope.loop_exit || body.exit || holds_exit_handler(body.steps) {
            refs.extend(scope.items.keys().map(|var| Ref::Item { var: var.clone(), field: None }));
        }
        let inner: BTreeSet<String> = task_names(body.steps);
        let mut channels = BTreeMap::new();
        let (mut parent_inputs, mut parent_artifacts) = (Map::new(), Map::new());
        let mut artifact_kinds: BTreeMap<String, String> = BTreeMap::new();
        let mut artifact_lists: BTreeSet<String> = BTreeSet::new();
        let mut depends: BTreeSet<String> =
            afters(body.steps).iter().filter(|a| !inner.contains(*a)).filter_map(|a| local.dependency(a)).collect();
        for r in &refs {
            let (channel, from, ty) = match r {
                Ref::Param(p) => {
                    let Some(ty) = scope.params.get(p).copied() else { continue };
                    let channel = format!("pipelinechannel--{p}");
                    let from = match self.param_source(p, scope) {
                        Source::Param(p) => Source::Channel(p),
                        other => other,
                    };
                    (channel, from, ty)
                }
                Ref::Item { var, .. } => {
                    let Some(channel) = scope.items.get(var) else { continue };
                    let ty = scope.channels.get(channel).copied().unwrap_or(ValueType::String);
                    (channel.clone(), Source::Channel(channel.clone()), ty)
                }
                // A list of artifacts: the items of a loop over them, passed as an artifact list;
                // anywhere else refused where it is read.
                Ref::Output { task, output } if self.collects_artifacts(r, scope, local) => {
                    if body.item.as_ref().is_none_or(|i| !i.over_artifacts) || !body.also.contains(r) {
                        continue;
                    }
                    let Some((from, _)) = self.output_source(task, output, scope, local) else { continue };
                    let channel = output_channel(task, output);
                    depends.extend(from.producer().map(String::from));
                    parent_artifacts.insert(channel.clone(), from.artifact_spec());
                    artifact_kinds.insert(channel.clone(), doc_artifact_kind(self.doc, r));
                    artifact_lists.insert(channel.clone());
                    channels.insert(channel, ValueType::List);
                    continue;
                }
                Ref::Output { task, output } if !inner.contains(task) => {
                    let channel = output_channel(task, output);
                    match self.output_source(task, output, scope, local) {
                        Some((source, ty)) => (channel, source, ty),
                        // inside another group: refused where it is read
                        None => continue,
                    }
                }
                Ref::Output { .. } => continue,
            };
            if let Some(p) = from.producer() {
                depends.insert(p.to_string());
            }
            if ty == ValueType::Artifact {
                parent_artifacts.insert(channel.clone(), from.artifact_spec());
                artifact_kinds.insert(channel.clone(), doc_artifact_kind(self.doc, r));
            } else {
                parent_inputs.insert(channel.clone(), from.spec());
            }
            channels.insert(channel, ty);
        }
        let (mut items, mut literal_items) = (scope.items.clone(), scope.literal_items.clone());
        let mut definitions = channels.clone();
        if let Some(item) = &body.item {
            items.insert(item.var.clone(), item.channel.clone());
            literal_items.remove(&item.var);
            if let Some(values) = &item.literal {
                literal_items.insert(item.var.clone(), values.clone());
            }
            definitions.insert(item.channel.clone(), item.ty);
            if let Some(kind) = &item.kind {
                artifact_kinds.insert(item.channel.clone(), kind.clone());
            }
        }
        let mut inherited = scope.inherited.clone();
        if body.item.is_none() {
            inherited.extend(body.also.iter().cloned());
        }
        // Reserved before the steps inside are written, which name components too.
        let comp = self.unique_component(&body.name);
        self.out_components.insert(comp.clone(), Value::Null);
        let inner_scope = Scope {
            params: scope.params,
            channels: definitions.clone(),
            items,
            literal_items,
            prefix: body.path.clone(),
            first: body.first,
            inherited,
            chain: body.chain,
            dag: Some(comp.clone()),
            groups: scope.groups.iter().cloned().chain([comp.clone()]).collect(),
            id_prefix: match &body.id {
                Some(id) => format!("{}{id}/", scope.id_prefix),
                None => scope.id_prefix.clone(),
            },
            loop_exit: scope.loop_exit || (body.exit && !scope.items.is_empty()),
        };
        let tasks = self.dag(body.steps, &inner_scope);
        let mut component = json!({"dag": {"tasks": tasks}});
        for (c, ty) in &definitions {
            if let Some(kind) = artifact_kinds.get(c) {
                component["inputDefinitions"]["artifacts"][c] = json!({"artifactType": artifact_type(kind)});
                if artifact_lists.contains(c) {
                    component["inputDefinitions"]["artifacts"][c]["isArtifactList"] = json!(true);
                }
            } else if let Some(kfp_ty) = self.parameter_type(*ty, &body.path) {
                component["inputDefinitions"]["parameters"][c] = json!({"parameterType": kfp_ty});
            }
        }
        self.out_components.insert(comp.clone(), component);
        let mut group_task = json!({"componentRef": {"name": comp}, "taskInfo": {"name": body.name}});
        if !parent_inputs.is_empty() {
            group_task["inputs"]["parameters"] = json!(parent_inputs);
        }
        if !parent_artifacts.is_empty() {
            group_task["inputs"]["artifacts"] = json!(parent_artifacts);
        }
        if !depends.is_empty() {
            group_task["dependentTasks"] = json!(depends);
        }
        group_task
    }

    /// Where output `output` of task `task` (outside the reader's group) comes from in the
    /// DAG of `scope`, and its type there: a task of the DAG, a DAG output of one of its groups
    /// (a list when loops inside the group hold the task), or a channel the DAG receives.
    fn output_source(
        &mut self,
        task: &str,
        output: &str,
        scope: &Scope<'_>,
        local: &Local<'_>,
    ) -> Option<(Source, ValueType)> {
        let channel = output_channel(task, output);
        let ty = self.output_type_here(task, output, scope, local)?;
        if local.tasks.contains(task) {
            return Some((Source::Sibling { task: task.into(), output: output.into() }, ty));
        }
        if let Some((group, _)) = local.group_of(task) {
            let group = group.to_string();
            self.exposures.push((scope.dag.clone(), group.clone(), task.into(), output.into()));
            return Some((Source::Group { group, key: channel }, ty));
        }
        Some((Source::Channel(channel), ty))
    }

    /// The type of output `output` of task `task` as the DAG of `scope` reads it (a list when
    /// loops of the DAG hold the task); None when the DAG cannot read it.
    fn output_type_here(&self, task: &str, output: &str, scope: &Scope<'_>, local: &Local<'_>) -> Option<ValueType> {
        let own = || self.output_type(task, output).unwrap_or(ValueType::String);
        if local.tasks.contains(task) {
            return Some(own());
        }
        if let Some((_, loops)) = local.group_of(task) {
            return Some(if loops > 0 { ValueType::List } else { own() });
        }
        scope.channels.get(&output_channel(task, output)).copied()
    }

    /// Whether `r`, read in the DAG of `scope`, is a list of artifacts: an artifact output made
    /// inside a loop of the DAG, or a sub-pipeline's output that collects artifacts.
    fn collects_artifacts(&self, r: &Ref, scope: &Scope<'_>, local: &Local<'_>) -> bool {
        let Ref::Output { task, output } = r else { return false };
        (self.output_type(task, output) == Some(ValueType::Artifact)
            && self.output_type_here(task, output, scope, local) == Some(ValueType::List))
            || doc_artifact_list(self.doc, task, output)
    }

    /// Where parameter `p` comes from in the DAG of `scope`: a channel the DAG receives; at the
    /// root pipeline's top, an artifact parameter is its importer task's output (KFP's root has
    /// no input artifacts), any other the parameter itself.
    fn param_source(&self, p: &str, scope: &Scope<'_>) -> Source {
        let channel = format!("pipelinechannel--{p}");
        if scope.channels.contains_key(&channel) {
            return Source::Channel(channel);
        }
        if scope.dag.is_none() && scope.params.get(p) == Some(&ValueType::Artifact) {
            return Source::Sibling { task: importer_name(p), output: "artifact".into() };
        }
        Source::Param(p.to_string())
    }

    /// The type of what `binding` passes to a task of the DAG of `scope`, where the pipeline
    /// tells (`any` where it does not).
    fn binding_type(&self, binding: &Binding, scope: &Scope<'_>, local: &Local<'_>) -> ValueType {
        match binding {
            Binding::Literal(v) => ValueType::of(v),
            Binding::Format(_) => ValueType::String,
            Binding::Ref(Ref::Param(p)) => scope.params.get(p).copied().unwrap_or(ValueType::Any),
            Binding::Ref(Ref::Output { task, output }) => {
                self.output_type_here(task, output, scope, local).unwrap_or(ValueType::Any)
            }
            Binding::Ref(Ref::Item { var, field: None }) => {
                scope.items.get(var).and_then(|c| scope.channels.get(c)).copied().unwrap_or(ValueType::Any)
            }
            // A field of literal items: the type all of them give it.
            Binding::Ref(Ref::Item { var, field: Some(f) }) => match scope.literal_items.get(var) {
                Some(items) => {
                    let fields: Vec<Value> = items.iter().map(|i| i.get(f).cloned().unwrap_or(Value::Null)).collect();
                    let ty = items_type(&fields);
                    if fields.iter().all(|v| ValueType::of(v) == ty) { ty } else { ValueType::Any }
                }
                None => ValueType::Any,
            },
            Binding::OneOf(refs) => match refs.first() {
                Some(Ref::Output { task, output }) => self.output_type(task, output).unwrap_or(ValueType::Any),
                _ => ValueType::Any,
            },
        }
    }

    /// An exit-handler group: its body as a DAG component (a task of this DAG), and its exit
    /// task beside it, triggered when the body is done however it ended.
    fn exit_handler(
        &mut self,
        step: &Step,
        group: &crate::model::ExitHandler,
        path: &str,
        scope: &Scope<'_>,
        local: &Local<'_>,
        tasks: &mut Map<String, Value>,
    ) {
        let name = self.name_of(step);
        self.refuse_fail_fast(group.fail_fast, &format!("{path}.exit_handler.fail_fast"));
        let body = Body {
            name: name.clone(),
            steps: &group.steps,
            also: BTreeSet::new(),
            path: format!("{path}.exit_handler.steps"),
            first: 0,
            chain: false,
            item: None,
            id: Some(name.clone()),
            exit: true,
        };
        let group_task = self.group(body, scope, local);
        self.exit_body = group_task["componentRef"]["name"].as_str().map(String::from);
        tasks.insert(name.clone(), group_task);
        let exit_path = format!("{path}.exit_handler.exit");
        if let Some(spec) = self.task(&group.exit, &exit_path, scope, local, Some(&name)) {
            tasks.insert(group.exit.task.clone(), spec);
        }
    }

    /// An `if`/`elif`/`else` chain (`steps`, the `if` at index `first` of its DAG): one DAG
    /// `condition-branches-N` that holds a DAG per branch.
    fn chain(
        &mut self,
        steps: &[Step],
        first: usize,
        scope: &Scope<'_>,
        local: &Local<'_>,
        tasks: &mut Map<String, Value>,
    ) {
        let name = self.names[&chain_key(&steps[0])].clone();
        let also: BTreeSet<Ref> = steps
            .iter()
            .filter_map(|step| branch_parts(step).and_then(|(.., condition)| condition))
            .filter_map(|c| Expr::parse(c).ok())
            .flat_map(|e| e.refs().into_iter().cloned().collect::<Vec<_>>())
            .collect();
        let body = Body {
            name: name.clone(),
            steps,
            also,
            path: scope.prefix.clone(),
            first,
            chain: true,
            item: None,
            id: None,
            exit: false,
        };
        let group_task = self.group(body, scope, local);
        tasks.insert(name, group_task);
    }

    /// The branches of a chain (or one lone `if`; the first at index `first` of the DAG's
    /// steps in the file), each a DAG whose task is triggered by its condition and the
    /// negation of the conditions before it, in KFP's CEL.
    fn branches(
        &mut self,
        steps: &[Step],
        first: usize,
        scope: &Scope<'_>,
        local: &Local<'_>,
        tasks: &mut Map<String, Value>,
    ) {
        let mut before: Vec<Expr> = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            let path = format!("{}[{}]", scope.prefix, first + i);
            let (key, fail_fast, inner, condition) = branch_parts(step).expect("a chain holds branches only");
            self.refuse_fail_fast(fail_fast, &format!("{path}.{key}.fail_fast"));
            let own = match condition.map(Expr::parse) {
                Some(Ok(expr)) => Some(expr),
                Some(Err(e)) => {
                    self.refuse(&format!("{path}.{key}.condition"), e);
                    return;
                }
                None => None,
            };
            let also: BTreeSet<Ref> = before
                .iter()
                .chain(own.iter())
                .flat_map(|e| e.refs().into_iter().cloned().collect::<Vec<_>>())
                .collect();
            let name = self.name_of(step);
            let body = Body {
                name: name.clone(),
                steps: inner,
                also,
                path: format!("{path}.{key}.steps"),
                first: 0,
                chain: false,
                item: None,
                id: Some(name.clone()),
                exit: false,
            };
            let mut group_task = self.group(body, scope, local);
            let mut parts: Vec<String> = Vec::new();
            for prev in &before {
                match self.cel(prev, scope) {
                    Ok(cel) => parts.push(format!("!({cel})")),
                    Err(e) => self.refuse(&format!("{path}.{key}"), e),
                }
            }
            if let Some(expr) = &own {
                match self.cel(expr, scope) {
                    Ok(cel) => parts.push(cel),
                    Err(e) => self.refuse(&format!("{path}.{key}.condition"), e),
                }
            }
            group_task["triggerPolicy"] = json!({"condition": parts.join(" && ")});
            tasks.insert(name, group_task);
            before.extend(own);
        }
    }

    /// A loop: a DAG whose task iterates over the items (`parameterIterator`), at most
    /// `parallelism` at once (`iteratorPolicy`).
    fn parallel_for(
        &mut self,
        step: &Step,
        spec: &crate::model::ParallelFor,
        path: &str,
        scope: &Scope<'_>,
        local: &Local<'_>,
        tasks: &mut Map<String, Value>,
    ) {
        let name = self.name_of(step);
        let at = format!("{path}.parallel_for");
        self.refuse_fail_fast(spec.fail_fast, &format!("{at}.fail_fast"));
        let var = spec.var.clone().unwrap_or_else(|| "item".into());
        let (iterator, also, item_channel, item_ty, literal, kind) = match Binding::parse(&spec.items) {
            Ok(Binding::Literal(Value::Array(items))) => {
                self.literal_loops += 1;
                let channel = format!("pipelinechannel--loop-item-param-{}", self.literal_loops);
                let raw = serde_json::to_string(&items).expect("JSON values serialise");
                let ty = items_type(&items);
                (json!({"itemInput": channel, "items": {"raw": raw}}), BTreeSet::new(), channel, ty, Some(items), None)
            }
            // A list of artifacts (KFP's `artifactIterator`): each item one artifact.
            Ok(Binding::Ref(r @ Ref::Output { .. })) if self.collects_artifacts(&r, scope, local) => {
                let Ref::Output { task, output } = &r else { unreachable!("matched above") };
                let items_channel = output_channel(task, output);
                let channel = item_channel(&items_channel, &name, scope, &spec.steps);
                let iterator = json!({"itemInput": channel, "items": {"inputArtifact": items_channel}});
                let kind = doc_artifact_kind(self.doc, &r);
                (iterator, BTreeSet::from([r]), channel, ValueType::Artifact, None, Some(kind))
            }
            Ok(Binding::Ref(r)) => {
                let items_channel = match &r {
                    Ref::Param(p) => format!("pipelinechannel--{p}"),
                    Ref::Output { task, output } => output_channel(task, output),
                    Ref::Item { var, field: None } if scope.items.contains_key(var) => scope.items[var].clone(),
                    Ref::Item { .. } => {
                        self.refuse(
                            &format!("{at}.items"),
                            "a loop over a field of an outer loop's item is not exported yet",
                        );
                        return;
                    }
                };
                let channel = item_channel(&items_channel, &name, scope, &spec.steps);
                let ty = self.ref_items_type(&r, &spec.steps, &var);
                (
                    json!({"itemInput": channel, "items": {"inputParameter": items_channel}}),
                    BTreeSet::from([r]),
                    channel,
                    ty,
                    None,
                    None,
                )
            }
            _ => {
                self.refuse(&format!("{at}.items"), "the items must be a list or one reference to a list");
                return;
            }
        };
        let body = Body {
            name: name.clone(),
            steps: &spec.steps,
            also,
            path: format!("{at}.steps"),
            first: 0,
            chain: false,
            item: Some(LoopItem {
                var,
                channel: item_channel,
                ty: item_ty,
                literal,
                over_artifacts: kind.is_some(),
                kind: kind.clone(),
            }),
            id: Some(format!("{name}/*")),
            exit: false,
        };
        let mut group_task = self.group(body, scope, local);
        let iterator_key = if kind.is_some() { "artifactIterator" } else { "parameterIterator" };
        group_task[iterator_key] = iterator;
        if let Some(n) = spec.parallelism {
            group_task["iteratorPolicy"] = json!({"parallelismLimit": n});
        }
        self.loop_bodies.extend(group_task["componentRef"]["name"].as_str().map(String::from));
        tasks.insert(name, group_task);
    }

    /// The type of one item of a list that reference `r` gives a loop: what a literal default
    /// of the parameter holds, else the type of the first input of the loop's tasks bound to
    /// the whole item, else a string.
    fn ref_items_type(&self, r: &Ref, steps: &[Step], var: &str) -> ValueType {
        if let Ref::Param(p) = r
            && let Some(Value::Array(items)) = self.doc.pipeline.params.get(p).and_then(|p| p.default.as_ref())
            && !items.is_empty()
        {
            return items_type(items);
        }
        let whole = format!("{{{{{var}}}}}");
        for task in steps.iter().flat_map(Step::tasks) {
            for (input, value) in &task.inputs {
                if value.as_str().is_some_and(|v| v.trim() == whole)
                    && let Some(info) = self.doc.components.get(&task.component)
                    && let Some(spec) = info.signature.input(input)
                    && let PortType::Value(ty) = spec.ty
                    && ty != ValueType::Any
                {
                    return ty;
                }
            }
        }
        ValueType::String
    }

    /// The type of value output `output` of task `task` anywhere in the pipeline being
    /// written (a sub-pipeline's output included).
    fn output_type(&self, task: &str, output: &str) -> Option<ValueType> {
        doc_output_type(self.doc, task, output)
    }
}

/// The type of value output `output` of task `task` of `doc`: of its component, or for a task
/// that runs a sub-pipeline, of the sub-pipeline's output (a list when loops hold its task).
fn doc_output_type(doc: &Document, task: &str, output: &str) -> Option<ValueType> {
    let component = &find_task(&doc.pipeline.steps, task)?.component;
    if let Some(info) = doc.components.get(component) {
        return match info.signature.output(output)?.ty {
            PortType::Value(ty) => Some(ty),
            PortType::Artifact { .. } => Some(ValueType::Artifact),
            PortType::FinalStatus => None,
        };
    }
    let sub = doc.subs.get(component)?;
    let Ok(Binding::Ref(Ref::Output { task, output })) = Binding::parse(sub.pipeline.outputs.get(output)?) else {
        return None;
    };
    if loops_around(&sub.pipeline.steps, &task) > 0 {
        return Some(ValueType::List);
    }
    doc_output_type(sub, &task, &output)
}

/// Whether output `output` of task `task` of `doc` runs a sub-pipeline whose output is the
/// artifacts of a loop's iterations (through sub-pipelines).
fn doc_artifact_list(doc: &Document, task: &str, output: &str) -> bool {
    let Some(sub) = find_task(&doc.pipeline.steps, task).and_then(|t| doc.subs.get(&t.component)) else {
        return false;
    };
    let Some(Ok(Binding::Ref(Ref::Output { task, output }))) = sub.pipeline.outputs.get(output).map(Binding::parse)
    else {
        return false;
    };
    (loops_around(&sub.pipeline.steps, &task) > 0 && doc_output_type(sub, &task, &output) == Some(ValueType::Artifact))
        || doc_artifact_list(sub, &task, &output)
}

/// The artifact kind of what reference `r` reaches in `doc` (an output, through sub-pipelines,
/// or an artifact parameter): what KFP's `artifactType` names.
fn doc_artifact_kind(doc: &Document, r: &Ref) -> String {
    let kind = match r {
        Ref::Param(p) => doc.pipeline.params.get(p).and_then(|p| p.kind.clone()),
        Ref::Output { task, output } => (|| {
            let component = &find_task(&doc.pipeline.steps, task)?.component;
            if let Some(info) = doc.components.get(component) {
                return match &info.signature.output(output)?.ty {
                    PortType::Artifact { kind, .. } => Some(kind.clone()),
                    _ => None,
                };
            }
            let sub = doc.subs.get(component)?;
            let Ok(Binding::Ref(inner)) = Binding::parse(sub.pipeline.outputs.get(output)?) else { return None };
            Some(doc_artifact_kind(sub, &inner))
        })(),
        Ref::Item { .. } => None,
    };
    kind.unwrap_or_else(|| "Artifact".into())
}

/// KFP's `artifactType` of an artifact kind: its `system.` schema for the kinds KFP knows,
/// `system.Artifact` for any other.
fn artifact_type(kind: &str) -> Value {
    const KNOWN: [&str; 8] = [
        "Artifact",
        "Dataset",
        "Model",
        "Metrics",
        "ClassificationMetrics",
        "SlicedClassificationMetrics",
        "HTML",
        "Markdown",
    ];
    let title = if KNOWN.contains(&kind) { format!("system.{kind}") } else { "system.Artifact".into() };
    json!({"schemaTitle": title, "schemaVersion": "0.0.1"})
}

/// The channel of the item of loop `name` over the list of channel `items` (KFP's name,
/// `ITEMS-loop-item`), or `ITEMS-loop-item-NAME` where a loop around it (over the same list)
/// has that name and the tasks of this one read both items.
fn item_channel(items: &str, name: &str, scope: &Scope<'_>, steps: &[Step]) -> String {
    let channel = format!("{items}-loop-item");
    let inside = reads(steps);
    let outer_read = scope
        .items
        .iter()
        .any(|(var, c)| *c == channel && inside.iter().any(|r| matches!(r, Ref::Item { var: v, .. } if v == var)));
    if outer_read { format!("{channel}-{name}") } else { channel }
}

/// Whether `steps` hold an exit handler, at any depth.
fn holds_exit_handler(steps: &[Step]) -> bool {
    steps.iter().any(|step| match step {
        Step::ExitHandler(_) => true,
        Step::Task(_) => false,
        Step::If(b) => holds_exit_handler(&b.branch.steps),
        Step::Elif(b) => holds_exit_handler(&b.elif.steps),
        Step::Else(b) => holds_exit_handler(&b.branch.steps),
        Step::ParallelFor(l) => holds_exit_handler(&l.parallel_for.steps),
    })
}

/// How many steps the `if`/`elif`/`else` chain at the start of `steps` holds.
fn chain_len(steps: &[Step]) -> usize {
    1 + steps[1..].iter().take_while(|s| matches!(s, Step::Elif(_) | Step::Else(_))).count()
}

/// The one type literal items share (KFP's item parameter type), else a string.
fn items_type(items: &[Value]) -> ValueType {
    let mut types: Vec<ValueType> = items.iter().map(ValueType::of).collect();
    types.dedup();
    match types.as_slice() {
        [one] if *one != ValueType::Any => *one,
        _ => ValueType::String,
    }
}

#[cfg(test)]
mod tests {
    use super::kfp_name;

    /// Ensures that a pipeline's name becomes one KFP's backend takes.
    #[test]
    fn names_become_kfps() {
        assert_eq!(kfp_name("My Pipeline_2"), "my-pipeline-2");
        assert_eq!(kfp_name("__x__y--"), "x-y");
        assert_eq!(kfp_name("é!"), "pipeline");
        assert_eq!(kfp_name(&"a".repeat(300)).len(), 128);
    }
}

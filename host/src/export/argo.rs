//! A pipeline as an Argo Workflows `Workflow` (`argoproj.io/v1alpha1`), so that Argo runs it on
//! a cluster (`argo submit workflow.yaml`). Each task is a container template running `wasmpipe
//! task-run` over its component in the runner image, with its inputs as Argo parameters
//! (`--input NAME={{inputs.parameters.NAME}}`) and each value output a file Argo reads
//! (`valueFrom.path`, [`OUTPUTS_DIR`]`/NAME`); groups are DAG templates.
//!
//! It maps tasks of task components (`wit/pipeline.wit`) with value inputs and outputs
//! (literals, parameters, other tasks' outputs, loop items, formatted strings; an `any` input
//! as JSON text), `after` and reads as `depends` (`A.Succeeded && ...`: a step runs only when
//! what it waits for succeeded, as in wasmpipe; with `ignore_upstream_failure`, once it ended
//! however it ended, an input from it falling back to the component's default), `failFast:
//! false` on every DAG (a failure skips only its dependents) unless the group sets
//! `fail_fast`, exit handlers (the body a DAG template, the exit task its exit hook, which Argo
//! runs after the body however it ended, after `argo stop` and past the workflow's deadline
//! too; the final status from `{{tasks.GROUP.status}}`), `if`/`elif`/`else` (`when`, an
//! `expr` expression over the parameters and outputs it reads, the earlier conditions of its
//! chain negated), loops (a `loop-NAME` DAG whose one task runs the body `withItems` or
//! `withParam`, with the loop's `parallelism` and `fail_fast`), outputs read outside their
//! groups and pipeline outputs (DAG outputs through each group on the way; over a loop, Argo's
//! aggregated list), retries (`retryStrategy`, only on task-run's exit code 1: exit code 2 is a
//! failure wasmpipe does not retry), caching (`memoize`, keyed by the component's digest, its
//! `env` and the inputs; never on exit tasks), a task's `timeout` (also the pod's
//! `activeDeadlineSeconds`), the pipeline's `deadline` (`spec.activeDeadlineSeconds`) and
//! `parallelism` (`spec.parallelism`: pods at once).
//! Everything else is refused with the construct and its place, never dropped: see
//! [`Refusal`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::{
    ComponentInfo, ExportOptions, Refusal, afters, loops_around, output_type, reads, task_limit_args, task_names,
};
use crate::model::binding::{Binding, Part, Ref};
use crate::model::component::PortType;
use crate::model::condition::{Expr, Operand};
use crate::model::value::{ValueType, as_text};
use crate::model::{Backoff, ParallelFor, Pipeline, Step, Task};

/// Where `wasmpipe task-run --outputs-dir` writes each value output in the container, one file
/// per output (`/tmp/outputs/NAME`: a string as it is, any other value as JSON), which the
/// template's `outputs.parameters[].valueFrom.path` names.
pub const OUTPUTS_DIR: &str = "/tmp/outputs";

/// The ConfigMap Argo keeps memoized outputs in (`memoize.cache.configMap.name`).
pub const CACHE_CONFIG_MAP: &str = "wasmpipe-cache";

/// The name of the entrypoint template (the pipeline's own steps).
pub const ENTRYPOINT: &str = "main";

/// Seconds a task's pod gets beyond the task's `timeout` (`activeDeadlineSeconds`), to start
/// and load its component: task-run's own `--timeout` ends the attempt first, with kind
/// `timeout`; the pod's deadline only backs it up.
pub const POD_DEADLINE_SLACK_SECS: u64 = 60;

/// The retry condition of every `retryStrategy`: task-run exits 1 for a failure wasmpipe
/// retries and 2 for one it does not (`load`, `input`, `cancelled`, `internal`).
pub const RETRY_EXPRESSION: &str = "asInt(lastRetry.exitCode) == 1";

/// The pipeline as an Argo `Workflow` (JSON; YAML is the same document), or every construct
/// refused. `components` describes each component the pipeline declares, by name.
pub fn to_argo(
    pipeline: &Pipeline,
    components: &BTreeMap<String, ComponentInfo>,
    options: &ExportOptions,
) -> Result<Value, Vec<Refusal>> {
    let mut group_names = HashMap::new();
    name_groups(&pipeline.steps, &mut 0, &mut group_names);
    let mut ex = Exporter {
        pipeline,
        components,
        options,
        group_names,
        refusals: Vec::new(),
        templates: Vec::new(),
        names: BTreeMap::new(),
    };
    let mut spec = json!({"entrypoint": ENTRYPOINT});
    if let Some(deadline) = &pipeline.deadline {
        spec["activeDeadlineSeconds"] = json!(deadline.0.as_secs_f64().ceil() as u64);
    }
    if let Some(parallelism) = pipeline.parallelism {
        spec["parallelism"] = json!(parallelism);
    }
    let mut parameters = Vec::new();
    for (name, param) in &pipeline.params {
        let at = format!("params.{name}");
        if !ex.value_type(param.ty, &at) {
            continue;
        }
        let mut parameter = json!({"name": name});
        match &param.default {
            Some(Value::Null) => {
                ex.refuse(&at, "a parameter with `default: null` (no value) is not exported to Argo yet: give it a default, or none (then `argo submit -p` must set it)");
                continue;
            }
            Some(default) => parameter["value"] = json!(as_text(default)),
            None => {}
        }
        if !param.description.is_empty() {
            parameter["description"] = json!(param.description);
        }
        parameters.push(parameter);
    }
    if !parameters.is_empty() {
        spec["arguments"] = json!({"parameters": parameters});
    }
    // The pipeline's outputs are the entrypoint's (`globalName`: the workflow's outputs too).
    let mut wanted = BTreeSet::new();
    let mut outputs = Vec::new();
    for (name, value) in &pipeline.outputs {
        let at = format!("outputs.{name}");
        match Binding::parse(value) {
            Ok(Binding::Ref(r @ Ref::Output { .. })) if parameter_name(name) => {
                wanted.insert(r.clone());
                outputs.push((name.clone(), r, at));
            }
            Ok(Binding::Ref(Ref::Output { .. })) => {
                ex.refuse(&at, format!("`{name}` cannot be an Argo parameter name (letters, digits, `-` and `_`)"))
            }
            _ => ex.refuse(&at, "a pipeline output other than one task output (`one_of`) is not exported to Argo yet"),
        }
    }
    let fail_fast = ex.fail_fast(pipeline.fail_fast, &pipeline.steps, "fail_fast");
    let root = Scope {
        channels: BTreeMap::new(),
        prefix: "steps".into(),
        id: String::new(),
        fail_fast,
        literal_items: BTreeMap::new(),
        fan_in: BTreeSet::new(),
    };
    let tasks = ex.dag(&pipeline.steps, &root, "steps", &wanted);
    let mut main = dag_template(ENTRYPOINT, &[], tasks, fail_fast);
    let local = ex.local(&pipeline.steps);
    let mut parameters = Vec::new();
    for (name, r, at) in outputs {
        if let Some(mut parameter) = ex.dag_output(&r, &local, &at) {
            parameter["name"] = json!(name);
            parameter["globalName"] = json!(name);
            parameters.push(parameter);
        }
    }
    if !parameters.is_empty() {
        main["outputs"] = json!({"parameters": parameters});
    }
    ex.templates.insert(0, main);
    if !ex.refusals.is_empty() {
        return Err(ex.refusals);
    }
    spec["templates"] = Value::Array(ex.templates);
    let mut metadata = json!({"generateName": format!("{}-", workflow_name(&pipeline.name))});
    if !pipeline.description.is_empty() {
        metadata["annotations"] = json!({"workflows.argoproj.io/description": pipeline.description});
    }
    Ok(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": metadata, "spec": spec}))
}

/// A Kubernetes name prefix for the workflow from the pipeline's name: lower case, `-` for
/// anything else, at most 57 characters (Argo adds 5 and allows 63).
fn workflow_name(name: &str) -> String {
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let trimmed: String = mapped.trim_matches('-').chars().take(57).collect();
    let trimmed = trimmed.trim_end_matches('-');
    if trimmed.is_empty() { "pipeline".to_string() } else { trimmed.to_string() }
}

/// Names every group in `steps` as the plan does: its own name, else `KIND-N`, N counting the
/// unnamed groups in document order, pre-order (keyed by the step's address).
fn name_groups(steps: &[Step], unnamed: &mut usize, names: &mut HashMap<usize, String>) {
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

/// A DAG template: its input parameters (the channels) and tasks.
fn dag_template(name: &str, channels: &[String], tasks: Vec<Value>, fail_fast: bool) -> Value {
    let mut template = json!({"name": name, "dag": {"failFast": fail_fast, "tasks": tasks}});
    if !channels.is_empty() {
        let parameters: Vec<Value> = channels.iter().map(|c| json!({"name": c})).collect();
        template["inputs"] = json!({"parameters": parameters});
    }
    template
}

/// `depends` for waiting on `steps`: each must have succeeded (a failed, skipped or omitted
/// one omits the task, as wasmpipe skips it with `upstream_failed`).
fn depends(steps: &BTreeSet<String>) -> String {
    steps.iter().map(|s| format!("{s}.Succeeded")).collect::<Vec<_>>().join(" && ")
}

/// `depends` for a task with `ignore_upstream_failure`: it runs once each of `steps` ended,
/// however it ended (failed, errored, skipped by its `when`, or omitted after an upstream
/// failure).
fn depends_however(steps: &BTreeSet<String>) -> String {
    steps
        .iter()
        .map(|s| format!("({s}.Succeeded || {s}.Failed || {s}.Errored || {s}.Skipped || {s}.Omitted)"))
        .collect::<Vec<_>>()
        .join(" && ")
}

/// What a branch gives its chain: its own condition, its task in the DAG (None when refused),
/// and the steps its task waits for besides what it holds reads (what the earlier conditions
/// read).
type Branched = (Option<Expr>, Option<(String, Value)>, BTreeSet<String>);

/// How a DAG calls a group's DAG template.
struct GroupCall {
    /// The template's name.
    template: String,
    /// Its input parameters from outside the group, with the values the caller gives them.
    outer: Vec<(String, String)>,
    /// Its input parameters that carry the loop's item (`{{item}}`, `{{item.FIELD}}`).
    items: Vec<Value>,
    /// Its output parameters.
    outputs: Vec<String>,
}

impl GroupCall {
    /// The DAG task `name` that calls the template (with no `depends`).
    fn entry(&self, name: &str) -> Value {
        let mut entry = json!({"name": name, "template": self.template});
        let arguments: Vec<Value> = self.outer.iter().map(|(c, v)| json!({"name": c, "value": v})).collect();
        if !arguments.is_empty() {
            entry["arguments"] = json!({"parameters": arguments});
        }
        entry
    }
}

/// A duration as Argo parses it (Go's form): whole seconds, else milliseconds.
fn duration(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

/// A string literal of Argo's `expr` expressions.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// What the tasks of one DAG see besides the pipeline's parameters (global in Argo): values
/// from outside the DAG (outputs, loop items) that reach it as the DAG template's input
/// parameters.
struct Scope {
    /// Reference -> the DAG template's input parameter that carries it.
    channels: BTreeMap<Ref, String>,
    /// The place of the DAG's steps in the file, for refusals.
    prefix: String,
    /// The id of the group whose DAG this is, with a final `/` (empty at the root): the
    /// wasmpipe ids of its tasks start with it.
    id: String,
    /// Whether the DAG is `failFast`.
    fail_fast: bool,
    /// The items of the loops over literal lists around the DAG, by variable.
    literal_items: BTreeMap<String, Vec<Value>>,
    /// The outputs among `channels` that arrive collected over a loop (a list).
    fan_in: BTreeSet<Ref>,
}

/// The steps of one DAG: which of them holds each task.
struct Local<'s> {
    /// The DAG's steps.
    steps: &'s [Step],
    /// Each task in the DAG's steps, nested ones too -> the Argo name of the step that holds it.
    owner: BTreeMap<&'s str, String>,
    /// The tasks that are steps of this DAG themselves.
    tasks: BTreeSet<&'s str>,
    /// The exit tasks of the exit handlers of this DAG (hooks, not in their group's DAG).
    exits: BTreeSet<&'s str>,
    /// The Argo names of the branches (`if`, `elif`, `else`) of this DAG.
    branches: BTreeSet<String>,
}

/// The name of the input or output parameter that carries output `output` of task `task` into
/// or out of a group's DAG template.
fn channel_name(task: &str, output: &str) -> String {
    format!("{task}--{output}")
}

/// The name of the input parameter of a loop's body that carries its item (a field of it).
fn item_channel(var: &str, field: Option<&str>) -> String {
    match field {
        None => format!("item--{var}"),
        Some(f) => format!("item--{var}--{f}"),
    }
}

/// Where a value a task reads comes from, in its DAG.
enum Source {
    /// A pipeline parameter (a workflow parameter, global).
    Param(String),
    /// An input parameter of the DAG template.
    Channel(String),
    /// An output of a task of the same DAG (its Argo name).
    Sibling { task: String, output: String },
}

impl Source {
    /// The simple tag Argo substitutes with the value.
    fn tag(&self) -> String {
        match self {
            Source::Param(p) => format!("{{{{workflow.parameters.{p}}}}}"),
            Source::Channel(c) => format!("{{{{inputs.parameters.{c}}}}}"),
            Source::Sibling { task, output } => format!("{{{{tasks.{task}.outputs.parameters.{output}}}}}"),
        }
    }

    /// The value in an `expr` expression (a string).
    fn expr(&self) -> String {
        match self {
            Source::Param(p) => format!("workflow.parameters[{}]", quoted(p)),
            Source::Channel(c) => format!("inputs.parameters[{}]", quoted(c)),
            Source::Sibling { task, output } => {
                format!("tasks[{}].outputs.parameters[{}]", quoted(task), quoted(output))
            }
        }
    }
}

/// What a task becomes: its container template (added to the document) and how a DAG calls it.
struct Call {
    /// The container template's name.
    template: String,
    /// Its arguments' parameters.
    arguments: Vec<Value>,
}

impl Call {
    /// The call's arguments, or None when it has none.
    fn arguments(&self) -> Option<Value> {
        (!self.arguments.is_empty()).then(|| json!({"parameters": self.arguments}))
    }
}

/// The export under way: what it reads, and what it has written or refused so far.
struct Exporter<'a> {
    pipeline: &'a Pipeline,
    components: &'a BTreeMap<String, ComponentInfo>,
    options: &'a ExportOptions,
    /// Each group's name, by its step's address.
    group_names: HashMap<usize, String>,
    refusals: Vec<Refusal>,
    /// The templates after the entrypoint, in document order.
    templates: Vec<Value>,
    /// Argo names given to tasks and groups -> the wasmpipe name.
    names: BTreeMap<String, String>,
}

impl Exporter<'_> {
    /// Refuses what is at `path`, saying why.
    fn refuse(&mut self, path: &str, message: impl Into<String>) {
        self.refusals.push(Refusal { path: path.to_string(), message: message.into() });
    }

    /// `failFast` for a DAG of `steps` whose group sets `fail_fast` (at `path`) to `set`: Argo
    /// stops a failFast DAG's processing after a failure, which may leave the exit hooks of its
    /// tasks unstarted, so a group that holds an exit handler is refused it (exit tasks are
    /// never stopped, rule 9).
    fn fail_fast(&mut self, set: bool, steps: &[Step], path: &str) -> bool {
        if set && steps.iter().any(|s| matches!(s, Step::ExitHandler(_))) {
            self.refuse(path, "`fail_fast` on a group that holds an exit handler is not exported to Argo: a failFast DAG stops after a failure, exit hooks of its tasks included; remove it");
            return false;
        }
        set
    }

    /// Whether values of type `ty` are exported (refused at `path` if not).
    fn value_type(&mut self, ty: ValueType, path: &str) -> bool {
        match ty {
            ValueType::Any | ValueType::Artifact => {
                self.refuse(path, format!("values of type `{ty}` are not exported to Argo yet: task-run reads each parameter by its declared type (string, int, float, bool, list, dict)"));
                false
            }
            _ => true,
        }
    }

    /// The Argo name of task or group `name` (`_` becomes `-`: Argo's task and template names
    /// take letters, digits and `-`), refused at `path` when Argo cannot take it or another
    /// name maps to it too.
    fn claim(&mut self, name: &str, path: &str) -> String {
        let argo = name.replace('_', "-");
        if !argo.starts_with(|c: char| c.is_ascii_alphabetic()) || argo.len() > 100 {
            self.refuse(path, format!("`{name}` cannot be an Argo task name: Argo's names start with a letter (a DAG that uses `depends` refuses a leading digit) and these are at most 100 characters here; rename it"));
        } else if let Some(other) = self.names.insert(argo.clone(), name.to_string())
            && other != name
        {
            self.refuse(
                path,
                format!(
                    "`{name}` and `{other}` are both `{argo}` in Argo (which has no `_` in task names); rename one"
                ),
            );
        }
        argo
    }

    /// The steps of a DAG: who holds each task.
    fn local<'s>(&self, steps: &'s [Step]) -> Local<'s> {
        let mut local = Local {
            steps,
            owner: BTreeMap::new(),
            tasks: BTreeSet::new(),
            exits: BTreeSet::new(),
            branches: BTreeSet::new(),
        };
        for step in steps {
            let name = match step {
                Step::Task(t) => {
                    local.tasks.insert(t.task.as_str());
                    t.task.replace('_', "-")
                }
                _ => self.group_name(step).replace('_', "-"),
            };
            match step {
                Step::ExitHandler(e) => {
                    local.exits.insert(e.exit_handler.exit.task.as_str());
                }
                Step::If(_) | Step::Elif(_) | Step::Else(_) => {
                    local.branches.insert(name.clone());
                }
                _ => {}
            }
            for task in step.tasks() {
                local.owner.insert(task.task.as_str(), name.clone());
            }
        }
        local
    }

    /// The name of group step `step` (see [`name_groups`]).
    fn group_name(&self, step: &Step) -> String {
        self.group_names.get(&(step as *const Step as usize)).cloned().unwrap_or_default()
    }

    /// The steps of this DAG that `step` waits for: those that hold what it names in `after`
    /// or reads, itself or any step inside it.
    fn waits_for(&self, step: &Step, own: &str, local: &Local<'_>) -> BTreeSet<String> {
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
    fn dag(&mut self, steps: &[Step], scope: &Scope, prefix: &str, wanted: &BTreeSet<Ref>) -> Vec<Value> {
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
                Step::If(s) => {
                    before.clear();
                    let b = &s.branch;
                    let own = self.branch(
                        step,
                        b.fail_fast,
                        &b.steps,
                        "if",
                        Some(&b.condition),
                        &before,
                        &path,
                        scope,
                        &local,
                        &group_wanted,
                    );
                    before.extend(own.0);
                    extra_waits = own.2;
                    own.1
                }
                Step::Elif(s) if i > 0 && matches!(steps[i - 1], Step::If(_) | Step::Elif(_)) => {
                    let b = &s.elif;
                    let own = self.branch(
                        step,
                        b.fail_fast,
                        &b.steps,
                        "elif",
                        Some(&b.condition),
                        &before,
                        &path,
                        scope,
                        &local,
                        &group_wanted,
                    );
                    before.extend(own.0);
                    extra_waits = own.2;
                    own.1
                }
                Step::Else(s) if i > 0 && matches!(steps[i - 1], Step::If(_) | Step::Elif(_)) => {
                    let b = &s.branch;
                    let own = self.branch(
                        step,
                        b.fail_fast,
                        &b.steps,
                        "else",
                        None,
                        &before,
                        &path,
                        scope,
                        &local,
                        &group_wanted,
                    );
                    before.clear();
                    extra_waits = own.2;
                    own.1
                }
                Step::Elif(_) | Step::Else(_) => {
                    self.refuse(&path, "an `elif` or `else` must follow an `if` or `elif`");
                    None
                }
                Step::ParallelFor(s) => self.parallel_for(step, &s.parallel_for, &path, scope, &local, &group_wanted),
            };
            let Some((name, mut entry)) = entry else { continue };
            let mut waits = self.waits_for(step, &name, &local);
            waits.extend(extra_waits.into_iter().filter(|w| *w != name));
            if !waits.is_empty() {
                let ignore = matches!(step, Step::Task(t) if t.ignore_upstream_failure);
                entry["depends"] = json!(if ignore { depends_however(&waits) } else { depends(&waits) });
            }
            tasks.push(entry);
        }
        tasks
    }

    /// Output `r` (of a task in the DAG of `local`, at any depth) as an output parameter of
    /// that DAG's template (`valueFrom.parameter`), named after its channel; None (refused at
    /// `at`) when Argo cannot give it: from inside a branch, which fails the DAG when the branch
    /// is not taken, or from an exit task.
    fn dag_output(&mut self, r: &Ref, local: &Local<'_>, at: &str) -> Option<Value> {
        let Ref::Output { task, output } = r else { return None };
        let name = channel_name(task, output);
        if local.tasks.contains(task.as_str()) {
            let from = format!("{{{{tasks.{}.outputs.parameters.{output}}}}}", task.replace('_', "-"));
            return Some(json!({"name": name, "valueFrom": {"parameter": from}}));
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
        let from = format!("{{{{tasks.{owner}.outputs.parameters.{name}}}}}");
        Some(json!({"name": name, "valueFrom": {"parameter": from}}))
    }

    /// A group's body as a DAG template `dag-NAME` that gives the outputs `wanted` as its own,
    /// and how the parent DAG calls it: every value read inside from outside arrives as an
    /// input parameter of the template (`TASK--OUTPUT`; a loop's item `item--VAR`, a field of
    /// it `item--VAR--FIELD`), which the call fills from the parent's parameters, its
    /// sibling tasks' or groups' outputs or its own input parameters (`loop`: the loop whose
    /// body this is, whose item the call gives as `{{item}}`, `{{item.FIELD}}`).
    #[allow(clippy::too_many_arguments)]
    fn group(
        &mut self,
        name: &str,
        steps: &[Step],
        fail_fast: bool,
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
        wanted: &BTreeSet<Ref>,
        loop_var: Option<&str>,
        literal: Option<&Vec<Value>>,
    ) -> GroupCall {
        let inner = task_names(steps);
        let mut channels: BTreeMap<Ref, String> = BTreeMap::new();
        let mut call = GroupCall { template: String::new(), outer: Vec::new(), items: Vec::new(), outputs: Vec::new() };
        let mut names = BTreeSet::new();
        let mut fan_in = BTreeSet::new();
        for r in reads(steps) {
            let (channel, value) = match &r {
                Ref::Param(_) => continue,
                Ref::Output { task, .. } if inner.contains(task) => continue,
                Ref::Item { var, field } if Some(var.as_str()) == loop_var => {
                    let channel = item_channel(var, field.as_deref());
                    if field.as_deref().is_some_and(|f| !parameter_name(f)) || !parameter_name(var) {
                        self.refuse(
                            path,
                            format!("`{r}` cannot be carried in an Argo parameter name (letters, digits, `-` and `_`)"),
                        );
                        continue;
                    }
                    let tag = match field {
                        None => "{{item}}".to_string(),
                        Some(f) => format!("{{{{item.{f}}}}}"),
                    };
                    if !names.insert(channel.clone()) {
                        continue;
                    }
                    call.items.push(json!({"name": channel, "value": tag}));
                    channels.insert(r.clone(), channel);
                    continue;
                }
                Ref::Output { task, output } => (channel_name(task, output), self.reference(&r, scope, local, None)),
                Ref::Item { var, field } => {
                    (item_channel(var, field.as_deref()), self.reference(&r, scope, local, None))
                }
            };
            // Not readable here: refused where it is read.
            let Ok(source) = value else { continue };
            if !names.insert(channel.clone()) {
                self.refuse(
                    path,
                    format!("two values read inside the group are both `{channel}` as Argo parameters; rename a task"),
                );
                continue;
            }
            if self.fan_in(&r, scope, local) {
                fan_in.insert(r.clone());
            }
            call.outer.push((channel.clone(), source.tag()));
            channels.insert(r.clone(), channel);
        }
        let mut literal_items = scope.literal_items.clone();
        if let Some(var) = loop_var {
            literal_items.remove(var);
            if let Some(items) = literal {
                literal_items.insert(var.to_string(), items.clone());
            }
        }
        // Inside a loop, the iteration's number is left out of the id: Argo's templates do not
        // know it.
        let id = format!("{}{name}/", scope.id);
        let body_scope =
            Scope { channels: channels.clone(), prefix: format!("{path}.steps"), id, fail_fast, literal_items, fan_in };
        // The group's template goes before its tasks' templates.
        let slot = self.templates.len();
        self.templates.push(Value::Null);
        let tasks = self.dag(steps, &body_scope, &body_scope.prefix, wanted);
        let template = format!("dag-{}", name.replace('_', "-"));
        let inputs: Vec<String> = channels.into_values().collect();
        let fail_fast = self.fail_fast(fail_fast, steps, &format!("{path}.fail_fast"));
        let mut dag = dag_template(&template, &inputs, tasks, fail_fast);
        let body = self.local(steps);
        let outputs: Vec<Value> = wanted.iter().filter_map(|r| self.dag_output(r, &body, path)).collect();
        call.outputs = outputs.iter().filter_map(|o| o["name"].as_str().map(String::from)).collect();
        if !outputs.is_empty() {
            dag["outputs"] = json!({"parameters": outputs});
        }
        self.templates[slot] = dag;
        call.template = template;
        call
    }

    /// An exit-handler group: its body a DAG template, called by a task of this DAG whose exit
    /// hook runs the exit task once the body ended, however it ended (its final status from the
    /// body task's phase, `{{tasks.GROUP.status}}`).
    fn exit_handler(
        &mut self,
        step: &Step,
        group: &crate::model::ExitHandler,
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
        wanted: &BTreeSet<Ref>,
    ) -> Option<(String, Value)> {
        let name = self.group_name(step);
        let argo = self.claim(&name, &format!("{path}.exit_handler.name"));
        let at = format!("{path}.exit_handler");
        let call = self.group(&name, &group.steps, group.fail_fast, &at, scope, local, wanted, None, None);
        let mut entry = call.entry(&argo);
        let exit_path = format!("{at}.exit");
        self.claim(&group.exit.task, &format!("{exit_path}.task"));
        let body = task_names(&group.steps);
        let exit_scope = Scope {
            channels: scope.channels.clone(),
            prefix: scope.prefix.clone(),
            id: format!("{}{name}/", scope.id),
            fail_fast: false,
            literal_items: scope.literal_items.clone(),
            fan_in: scope.fan_in.clone(),
        };
        let exit = Exit { group: &name, argo: &argo, body: &body };
        let call = self.task(&group.exit, &exit_path, &exit_scope, local, Some(&exit))?;
        let mut hook = json!({"template": call.template});
        if let Some(arguments) = call.arguments() {
            hook["arguments"] = arguments;
        }
        entry["hooks"] = json!({"exit": hook});
        Some((argo, entry))
    }

    /// A branch: its steps a DAG template, called by a task of this DAG that runs `when` its
    /// condition holds and none of the conditions `before` it in its chain do (`!(c1) &&
    /// c2`; an `else`: `!(c1) && !(c2)`). Returns its own condition, its task, and the steps
    /// of this DAG the earlier conditions read (it waits for them too).
    #[allow(clippy::too_many_arguments)]
    fn branch(
        &mut self,
        step: &Step,
        fail_fast: bool,
        steps: &[Step],
        kind: &str,
        condition: Option<&str>,
        before: &[Expr],
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
        wanted: &BTreeSet<Ref>,
    ) -> Branched {
        let name = self.group_name(step);
        let argo = self.claim(&name, &format!("{path}.{kind}.name"));
        let at = format!("{path}.{kind}");
        let own = match condition.map(Expr::parse) {
            Some(Ok(expr)) => Some(expr),
            Some(Err(e)) => {
                self.refuse(&format!("{at}.condition"), e);
                return (None, None, BTreeSet::new());
            }
            None => None,
        };
        let mut uses = Uses::default();
        let mut parts = Vec::new();
        let mut waits = BTreeSet::new();
        let mut failed = false;
        for prev in before {
            for r in prev.refs() {
                if let Ref::Output { task, .. } = r
                    && let Some(owner) = local.owner.get(task.as_str())
                {
                    waits.insert(owner.clone());
                }
            }
            match self.expr(prev, scope, local, &mut uses) {
                Ok(text) => parts.push(format!("!({text})")),
                Err(e) => {
                    self.refuse(&at, e);
                    failed = true;
                }
            }
        }
        if let Some(expr) = &own {
            match self.expr(expr, scope, local, &mut uses) {
                Ok(text) => parts.push(if before.is_empty() { text } else { format!("({text})") }),
                Err(e) => {
                    self.refuse(&format!("{at}.condition"), e);
                    failed = true;
                }
            }
        }
        if uses.channel && uses.sibling {
            self.refuse(&format!("{at}.condition"), "a condition that reads both an output from outside its group and an output of a task of its group is not exported to Argo yet (Argo resolves the two at different times)");
            failed = true;
        }
        let call = self.group(&name, steps, fail_fast, &at, scope, local, wanted, None, None);
        let mut entry = call.entry(&argo);
        if failed {
            return (own, None, waits);
        }
        entry["when"] = json!(format!("{{{{={}}}}}", parts.join(" && ")));
        (own, Some((argo, entry)), waits)
    }

    /// A loop: a DAG template `loop-NAME` (at most `parallelism` iterations at once: its
    /// `parallelism`; `fail_fast`: its `failFast`) whose one task runs the body's DAG template
    /// once per item (`withItems` for a literal list, else `withParam` over the list's JSON
    /// text), giving it the item as `{{item}}` (a field: `{{item.FIELD}}`). An output of a task
    /// inside read after the loop is the list of its values (Argo's aggregated
    /// `{{tasks.NAME.outputs.parameters.OUTPUT}}`), `[]` when there are no items.
    fn parallel_for(
        &mut self,
        step: &Step,
        spec: &ParallelFor,
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
        wanted: &BTreeSet<Ref>,
    ) -> Option<(String, Value)> {
        let name = self.group_name(step);
        let at = format!("{path}.parallel_for");
        let argo = self.claim(&name, &format!("{at}.name"));
        let var = spec.var.clone().unwrap_or_else(|| "item".into());
        let (iterate, literal, items_arg) = match Binding::parse(&spec.items) {
            Ok(Binding::Literal(Value::Array(items))) => {
                if items.iter().any(Value::is_null) {
                    self.refuse(&format!("{at}.items"), "Argo's withItems takes no null item");
                    return None;
                }
                (json!({"withItems": items.clone()}), Some(items), None)
            }
            Ok(Binding::Ref(Ref::Param(p))) => {
                (json!({"withParam": format!("{{{{workflow.parameters.{p}}}}}")}), None, None)
            }
            Ok(Binding::Ref(r)) => match self.reference(&r, scope, local, None) {
                Ok(source) => (json!({"withParam": "{{inputs.parameters.items}}"}), None, Some(source.tag())),
                Err(e) => {
                    self.refuse(&format!("{at}.items"), e);
                    return None;
                }
            },
            _ => {
                self.refuse(&format!("{at}.items"), "the items must be a list or one reference to a list");
                return None;
            }
        };
        let call = self.group(&name, &spec.steps, false, &at, scope, local, wanted, Some(&var), literal.as_ref());
        let mut arguments: Vec<Value> = call
            .outer
            .iter()
            .map(|(c, _)| json!({"name": c, "value": format!("{{{{inputs.parameters.{c}}}}}")}))
            .collect();
        arguments.extend(call.items.iter().cloned());
        let mut task = json!({"name": argo, "template": call.template});
        if let Some(map) = task.as_object_mut()
            && let Some(obj) = iterate.as_object()
        {
            map.extend(obj.clone());
        }
        if !arguments.is_empty() {
            task["arguments"] = json!({"parameters": arguments});
        }
        let fail_fast = spec.fail_fast;
        let mut inputs: Vec<String> = call.outer.iter().map(|(c, _)| c.clone()).collect();
        if items_arg.is_some() {
            inputs.push("items".into());
        }
        let template = format!("loop-{argo}");
        let mut wrapper = dag_template(&template, &inputs, vec![task], fail_fast);
        if let Some(n) = spec.parallelism {
            wrapper["parallelism"] = json!(n);
        }
        let mut outputs = Vec::new();
        for r in wanted {
            let Ref::Output { task, output } = r else { continue };
            let channel = channel_name(task, output);
            if !call.outputs.contains(&channel) {
                continue;
            }
            let aggregated = format!("tasks[{}].outputs.parameters[{}]", quoted(&argo), quoted(&channel));
            // An output collected over a loop inside is a list already.
            let ty = if loops_around(&spec.steps, task) > 0 {
                None
            } else {
                output_type(&self.pipeline.steps, self.components, task, output)
            };
            // Argo (3.6 on) aggregates values that are not all JSON lists or dicts as strings:
            // numbers and bools are made values again.
            let cast = match ty {
                Some(ValueType::Int) => Some("asInt(#)"),
                Some(ValueType::Float) => Some("asFloat(#)"),
                Some(ValueType::Bool) => Some("# == 'true'"),
                _ => None,
            };
            let value_from = match cast {
                Some(cast) => {
                    json!({"expression": format!("toJson(map(jsonpath({aggregated}, '$'), {{ {cast} }}))"), "default": "[]"})
                }
                None => {
                    json!({"parameter": format!("{{{{tasks.{argo}.outputs.parameters.{channel}}}}}"), "default": "[]"})
                }
            };
            outputs.push(json!({"name": channel, "valueFrom": value_from}));
        }
        if !outputs.is_empty() {
            wrapper["outputs"] = json!({"parameters": outputs});
        }
        // The wrapper goes before the body's template.
        let body_at = self.templates.iter().position(|t| t["name"] == call.template).unwrap_or(self.templates.len());
        self.templates.insert(body_at, wrapper);
        let mut parent_args: Vec<Value> = call.outer.iter().map(|(c, v)| json!({"name": c, "value": v})).collect();
        if let Some(items) = items_arg {
            parent_args.push(json!({"name": "items", "value": items}));
        }
        let mut entry = json!({"name": argo, "template": template});
        if !parent_args.is_empty() {
            entry["arguments"] = json!({"parameters": parent_args});
        }
        Some((argo, entry))
    }

    /// A condition as an `expr` expression over the values it reads: strings as they are,
    /// ints through `asInt`, floats through `asFloat`, bools compared with `'true'`.
    fn expr(&self, expr: &Expr, scope: &Scope, local: &Local<'_>, uses: &mut Uses) -> Result<String, String> {
        let parts = |items: &[Expr], join: &str, uses: &mut Uses| -> Result<String, String> {
            let texts: Vec<String> = items
                .iter()
                .map(|e| Ok(format!("({})", self.expr(e, scope, local, uses)?)))
                .collect::<Result<_, String>>()?;
            Ok(texts.join(join))
        };
        Ok(match expr {
            Expr::And(items) => parts(items, " && ", uses)?,
            Expr::Or(items) => parts(items, " || ", uses)?,
            Expr::Not(inner) => format!("!({})", self.expr(inner, scope, local, uses)?),
            Expr::Truth(o) => self.operand(o, scope, local, uses)?,
            Expr::Cmp(op, a, b) => format!(
                "{} {} {}",
                self.operand(a, scope, local, uses)?,
                op.text(),
                self.operand(b, scope, local, uses)?
            ),
        })
    }

    /// One side of a comparison in a condition, as `expr` text.
    fn operand(&self, operand: &Operand, scope: &Scope, local: &Local<'_>, uses: &mut Uses) -> Result<String, String> {
        let r = match operand {
            Operand::Literal(Value::String(s)) => return Ok(quoted(s)),
            Operand::Literal(v) => return Ok(v.to_string()),
            Operand::Ref(r) => r,
        };
        let ty = match r {
            Ref::Param(p) => self.pipeline.params.get(p).map(|p| p.ty),
            Ref::Output { .. } if self.fan_in(r, scope, local) => None,
            Ref::Output { task, output } => output_type(&self.pipeline.steps, self.components, task, output),
            Ref::Item { .. } => None,
        };
        let source = self.reference(r, scope, local, None)?;
        match source {
            Source::Channel(_) => uses.channel = true,
            Source::Sibling { .. } => uses.sibling = true,
            Source::Param(_) => {}
        }
        let value = source.expr();
        match ty {
            Some(ValueType::String) => Ok(value),
            Some(ValueType::Int) => Ok(format!("asInt({value})")),
            Some(ValueType::Float) => Ok(format!("asFloat({value})")),
            Some(ValueType::Bool) => Ok(format!("(lower({value}) == 'true')")),
            _ => Err(format!(
                "`{r}` is not a string, int, float or bool: conditions over other values are not exported to Argo yet"
            )),
        }
    }

    /// Where reference `r`, read in this DAG (by the exit task of `exit`, if given), comes
    /// from; why Argo cannot have it yet, if not.
    fn reference(&self, r: &Ref, scope: &Scope, local: &Local<'_>, exit: Option<&Exit<'_>>) -> Result<Source, String> {
        match r {
            Ref::Param(p) => Ok(Source::Param(p.clone())),
            Ref::Output { task, output } => {
                if local.tasks.contains(task.as_str()) {
                    return Ok(Source::Sibling { task: task.replace('_', "-"), output: output.clone() });
                }
                if let Some(channel) = scope.channels.get(r) {
                    return Ok(Source::Channel(channel.clone()));
                }
                if exit.is_some_and(|e| e.body.contains(task)) {
                    return Err("an exit task reading an output of its body is not exported to Argo yet".to_string());
                }
                if local.exits.contains(task.as_str()) {
                    return Err("reading an output of an exit task is not exported to Argo yet (an exit hook's outputs are not its group's)".to_string());
                }
                // A group of this DAG holds it: the group's DAG template gives it as its output.
                match local.owner.get(task.as_str()) {
                    Some(owner) => Ok(Source::Sibling { task: owner.clone(), output: channel_name(task, output) }),
                    None => Err(format!("`{r}` cannot be read here in Argo")),
                }
            }
            Ref::Item { var, .. } => match scope.channels.get(r) {
                Some(channel) => Ok(Source::Channel(channel.clone())),
                None => Err(format!("`{r}` is read outside a loop whose item is `{var}`")),
            },
        }
    }

    /// Whether output `r`, read in this DAG, is a list collected over a loop: its task is in a
    /// loop inside a group of this DAG, or it arrives so from outside.
    fn fan_in(&self, r: &Ref, scope: &Scope, local: &Local<'_>) -> bool {
        let Ref::Output { task, .. } = r else { return false };
        if local.tasks.contains(task.as_str()) {
            return false;
        }
        if local.owner.contains_key(task.as_str()) {
            return loops_around(local.steps, task) > 0;
        }
        scope.fan_in.contains(r)
    }

    /// One task: its container template (added to the document), and how a DAG (or, for the
    /// exit task of `exit`, the exit hook of its group) calls it.
    fn task(
        &mut self,
        task: &Task,
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
        exit: Option<&Exit<'_>>,
    ) -> Option<Call> {
        let Some(info) = self.components.get(&task.component) else {
            self.refuse(&format!("{path}.component"), format!("component `{}` is not a task component with a known signature (sub-pipelines and commands are not exported to Argo yet)", task.component));
            return None;
        };
        for (field, set) in [
            ("dirs", !task.dirs.is_empty()),
            ("host_env", !task.host_env.is_empty()),
            ("network", task.network.is_some()),
            ("host", !task.host.is_empty()),
            ("artifact_limit", task.artifact_limit.is_some()),
            ("value_limit", task.value_limit.is_some()),
            ("loop_item_limit", task.loop_item_limit.is_some()),
        ] {
            if set {
                self.refuse(
                    &format!("{path}.{field}"),
                    format!("`{field}` is not exported to Argo yet; remove it to export the pipeline"),
                );
            }
        }
        let mut args: Vec<String> = vec![
            "--component".into(),
            format!("{}/{}", self.options.components_dir.trim_end_matches('/'), info.file),
            "--digest".into(),
            info.digest.clone(),
            "--run-id".into(),
            "{{workflow.name}}".into(),
            "--task-id".into(),
            format!("{}{}", scope.id, task.task),
            "--outputs-dir".into(),
            OUTPUTS_DIR.into(),
        ];
        let mut inputs = Vec::new();
        let mut arguments = Vec::new();
        for spec in &info.signature.inputs {
            let name = &spec.name;
            let at = format!("{path}.inputs.{name}");
            if !parameter_name(name) {
                self.refuse(
                    &at,
                    format!("input `{name}` cannot be an Argo parameter name (letters, digits, `-` and `_`)"),
                );
                continue;
            }
            let ty = match &spec.ty {
                PortType::FinalStatus => {
                    let Some(exit) = exit else {
                        self.refuse(&at, "a final status is given only to an exit task");
                        continue;
                    };
                    inputs.push(json!({"name": name}));
                    arguments.push(json!({"name": name, "value": format!("{{{{tasks.{}.status}}}}", exit.argo)}));
                    args.extend([
                        "--final-status".into(),
                        format!("{{{{inputs.parameters.{name}}}}}"),
                        "--group".into(),
                        exit.group.to_string(),
                    ]);
                    continue;
                }
                PortType::Value(ty) => *ty,
                _ => {
                    self.refuse(&at, "artifact inputs are not exported to Argo yet");
                    continue;
                }
            };
            // An input left unbound takes the component's default (or fails with kind `input`).
            let Some(value) = task.inputs.get(name) else {
                self.value_type(ty, &at);
                continue;
            };
            // task-run reads an `any` input as JSON: a literal is written so, and so is the
            // text of a reference of a known type other than string; a string is made JSON.
            let mut quote = false;
            if ty == ValueType::Any {
                match self.any_input(value, scope, local, &at) {
                    Some(q) => quote = q,
                    None => continue,
                }
            } else if !self.value_type(ty, &at) {
                continue;
            }
            // With `ignore_upstream_failure`, an input from a task of this DAG that did not
            // succeed is left out: the component's default (Argo cannot leave out an argument).
            let producers: BTreeSet<String> = if task.ignore_upstream_failure {
                Binding::parse(value)
                    .map(|b| b.refs().into_iter().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| match (r, self.reference(r, scope, local, exit)) {
                        (Ref::Output { .. }, Ok(Source::Sibling { task, .. })) => Some(task),
                        _ => None,
                    })
                    .collect()
            } else {
                BTreeSet::new()
            };
            if !producers.is_empty() {
                let Some(default) = spec.default.as_ref().filter(|d| !d.is_null()) else {
                    self.refuse(&at, "with `ignore_upstream_failure`, an input read from another task is exported to Argo only when the component declares a default for it (what the task gets when its producer did not succeed: Argo cannot leave an argument out, and task-run's Argo mode has no form for a missing input yet)");
                    continue;
                };
                let fallback = quoted(&if ty == ValueType::Any { default.to_string() } else { as_text(default) });
                let mut pieces = Vec::new();
                match Binding::parse(value) {
                    Ok(Binding::Ref(r)) => {
                        if let Ok(source) = self.reference(&r, scope, local, exit) {
                            pieces.push(if quote { format!("toJson({})", source.expr()) } else { source.expr() });
                        }
                    }
                    Ok(Binding::Format(parts)) => {
                        for part in parts {
                            match part {
                                Part::Text(t) => pieces.push(quoted(&t)),
                                Part::Ref(r) => match self.reference(&r, scope, local, exit) {
                                    Ok(source) => pieces.push(source.expr()),
                                    Err(e) => self.refuse(&at, e),
                                },
                            }
                        }
                    }
                    _ => {}
                }
                let ok: Vec<String> =
                    producers.iter().map(|p| format!("tasks[{}].status == 'Succeeded'", quoted(p))).collect();
                let text = format!("{{{{=({}) ? ({}) : {fallback}}}}}", ok.join(" && "), pieces.join(" + "));
                inputs.push(json!({"name": name}));
                arguments.push(json!({"name": name, "value": text}));
                args.extend(["--input".into(), format!("{name}={{{{inputs.parameters.{name}}}}}")]);
                continue;
            }
            let text = match Binding::parse(value) {
                Ok(Binding::Literal(v)) if ty == ValueType::Any => v.to_string(),
                Ok(Binding::Literal(v)) => as_text(&v),
                Ok(Binding::Ref(r)) => match self.reference(&r, scope, local, exit) {
                    Ok(source) if quote => format!("{{{{=toJson({})}}}}", source.expr()),
                    Ok(source) => source.tag(),
                    Err(e) => {
                        self.refuse(&at, e);
                        continue;
                    }
                },
                Ok(Binding::Format(parts)) => {
                    let mut text = String::new();
                    for part in parts {
                        match part {
                            Part::Text(t) => text.push_str(&t),
                            Part::Ref(r) => match self.reference(&r, scope, local, exit) {
                                Ok(source) => text.push_str(&source.tag()),
                                Err(e) => self.refuse(&at, e),
                            },
                        }
                    }
                    text
                }
                Ok(Binding::OneOf(_)) => {
                    self.refuse(&at, "one_of is not exported to Argo yet");
                    continue;
                }
                Err(e) => {
                    self.refuse(&at, e);
                    continue;
                }
            };
            inputs.push(json!({"name": name}));
            arguments.push(json!({"name": name, "value": text}));
            args.extend(["--input".into(), format!("{name}={{{{inputs.parameters.{name}}}}}")]);
        }
        let mut outputs = Vec::new();
        for spec in &info.signature.outputs {
            let at = format!("{path}.component");
            match &spec.ty {
                PortType::Value(ty) if self.value_type(*ty, &at) => {
                    if !parameter_name(&spec.name) {
                        self.refuse(&at, format!("output `{}` cannot be an Argo parameter name", spec.name));
                    }
                    outputs.push(
                        json!({"name": spec.name, "valueFrom": {"path": format!("{OUTPUTS_DIR}/{}", spec.name)}}),
                    );
                }
                PortType::Value(_) => {}
                _ => self.refuse(
                    &at,
                    format!("component `{}` has artifact outputs, not exported to Argo yet", task.component),
                ),
            }
        }
        let mut template = json!({"name": format!("task-{}", task.task.replace('_', "-"))});
        if let Some(retries) = task.retries.or(self.pipeline.retries).filter(|r| *r > 0) {
            let (backoff, at) = match task.backoff {
                Some(b) => (b, format!("{path}.backoff")),
                None => (self.pipeline.backoff.unwrap_or_default(), "backoff".to_string()),
            };
            if let Some(backoff) = self.backoff(&backoff, &at) {
                template["retryStrategy"] = json!({
                    "limit": retries,
                    "retryPolicy": "Always",
                    "expression": RETRY_EXPRESSION,
                    "backoff": backoff,
                });
            }
            args.extend(["--retry".into(), "{{retries}}".into()]);
        }
        args.extend(task_limit_args(task));
        if exit.is_none() && task.cache.unwrap_or(self.pipeline.cache) {
            template["memoize"] = json!({
                "key": memo_key(info, task, !inputs.is_empty()),
                "maxAge": "",
                "cache": {"configMap": {"name": CACHE_CONFIG_MAP}},
            });
        }
        if let Some(timeout) = &task.timeout {
            template["activeDeadlineSeconds"] = json!(timeout.0.as_secs_f64().ceil() as u64 + POD_DEADLINE_SLACK_SECS);
        }
        if !inputs.is_empty() {
            template["inputs"] = json!({"parameters": inputs});
        }
        if !outputs.is_empty() {
            template["outputs"] = json!({"parameters": outputs});
        }
        template["container"] = json!({"image": self.options.image, "command": ["wasmpipe", "task-run"], "args": args});
        let name = template["name"].as_str().unwrap_or_default().to_string();
        self.templates.push(template);
        Some(Call { template: name, arguments })
    }

    /// How the binding `value` of an input of type `any` is exported: Some(false) when its
    /// text is JSON (a literal, a reference to a value of a known type other than string),
    /// Some(true) when it is a string made JSON (`toJson`); None (refused at `at`) when its
    /// type is not known before the run (task-run reads an `any` input as JSON).
    fn any_input(&mut self, value: &Value, scope: &Scope, local: &Local<'_>, at: &str) -> Option<bool> {
        let ty = match Binding::parse(value) {
            Ok(Binding::Literal(_)) => return Some(false),
            Ok(Binding::Ref(r @ Ref::Output { .. })) if self.fan_in(&r, scope, local) => Some(ValueType::List),
            Ok(Binding::Ref(Ref::Param(p))) => self.pipeline.params.get(&p).map(|p| p.ty),
            Ok(Binding::Ref(Ref::Output { task, output })) => {
                output_type(&self.pipeline.steps, self.components, &task, &output)
            }
            // The item of a loop over a literal list (a field of it): the type all items give it.
            Ok(Binding::Ref(Ref::Item { var, field })) => scope.literal_items.get(&var).and_then(|items| {
                let values: Vec<Value> = items
                    .iter()
                    .map(|i| match &field {
                        None => i.clone(),
                        Some(f) => i.get(f).cloned().unwrap_or(Value::Null),
                    })
                    .collect();
                let first = values.first().map(ValueType::of)?;
                values.iter().all(|v| ValueType::of(v) == first).then_some(first)
            }),
            _ => None,
        };
        match ty {
            Some(ValueType::Int | ValueType::Float | ValueType::Bool | ValueType::List | ValueType::Dict) => {
                Some(false)
            }
            Some(ValueType::String) => Some(true),
            _ => {
                self.refuse(at, "an input of type `any` is exported to Argo only bound to a literal or to a value whose type is known before the run (task-run reads it as JSON)");
                None
            }
        }
    }

    /// A backoff as Argo's: `duration` the first wait, `factor` (a whole number in Argo),
    /// `cap` the longest wait; None (refused at `at`) when the factor is not whole.
    fn backoff(&mut self, backoff: &Backoff, at: &str) -> Option<Value> {
        let factor = if backoff.factor.is_finite() && backoff.factor >= 1.0 { backoff.factor } else { 1.0 };
        if factor.fract() != 0.0 {
            self.refuse(
                &format!("{at}.factor"),
                format!("Argo's backoff factor is a whole number, not {}: use one", backoff.factor),
            );
            return None;
        }
        Some(json!({"duration": duration(backoff.initial.0), "factor": factor as u64, "cap": duration(backoff.max.0)}))
    }
}

/// What a condition reads, to refuse mixing what Argo resolves at different times.
#[derive(Default)]
struct Uses {
    /// An input parameter of the DAG template (resolved when the DAG starts).
    channel: bool,
    /// An output of a task of the DAG (resolved when the branch's task is reached).
    sibling: bool,
}

/// The group whose exit task is being made.
struct Exit<'g> {
    /// Its name (the final status's `group`).
    group: &'g str,
    /// Its task's Argo name, whose phase is the final status.
    argo: &'g str,
    /// The tasks of its body.
    body: &'g BTreeSet<String>,
}

/// Whether `name` can name an Argo parameter.
fn parameter_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The memoization key of a task: the SHA-256 (Argo's `sprig.sha256sum`) of what wasmpipe's
/// cache key covers and Argo can see: the component's digest and the task's `env` (in a BLAKE3
/// digest computed here), and the input parameters' values as Argo's `toJson` writes them. A
/// key Argo takes (`[a-zA-Z0-9][-a-zA-Z0-9]*`) whatever the values hold.
fn memo_key(info: &ComponentInfo, task: &Task, has_inputs: bool) -> String {
    let env = serde_json::to_string(&task.env).unwrap_or_default();
    let fixed = blake3::hash(format!("{}\n{env}", info.digest).as_bytes()).to_hex().to_string();
    if has_inputs { format!("{{{{=sprig.sha256sum('{fixed}' + toJson(inputs.parameters))}}}}") } else { fixed }
}

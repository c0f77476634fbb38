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
//! `parallelism` (`spec.parallelism`: pods at once), and sub-pipelines (a DAG template of the
//! sub-pipeline's own DAG per task that runs it: see [`sub_pipeline`]) and artifacts (through
//! Argo's artifact repository: see [`artifacts`]) and `one_of` (beside its chain: see
//! [`one_of`]).
//! Everything else is refused with the construct and its place, never dropped: see
//! [`Refusal`].

mod artifacts;
mod condition;
mod dag;
mod groups;
mod names;
mod one_of;
mod parallel_for;
mod pipeline;
mod policies;
mod reference;
mod sub_pipeline;
mod task;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::{ComponentInfo, Document, ExportOptions, Refusal};
use crate::model::binding::Ref;
use crate::model::value::{ValueType, as_text};
use crate::model::{Pipeline, Step};
use names::workflow_name;

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

/// The pipeline of `doc` as an Argo `Workflow` (JSON; YAML is the same document), or every
/// construct refused. Its sub-pipelines are DAG templates of their own (see [`sub_pipeline`]).
pub fn to_argo(doc: &Document, options: &ExportOptions) -> Result<Value, Vec<Refusal>> {
    let pipeline = &doc.pipeline;
    let mut ex = Exporter {
        doc,
        pipeline,
        components: &doc.components,
        options,
        group_names: HashMap::new(),
        refusals: Vec::new(),
        templates: Vec::new(),
        names: BTreeMap::new(),
        template_prefix: String::new(),
    };
    let mut spec = json!({"entrypoint": ENTRYPOINT});
    if let Some(deadline) = &pipeline.deadline {
        spec["activeDeadlineSeconds"] = json!(deadline.0.as_secs_f64().ceil() as u64);
    }
    if let Some(parallelism) = pipeline.parallelism {
        spec["parallelism"] = json!(parallelism);
    }
    let (mut parameters, mut artifacts) = (Vec::new(), Vec::new());
    for (name, param) in &pipeline.params {
        let at = format!("params.{name}");
        // An artifact parameter: an input artifact of the workflow, whose source (`http`,
        // `s3`...) the user adds at submit time.
        if param.ty == ValueType::Artifact {
            if param.default.is_some() {
                ex.refuse(&at, "an artifact parameter's default (a path on the machine that runs wasmpipe) has no meaning on Argo's cluster: remove it, and give the artifact's source (`http`, `s3`...) in `spec.arguments.artifacts` when submitting");
            }
            artifacts.push(json!({"name": name}));
            continue;
        }
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
        spec["arguments"]["parameters"] = json!(parameters);
    }
    if !artifacts.is_empty() {
        spec["arguments"]["artifacts"] = json!(artifacts);
    }
    let main = ex.pipeline_template(ENTRYPOINT, false, String::new());
    ex.templates.insert(0, main);
    let mut seen = BTreeSet::new();
    for name in ex.templates.iter().filter_map(|t| t["name"].as_str()).map(String::from).collect::<Vec<_>>() {
        if !seen.insert(name.clone()) {
            ex.refuse("steps", format!("two templates are both named `{name}` in Argo (a sub-pipeline's templates are named after the task that runs it): rename a task"));
        }
    }
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

/// The export under way: what it reads, and what it has written or refused so far.
struct Exporter<'a> {
    /// The pipeline file being written: the root's, or a sub-pipeline's while its DAG is.
    doc: &'a Document,
    /// `doc`'s pipeline.
    pipeline: &'a Pipeline,
    /// `doc`'s task components.
    components: &'a BTreeMap<String, ComponentInfo>,
    options: &'a ExportOptions,
    /// Each group's name, by its step's address.
    group_names: HashMap<usize, String>,
    refusals: Vec<Refusal>,
    /// The templates after the entrypoint, in document order.
    templates: Vec<Value>,
    /// Argo names given to tasks and groups -> the wasmpipe name.
    names: BTreeMap<String, String>,
    /// What the names of the templates of `doc` start with: empty for the root, the calling
    /// task's for a sub-pipeline's (`sub-TASK-`), so that each use has templates of its own.
    template_prefix: String,
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

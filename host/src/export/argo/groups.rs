//! Groups as DAG templates: a group's body (`dag-NAME`) with the values it reads from outside
//! as input parameters, exit handlers (the exit task as the group task's exit hook) and
//! branches (`when`, the earlier conditions of the chain negated).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::condition::Uses;
use super::dag::{dag_outputs, dag_template, with_input_artifacts};
use super::names::{channel_name, item_channel, parameter_name};
use super::{Exit, Exporter, Local, Scope};
use crate::export::{reads, task_names};
use crate::model::Step;
use crate::model::binding::Ref;
use crate::model::condition::Expr;

/// What a branch gives its chain: its own condition, its task in the DAG (None when refused),
/// and the steps its task waits for besides what it holds reads (what the earlier conditions
/// read).
pub(super) type Branched = (Option<Expr>, Option<(String, Value)>, BTreeSet<String>);

/// How a DAG calls a group's DAG template.
pub(super) struct GroupCall {
    /// The template's name.
    pub(super) template: String,
    /// Its input parameters from outside the group, with the values the caller gives them.
    pub(super) outer: Vec<(String, String)>,
    /// Its input artifacts from outside the group, with the tags the caller gives them `from`.
    pub(super) outer_artifacts: Vec<(String, String)>,
    /// Its input parameters that carry the loop's item (`{{item}}`, `{{item.FIELD}}`).
    pub(super) items: Vec<Value>,
    /// Its output parameters.
    pub(super) outputs: Vec<String>,
}

impl GroupCall {
    /// The DAG task `name` that calls the template (with no `depends`).
    pub(super) fn entry(&self, name: &str) -> Value {
        let mut entry = json!({"name": name, "template": self.template});
        let arguments: Vec<Value> = self.outer.iter().map(|(c, v)| json!({"name": c, "value": v})).collect();
        if !arguments.is_empty() {
            entry["arguments"]["parameters"] = json!(arguments);
        }
        let artifacts: Vec<Value> = self.outer_artifacts.iter().map(|(c, v)| json!({"name": c, "from": v})).collect();
        if !artifacts.is_empty() {
            entry["arguments"]["artifacts"] = json!(artifacts);
        }
        entry
    }
}

impl Exporter<'_> {
    /// A group's body as a DAG template `dag-NAME` that gives the outputs `wanted` as its own,
    /// and how the parent DAG calls it: every value read inside from outside arrives as an
    /// input parameter of the template (`TASK--OUTPUT`; a loop's item `item--VAR`, a field of
    /// it `item--VAR--FIELD`), which the call fills from the parent's parameters, its
    /// sibling tasks' or groups' outputs or its own input parameters (`loop`: the loop whose
    /// body this is, whose item the call gives as `{{item}}`, `{{item.FIELD}}`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn group(
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
        let mut call = GroupCall {
            template: String::new(),
            outer: Vec::new(),
            outer_artifacts: Vec::new(),
            items: Vec::new(),
            outputs: Vec::new(),
        };
        let mut names = BTreeSet::new();
        let mut fan_in = BTreeSet::new();
        for r in reads(steps) {
            let (channel, value) = match &r {
                Ref::Param(_) if !scope.channels.contains_key(&r) => continue,
                Ref::Param(p) => (format!("param--{p}"), self.reference(&r, scope, local, None)),
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
            if self.is_artifact(&r) {
                call.outer_artifacts.push((channel.clone(), source.artifact_tag()));
            } else {
                call.outer.push((channel.clone(), source.tag()));
            }
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
        let template = format!("{}dag-{}", self.template_prefix, name.replace('_', "-"));
        let inputs: Vec<String> =
            channels.into_values().filter(|c| !call.outer_artifacts.iter().any(|(a, _)| a == c)).collect();
        let fail_fast = self.fail_fast(fail_fast, steps, &format!("{path}.fail_fast"));
        let mut dag = dag_template(&template, &inputs, tasks, fail_fast);
        with_input_artifacts(&mut dag, call.outer_artifacts.iter().map(|(c, _)| c.as_str()));
        let body = self.local(steps);
        let outputs: Vec<Value> = wanted.iter().filter_map(|r| self.dag_output(r, &body, path)).collect();
        call.outputs = outputs
            .iter()
            .filter(|o| o.get("from").is_none())
            .filter_map(|o| o["name"].as_str().map(String::from))
            .collect();
        if let Some(outputs) = dag_outputs(outputs) {
            dag["outputs"] = outputs;
        }
        self.templates[slot] = dag;
        call.template = template;
        call
    }

    /// An exit-handler group: its body a DAG template, called by a task of this DAG whose exit
    /// hook runs the exit task once the body ended, however it ended (its final status from the
    /// body task's phase, `{{tasks.GROUP.status}}`).
    pub(super) fn exit_handler(
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
    pub(super) fn branch(
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
}

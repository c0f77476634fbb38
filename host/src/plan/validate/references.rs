//! References (`docs/semantics.md`, rule 12, names and types): what each `{{...}}` in a binding
//! reaches, which gives the reference its type. It must name the item of a `parallel_for` around
//! the reader (and a field that every item of a literal list has), a parameter of the reader's
//! pipeline, or an output of one of its tasks or sub-pipeline tasks that the reader may read: not
//! the reader's own output, not the exit task of a body the reader is in (rule 7); artifacts
//! collected over a loop's iterations go to a task's `list` input or a pipeline output only. Also what a binding reaches inside a group: the
//! body tasks an exit task's input reads (rule 6), a task inside the branch or loop whose
//! condition or items read it.

use serde_json::Value;

use super::{Checker, Reader, list_or_none};
use crate::model::binding::{Binding, Ref};
use crate::model::component::{PortType, Signature};
use crate::model::suggest::did_you_mean;
use crate::model::value::ValueType;
use crate::plan::{GroupIdx, LoopInfo, Node, ScopeIdx, TaskIdx};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// The declared type of what reference `r` reaches, read by `reader`; None where unknown (a
    /// problem reported, or a component that did not load).
    pub(super) fn ref_type(&mut self, reader: Reader, r: &Ref) -> Option<ValueType> {
        match r {
            Ref::Item { var, field } => match self.plan.loop_of_var(reader.from, var) {
                Some(l) => self.item_type(reader, l, field.as_deref()),
                None => {
                    self.error(
                        reader.scope,
                        reader.path,
                        format!("`{r}` is not a reference: write `{{{{params.NAME}}}}`, `{{{{tasks.TASK.outputs.OUTPUT}}}}` or `{{{{tasks.TASK.output}}}}`; `{{{{{var}}}}}` reads a loop item only inside a `parallel_for` whose item is called `{var}` (a loop names its item with `as:`)"),
                    );
                    None
                }
            },
            Ref::Param(name) => self.param_type(reader, r, name),
            Ref::Output { task, output } => match self.plan.lookup(reader.scope, task) {
                Some(Node::Task(p)) => self.task_output_type(reader, r, p, task, output),
                Some(Node::Sub(g)) => self.sub_output_type(reader, r, g, task, output),
                None => {
                    self.error(
                        reader.scope,
                        reader.path,
                        format!(
                            "`{r}` names no task: there is no task `{task}` in this pipeline{}",
                            did_you_mean(task, self.plan.task_names(reader.scope))
                        ),
                    );
                    None
                }
            },
        }
    }

    /// The type of the item of loop `l` (or of its `field`), read by `reader`, as far as a literal
    /// list of items tells: the one type all of them share, else `any`. Reports a field that a
    /// literal item lacks.
    fn item_type(&mut self, reader: Reader, l: GroupIdx, field: Option<&str>) -> Option<ValueType> {
        let group = &self.plan.groups[l];
        if let Some(LoopInfo { items: Ok(Binding::Ref(items)), var, .. }) = &group.looping
            && self.artifact_items(group.scope, group.parent.unwrap_or(GroupIdx::ROOT), items).is_some()
        {
            if let Some(f) = field {
                self.error(
                    reader.scope,
                    reader.path,
                    format!("`{{{{{var}.{f}}}}}`: the items of loop `{}` are artifacts, which have no fields; bind `{{{{{var}}}}}` to an artifact input, whose component reads the artifact's metadata", group.id),
                );
                return None;
            }
            return Some(ValueType::Artifact);
        }
        let Some(LoopInfo { items: Ok(Binding::Literal(Value::Array(items))), var, .. }) = &group.looping else {
            return Some(ValueType::Any);
        };
        let mut types = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let value = match field {
                None => item,
                Some(f) => match item.get(f) {
                    Some(v) => v,
                    None => {
                        self.error(
                            reader.scope,
                            reader.path,
                            format!("`{{{{{var}.{f}}}}}`: item {i} of loop `{}` ({item}) has no field `{f}`; give every item the field (items are at {}.items)", group.id, group.doc_path),
                        );
                        return None;
                    }
                },
            };
            types.push(ValueType::of(value));
        }
        types.dedup();
        Some(if types.len() == 1 { types[0] } else { ValueType::Any })
    }

    /// The type of parameter `name` (reference `r`), which the reader's pipeline must declare.
    fn param_type(&mut self, reader: Reader, r: &Ref, name: &str) -> Option<ValueType> {
        let plan = self.plan;
        let params = &plan.scopes[reader.scope].pipeline.params;
        if let Some(p) = params.get(name) {
            return Some(p.ty);
        }
        let known: Vec<&str> = params.keys().map(String::as_str).collect();
        let message = format!(
            "`{r}` names no parameter{}; declared parameters: {}",
            did_you_mean(name, known.iter().copied()),
            list_or_none(&known)
        );
        self.error(reader.scope, reader.path, message);
        None
    }

    /// The type of output `output` of sub-pipeline task `g` (called `task` by reference `r`): the
    /// type of the sub-pipeline's output (`any` where unknown), or a list when `reader` collects
    /// it over a loop's iterations.
    fn sub_output_type(&mut self, reader: Reader, r: &Ref, g: GroupIdx, task: &str, output: &str) -> Option<ValueType> {
        let plan = self.plan;
        let inner = plan.groups[g].sub.as_ref().map(|s| s.scope).unwrap_or(ScopeIdx::ROOT);
        let fan_in = !plan.loops_between(Node::Sub(g), reader.from).is_empty();
        match self.output_types.get(&(inner, output.to_string())) {
            Some(Some(ValueType::Artifact)) if fan_in => {
                self.error(
                    reader.scope,
                    reader.path,
                    format!("`{r}` is a sub-pipeline's artifact made inside a loop; collecting a sub-pipeline's artifacts is not supported: collect the artifacts of a task instead (inside the sub-pipeline, or a task's in the loop)"),
                );
                None
            }
            Some(ty) if fan_in => Some(ty.map(|_| ValueType::List).unwrap_or(ValueType::Any)),
            Some(ty) => Some(ty.unwrap_or(ValueType::Any)),
            // Its file could not be read: that is the problem reported.
            None if plan.scopes[inner].unread => None,
            None => {
                let known: Vec<&str> = plan.scopes[inner].outputs.keys().map(String::as_str).collect();
                self.error(
                    reader.scope,
                    reader.path,
                    format!(
                        "`{r}`: sub-pipeline task `{task}` has no output `{output}`{}; its pipeline's outputs are: {}",
                        did_you_mean(output, known.iter().copied()),
                        list_or_none(&known)
                    ),
                );
                None
            }
        }
    }

    /// The type of output `output` of task `p` (called `task` by reference `r`): its declared
    /// type, or a list when `reader` collects it over a loop's iterations. None when the reader
    /// may not read it, it cannot be bound (both reported), or its component did not load.
    fn task_output_type(&mut self, reader: Reader, r: &Ref, p: TaskIdx, task: &str, output: &str) -> Option<ValueType> {
        if !self.may_read(reader, r, p, task) {
            return None;
        }
        // A reader outside a loop collects the output of every iteration: a list.
        let loops = self.plan.loops_between(Node::Task(p), reader.from).len();
        let fan_in = loops > 0;
        let sig = self.signature(p)?;
        let Some(spec) = sig.output(output) else {
            let known: Vec<&str> = sig.outputs.iter().map(|o| o.name.as_str()).collect();
            let comp = &self.plan.tasks[p].component;
            let message = format!(
                "`{r}`: component `{comp}` of task `{task}` has no output `{output}`{}; its outputs are: {}",
                did_you_mean(output, known.iter().copied()),
                list_or_none(&known)
            );
            self.error(reader.scope, reader.path, message);
            return None;
        };
        match &spec.ty {
            PortType::Value(_) if fan_in => Some(ValueType::List),
            PortType::Value(t) => Some(*t),
            // Collected (KFP's `Input[List[Dataset]]`): each laid out in the reader's sandbox.
            PortType::Artifact { .. } if fan_in && (reader.task.is_some() || reader.path.starts_with("outputs.")) => {
                Some(ValueType::List)
            }
            // A loop over them: one artifact per iteration, laid out at its reader's input.
            PortType::Artifact { .. } if reader.items && loops == 1 => Some(ValueType::List),
            PortType::Artifact { .. } if reader.items && fan_in => {
                self.error(
                    reader.scope,
                    reader.path,
                    format!("`{r}` is an artifact made inside {loops} nested loops: collected, each item would be a list of artifacts, and a loop's item can be one artifact only; loop over a list of artifacts collected over one loop (from a sub-pipeline whose output collects them, or inside the outer loop)"),
                );
                None
            }
            PortType::Artifact { .. } if fan_in => {
                self.error(
                    reader.scope,
                    reader.path,
                    format!("`{r}` is an artifact made inside a loop: its artifacts are collected into a task's `list` input (each laid out at `/in/INPUT/N`) or a pipeline output, not here; read it inside the loop, or give the list to a task"),
                );
                None
            }
            PortType::Artifact { .. } => Some(ValueType::Artifact),
            other => {
                self.error(
                    reader.scope,
                    reader.path,
                    format!("`{r}` is an output of type {other}, which cannot be bound here"),
                );
                None
            }
        }
    }

    /// For loop items bound to reference `r` (read in `scope` from group `from`): the task and
    /// output that make them, when they are artifacts collected over exactly one loop, one per
    /// item: an artifact output of a task in a loop, or a sub-pipeline's output that is one.
    pub(super) fn artifact_items(&self, scope: ScopeIdx, from: GroupIdx, r: &Ref) -> Option<(TaskIdx, String)> {
        let Ref::Output { task, output } = r else { return None };
        match self.plan.lookup(scope, task)? {
            node @ Node::Task(p) => {
                let artifact = matches!(self.signature(p)?.output(output)?.ty, PortType::Artifact { .. });
                (artifact && self.plan.loops_between(node, from).len() == 1).then(|| (p, output.clone()))
            }
            node @ Node::Sub(g) => {
                if !self.plan.loops_between(node, from).is_empty() {
                    return None;
                }
                let inner = self.plan.groups[g].sub.as_ref()?.scope;
                let Ok(Binding::Ref(r)) = self.plan.scopes[inner].outputs.get(output)? else { return None };
                self.artifact_items(inner, self.plan.scopes[inner].group, r)
            }
        }
    }

    /// Whether reference `r`, read by `reader`, collects an artifact output over a loop.
    pub(super) fn collects_artifacts(&self, reader: Reader, r: &Ref) -> bool {
        let Ref::Output { task, output } = r else { return false };
        let Some(node @ Node::Task(p)) = self.plan.lookup(reader.scope, task) else { return false };
        let artifact = self
            .signature(p)
            .and_then(|sig| sig.output(output))
            .is_some_and(|o| matches!(o.ty, PortType::Artifact { .. }));
        artifact && !self.plan.loops_between(node, reader.from).is_empty()
    }

    /// Whether the task that reads (if a task reads) may read an output of task `p` (called
    /// `task` by reference `r`): not its own, and not the exit task of an exit handler whose body
    /// it is in, which runs after it (`docs/semantics.md`, rule 7). Reports why not.
    fn may_read(&mut self, reader: Reader, r: &Ref, p: TaskIdx, task: &str) -> bool {
        let Some(c) = reader.task else { return true };
        if p == c {
            self.error(reader.scope, reader.path, format!("`{r}`: task `{task}` cannot read its own output"));
            return false;
        }
        let exit_of = self.plan.tasks[p].is_exit.then_some(self.plan.tasks[p].group);
        if exit_of.is_some_and(|g| self.plan.task_in_group(c, g)) {
            self.error(
                reader.scope,
                reader.path,
                format!(
                    "`{r}`: a task inside an exit handler's body cannot read that handler's exit task, which runs after it (see {})",
                    crate::model::diag::rule(1, "Structure")
                ),
            );
            return false;
        }
        true
    }

    /// Whether reference `r`, read in scope `scope`, is an output of a task inside group `g`.
    pub(super) fn reads_inside(&self, scope: ScopeIdx, r: &Ref, g: GroupIdx) -> bool {
        if let Ref::Output { task, .. } = r
            && let Some(node) = self.plan.lookup(scope, task)
        {
            self.plan.group_within(self.plan.node_group(node), g)
        } else {
            false
        }
    }

    /// The name of a body task that `binding` (of exit task `t`) reads, if any.
    pub(super) fn body_producer(&self, t: TaskIdx, binding: &Binding) -> Option<String> {
        let (group, scope) = (self.plan.tasks[t].group, self.plan.tasks[t].scope);
        binding.refs().into_iter().find_map(|r| match r {
            Ref::Output { task, .. } => match self.plan.lookup(scope, task)? {
                Node::Task(p) => (p != t && self.plan.task_in_group(p, group)).then(|| task.clone()),
                Node::Sub(g) => self.plan.group_within(g, group).then(|| task.clone()),
            },
            _ => None,
        })
    }
}

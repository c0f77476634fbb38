//! Validation before anything runs (`docs/semantics.md`, rule 12): names, references, types,
//! required inputs, cycles, parameters and components. Every problem becomes a [`Diagnostic`] that
//! names the file, the place and the fix; all of them are reported at once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::{Child, GroupIdx, LoopInfo, Node, Params, Plan, ScopeIdx, TaskIdx};
use crate::model::Pipeline;
use crate::model::artifact::{self, plain_name};
use crate::model::binding::{Binding, Ref};
use crate::model::component::{LoadError, PortType, Signature};
use crate::model::diag::Diagnostic;
use crate::model::load::{Loaded, SourceMap};
use crate::model::value::ValueType;

/// Components by scope and name, loaded (anything that has a [`Signature`]) or with their
/// load error.
pub(crate) type Components<C> = HashMap<(ScopeIdx, String), Result<Arc<C>, LoadError>>;

/// What validation found.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Problems that stop the run before it starts.
    pub(crate) errors: Vec<Diagnostic>,
    /// Body components that do not load: `validate` reports them, `run` lets their tasks
    /// fail with kind `load` and runs the exit handlers.
    pub(crate) load_failures: Vec<Diagnostic>,
    /// The pipeline's outputs whose declared type is an artifact (what `--export` copies).
    pub(crate) artifact_outputs: Vec<String>,
}

/// Resolves parameter values: declared defaults, overridden by `-p name=value` strings parsed by
/// the declared type. An artifact parameter is a host file or directory (its default is relative
/// to the pipeline file, `-a name=path` to the working directory), referenced where it is: tasks
/// get it read-only.
pub(crate) fn resolve_params(
    loaded: &Loaded,
    overrides: &[(String, String)],
    artifacts: &[(String, PathBuf)],
    report: &mut Report,
) -> Params {
    let (pipeline, source) = (&loaded.pipeline, &loaded.source);
    let mut values = Params::new();
    for (name, param) in &pipeline.params {
        let Some(default) = &param.default else { continue };
        let path = format!("params.{name}.default");
        if param.ty == ValueType::Artifact {
            match default.as_str() {
                Some(file) => match import_param(name, param, &loaded.base_dir.join(file)) {
                    Ok(v) => {
                        values.insert(name.clone(), v);
                    }
                    Err(e) => report
                        .errors
                        .push(source.error(&path, format!("{e}; fix the path or give another with `-a {name}=PATH`"))),
                },
                None => report.errors.push(source.error(
                    &path,
                    format!(
                        "the default of artifact parameter `{name}` must be a path (relative to the pipeline file)"
                    ),
                )),
            }
            continue;
        }
        match param.ty.coerce(default.clone()) {
            Ok(v) => {
                values.insert(name.clone(), v);
            }
            Err(e) => report
                .errors
                .push(source.error(&path, format!("the default of parameter `{name}` does not match its type: {e}"))),
        }
    }
    let known = || {
        let known: Vec<&str> = pipeline.params.keys().map(String::as_str).collect();
        list_or_none(&known)
    };
    for (name, text) in overrides {
        let Some(param) = pipeline.params.get(name) else {
            report.errors.push(source.error(
                "params",
                format!("`-p {name}=...`: the pipeline has no parameter `{name}`; it declares: {}", known()),
            ));
            continue;
        };
        match param.ty.parse_cli(text) {
            Ok(v) => {
                values.insert(name.clone(), v);
            }
            Err(e) => report.errors.push(source.error(
                &format!("params.{name}"),
                format!("`-p {name}={text}`: parameter `{name}` is {}: {e}", param.ty),
            )),
        }
    }
    for (name, file) in artifacts {
        let param = match pipeline.params.get(name) {
            Some(p) if p.ty == ValueType::Artifact => p,
            Some(p) => {
                report.errors.push(source.error(
                    &format!("params.{name}"),
                    format!(
                        "`-a {name}=...`: parameter `{name}` is {}, not an artifact; set it with `-p {name}=VALUE`",
                        p.ty
                    ),
                ));
                continue;
            }
            None => {
                report.errors.push(source.error(
                    "params",
                    format!("`-a {name}=...`: the pipeline has no parameter `{name}`; it declares: {}", known()),
                ));
                continue;
            }
        };
        match import_param(name, param, file) {
            Ok(v) => {
                values.insert(name.clone(), v);
            }
            Err(e) => report.errors.push(source.error(&format!("params.{name}"), format!("`-a {name}=...`: {e}"))),
        }
    }
    for (name, param) in &pipeline.params {
        if !values.contains_key(name) && param.default.is_none() {
            let how =
                if param.ty == ValueType::Artifact { format!("-a {name}=PATH") } else { format!("-p {name}=VALUE") };
            report.errors.push(source.error(
                &format!("params.{name}"),
                format!("parameter `{name}` ({}) has no default: give it a value with `{how}`", param.ty),
            ));
        }
    }
    values
}

/// Artifact parameter `name`, given as host path `file`.
fn import_param(name: &str, param: &crate::model::Param, file: &Path) -> Result<Value, String> {
    let kind = param.kind.as_deref().unwrap_or("Artifact");
    let file = std::path::absolute(file).map_err(|e| format!("artifact `{name}`: `{}`: {e}", file.display()))?;
    artifact::reference(name, &file, kind, param.directory).map(|a| a.to_value())
}

/// Checks `plan` (the pipeline file and the sub-pipelines it uses) against its components.
pub(crate) fn validate<C: AsRef<Signature>>(plan: &Plan, components: &Components<C>, report: &mut Report) {
    report.errors.extend(plan.errors.iter().cloned());
    let mut check = Checker { plan, components, report, scope: ScopeIdx::ROOT, output_types: HashMap::new() };
    check.names();
    check.components();
    check.commands();
    // Inner scopes first: a sub-pipeline's output types are known before its readers are checked.
    for s in plan.scopes.indices().rev() {
        check.outputs(s);
    }
    for t in plan.tasks.indices() {
        check.scope = plan.tasks[t].scope;
        check.task(t);
    }
    check.branches();
    check.loops();
    check.subs();
    check.cycles();
    let types = std::mem::take(&mut check.output_types);
    report.artifact_outputs = plan.scopes[ScopeIdx::ROOT]
        .outputs
        .keys()
        .filter(|name| types.get(&(ScopeIdx::ROOT, (*name).clone())) == Some(&Some(ValueType::Artifact)))
        .cloned()
        .collect();
    // A sub-pipeline used twice is checked twice; report each problem once.
    let mut seen = HashSet::new();
    report.errors.retain(|d| seen.insert((d.file.clone(), d.path.clone(), d.message.clone())));
}

struct Checker<'a, C> {
    plan: &'a Plan,
    components: &'a Components<C>,
    report: &'a mut Report,
    /// The scope being checked: errors are reported in its file, names resolve in it.
    scope: ScopeIdx,
    /// The type of each sub-pipeline output, by scope and name (None: unknown).
    output_types: HashMap<(ScopeIdx, String), Option<ValueType>>,
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() { "none".into() } else { names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ") }
}

impl<C: AsRef<Signature>> Checker<'_, C> {
    fn source(&self) -> &SourceMap {
        &self.plan.scopes[self.scope].source
    }

    fn pipeline(&self) -> &Pipeline {
        &self.plan.scopes[self.scope].pipeline
    }

    fn error(&mut self, path: &str, message: String) {
        let d = self.source().error(path, message);
        self.report.errors.push(d);
    }

    fn names(&mut self) {
        for s in self.plan.scopes.indices() {
            self.scope = s;
            for (name, path) in self.plan.scopes[s].duplicates.clone() {
                self.error(
                    &format!("{path}.task"),
                    format!("task name `{name}` is used twice: task names must be unique in the pipeline; rename one"),
                );
            }
            for (name, c) in self.plan.scopes[s].pipeline.components.clone() {
                if c.path.is_some() == c.pipeline.is_some() {
                    self.error(
                        &format!("components.{name}"),
                        format!("component `{name}` needs exactly one of `path` (a .wasm or .wat file) and `pipeline` (a pipeline file)"),
                    );
                }
            }
        }
        let mut groups = HashSet::new();
        for group in self.plan.groups.iter().skip(1).filter(|g| !g.iteration && g.sub.is_none()) {
            self.scope = group.scope;
            if !groups.insert(group.id.clone()) {
                self.error(
                    &format!("{}.name", group.doc_path),
                    format!("group `{}` is declared twice in the same place: rename one", group.name),
                );
            }
            if !plain_name(&group.name) {
                self.error(
                    &format!("{}.name", group.doc_path),
                    format!("group name `{}` may use only letters, digits, `-` and `_`", group.name),
                );
            }
        }
        let named = self.plan.tasks.iter().map(|t| (t.scope, &t.name, format!("{}.task", t.doc_path)));
        let subs = self
            .plan
            .groups
            .iter()
            .filter(|g| g.sub.is_some())
            .map(|g| (g.scope, &g.name, format!("{}.task", g.doc_path)));
        for (scope, name, path) in named.chain(subs).collect::<Vec<_>>() {
            if !plain_name(name) {
                self.scope = scope;
                self.error(&path, format!("task name `{name}` may use only letters, digits, `-` and `_`"));
            }
        }
    }

    /// Reports components that fail to load: fatal for exit tasks, a load failure otherwise.
    fn components(&mut self) {
        let mut reported = HashSet::new();
        for task in &self.plan.tasks {
            let Some(Err(e)) = self.components.get(&(task.scope, task.component.clone())) else {
                continue;
            };
            self.scope = task.scope;
            let declared = self.pipeline().components.get(&task.component);
            let e = match declared.and_then(|c| Some((c.build.as_ref()?, c.path.as_ref()?))) {
                Some((_, path)) if e.message.starts_with("cannot read component") => format!(
                    "component `{}` ({path}) is not built yet: it declares `build:`, so run `wasmpipe build` on the pipeline, or `wasmpipe run --build`",
                    task.component
                ),
                _ => e.to_string(),
            };
            if task.is_exit {
                let message = format!("exit task `{}` cannot run: {e}", task.name);
                self.error(&format!("{}.component", task.doc_path), message);
            } else if reported.insert((task.scope, task.component.clone())) {
                let d = self.source().error(
                    &format!("components.{}", task.component),
                    format!("{e} (its tasks will fail with kind `load`)"),
                );
                self.report.load_failures.push(d);
            }
        }
    }

    /// Checks the declarations of WASI command components: placeholders that name declared
    /// inputs and outputs, and outputs that can come from where they say.
    fn commands(&mut self) {
        for s in self.plan.scopes.indices() {
            self.scope = s;
            for (name, c) in self.plan.scopes[s].pipeline.components.clone() {
                let Some(spec) = &c.command else { continue };
                let at = format!("components.{name}.command");
                let templates = spec
                    .args
                    .iter()
                    .enumerate()
                    .map(|(i, a)| (format!("{at}.args[{i}]"), a))
                    .chain(spec.env.iter().map(|(k, v)| (format!("{at}.env.{k}"), v)));
                let mut errors = Vec::new();
                for (path, template) in templates {
                    match crate::model::template::placeholders(template) {
                        Err(e) => errors.push((path, e)),
                        Ok(found) => {
                            for (side, port) in found {
                                let known = if side == "inputs" {
                                    spec.inputs.contains_key(port)
                                } else {
                                    spec.outputs.contains_key(port)
                                };
                                if !known {
                                    errors.push((path.clone(), format!("`{{{{{side}.{port}}}}}`: command `{name}` declares no {} `{port}`; declare it under `command.{side}`", &side[..side.len() - 1])));
                                }
                            }
                        }
                    }
                }
                for (port, output) in &spec.outputs {
                    if output.ty == ValueType::Artifact && output.from == crate::model::OutputFrom::Stdout {
                        errors.push((
                            format!("{at}.outputs.{port}"),
                            format!("output `{port}` of command `{name}` is an artifact: it is written at `/out/{port}`, not read from stdout; remove `from: stdout`"),
                        ));
                    }
                    if !plain_name(port) {
                        errors.push((
                            format!("{at}.outputs.{port}"),
                            format!("output name `{port}` may use only letters, digits, `-` and `_`"),
                        ));
                    }
                }
                for (port, input) in &spec.inputs {
                    if !plain_name(port) {
                        errors.push((
                            format!("{at}.inputs.{port}"),
                            format!("input name `{port}` may use only letters, digits, `-` and `_`"),
                        ));
                    }
                    if input.ty == ValueType::Artifact && input.default.is_some() {
                        errors.push((
                            format!("{at}.inputs.{port}.default"),
                            format!("input `{port}` of command `{name}` is an artifact and cannot have a default; bind it in the task"),
                        ));
                    } else if let Some(d) = &input.default
                        && let Err(e) = input.ty.coerce(d.clone())
                    {
                        errors.push((
                            format!("{at}.inputs.{port}.default"),
                            format!("the default of input `{port}` does not match its type: {e}"),
                        ));
                    }
                }
                for (path, message) in errors {
                    self.error(&path, message);
                }
            }
        }
    }

    fn signature(&self, t: TaskIdx) -> Option<&Signature> {
        let task = &self.plan.tasks[t];
        match self.components.get(&(task.scope, task.component.clone())) {
            Some(Ok(c)) => Some(C::as_ref(c)),
            _ => None,
        }
    }

    fn task(&mut self, t: TaskIdx) {
        let task = &self.plan.tasks[t];
        let path = task.doc_path.clone();
        if !self.pipeline().components.contains_key(&task.component) {
            let known: Vec<&str> = self.pipeline().components.keys().map(String::as_str).collect();
            let message = format!(
                "task `{}` uses component `{}`, which is not declared under `components`; declared: {}",
                task.name,
                task.component,
                list_or_none(&known)
            );
            self.error(&format!("{path}.component"), message);
        }
        for after in &task.after {
            if after == &task.name {
                self.error(&format!("{path}.after"), format!("task `{after}` cannot run after itself"));
            } else if self.plan.lookup(task.scope, after).is_none() {
                self.error(&format!("{path}.after"), format!("`after: {after}` names no task of this pipeline"));
            }
        }
        self.grants(t);
        let signature = self.signature(t).cloned();
        for input in &task.inputs {
            let input_path = format!("{path}.inputs.{}", input.name);
            let binding = match &input.binding {
                Ok(b) => b.clone(),
                Err(e) => {
                    self.error(&input_path, format!("input `{}` of task `{}`: {e}", input.name, task.name));
                    continue;
                }
            };
            let source_type = self.binding_type(t, &binding, &input_path);
            let Some(sig) = &signature else { continue };
            let Some(spec) = sig.input(&input.name) else {
                let known: Vec<&str> = sig.inputs.iter().map(|i| i.name.as_str()).collect();
                self.error(
                    &input_path,
                    format!(
                        "component `{}` has no input `{}`; its inputs are: {}",
                        task.component,
                        input.name,
                        list_or_none(&known)
                    ),
                );
                continue;
            };
            match &spec.ty {
                PortType::FinalStatus => self.error(
                    &input_path,
                    format!(
                        "input `{}` has type final_status: wasmpipe fills it for exit tasks; remove the binding",
                        input.name
                    ),
                ),
                PortType::Artifact { kind, directory } => {
                    self.check_input_type(
                        &input_path,
                        &input.name,
                        &task.name,
                        ValueType::Artifact,
                        &binding,
                        source_type,
                    );
                    if let Some((from_kind, from_dir)) = self.artifact_source(task.scope, &binding)
                        && !artifact::kinds_match((&from_kind, from_dir.unwrap_or(*directory)), (kind, *directory))
                    {
                        let shape = |d: bool| if d { "a directory" } else { "a file" };
                        let got = match from_dir {
                            Some(d) => format!("{from_kind}, {}", shape(d)),
                            None => from_kind,
                        };
                        self.error(
                            &input_path,
                            format!(
                                "input `{}` of task `{}` takes a {kind} artifact ({}), but it is bound to a {got} artifact; bind one of kind {kind}, or make the input's kind `Artifact` to take any",
                                input.name,
                                task.name,
                                shape(*directory)
                            ),
                        );
                    }
                }
                PortType::Value(want) => {
                    self.check_input_type(&input_path, &input.name, &task.name, *want, &binding, source_type);
                }
            }
            if task.ignore_upstream_failure
                && spec.required
                && binding.refs().iter().any(|r| matches!(r, Ref::Output { .. }))
            {
                self.error(
                    &input_path,
                    format!(
                        "task `{}` ignores upstream failures, so its required input `{}` may get no value from a failed producer; make the input optional or bind it to a parameter or literal",
                        task.name, input.name
                    ),
                );
            }
            if task.is_exit
                && spec.required
                && let Some(producer) = self.body_producer(t, &binding)
            {
                self.error(
                        &input_path,
                        format!(
                            "exit task `{}` binds its required input `{}` to body task `{producer}`, which may fail and produce nothing; make the input optional: an exit task runs however its body ended, so it reads body outputs only as optional inputs",
                            task.name, input.name
                        ),
                    );
            }
        }
        if let Some(sig) = &signature {
            for spec in &sig.inputs {
                if spec.required && spec.ty != PortType::FinalStatus && !task.inputs.iter().any(|i| i.name == spec.name)
                {
                    self.error(
                        &format!("{path}.inputs"),
                        format!(
                            "task `{}` does not bind the required input `{}` ({}) of component `{}`",
                            task.name, spec.name, spec.ty, task.component
                        ),
                    );
                }
            }
        }
    }

    /// Checks that `binding` fits input `input` (of type `want`) of task `task`: a literal must
    /// convert to the type, and a reference's type `got` (where known) must be accepted.
    fn check_input_type(
        &mut self,
        path: &str,
        input: &str,
        task: &str,
        want: ValueType,
        binding: &Binding,
        got: Option<ValueType>,
    ) {
        let artifact_in = want == ValueType::Artifact;
        if artifact_in && (!matches!(binding, Binding::Ref(_)) || got.is_some_and(|g| g != ValueType::Artifact)) {
            self.error(
                path,
                format!(
                    "input `{input}` of task `{task}` takes an artifact: bind it to an artifact output (`{{{{tasks.TASK.outputs.NAME}}}}`) or an artifact parameter (`{{{{params.NAME}}}}`)"
                ),
            );
        } else if !artifact_in && got == Some(ValueType::Artifact) {
            self.error(
                path,
                format!(
                    "input `{input}` of task `{task}` is {want}, but it is bound to an artifact; only an artifact input can take one"
                ),
            );
        } else if let Binding::Literal(v) = binding {
            if let Err(e) = want.coerce(v.clone()) {
                self.error(path, format!("input `{input}` of task `{task}` is {want}: {e}"));
            }
        } else if let Some(got) = got
            && !want.accepts(got)
        {
            self.error(
                path,
                format!(
                    "input `{input}` of task `{task}` is {want}, but it is bound to a {got} value; bind a {want} (an int may feed a float, not the reverse)"
                ),
            );
        }
    }

    /// Checks what task `t` is granted of the host: absolute guest paths, host directories that
    /// exist, host variables that are set.
    fn grants(&mut self, t: TaskIdx) {
        let task = &self.plan.tasks[t];
        let path = task.doc_path.clone();
        let mut errors = Vec::new();
        for (guest, host) in &task.grants.dirs {
            if !guest.starts_with('/') {
                errors.push((format!("{path}.dirs"), format!("guest path `{guest}` must be absolute, like `/data`")));
            }
            if !host.is_dir() {
                errors.push((
                    format!("{path}.dirs.{guest}"),
                    format!("host directory `{}` (for `{guest}`) does not exist or is not a directory", host.display()),
                ));
            }
        }
        for name in &task.grants.host_env {
            if std::env::var_os(name).is_none() {
                errors.push((
                    format!("{path}.host_env"),
                    format!("task `{}` passes through host variable `{name}`, which is not set; set it or remove it from `host_env`", task.name),
                ));
            }
        }
        for (at, message) in errors {
            self.error(&at, message);
        }
    }

    /// The kind of the artifact that `binding` (read in scope `scope`) passes, and whether it
    /// is a directory (None: either), where the pipeline tells.
    fn artifact_source(&self, scope: ScopeIdx, binding: &Binding) -> Option<(String, Option<bool>)> {
        let Binding::Ref(r) = binding else { return None };
        match r {
            Ref::Output { task, output } => {
                let Node::Task(p) = self.plan.lookup(scope, task)? else { return None };
                match &self.signature(p)?.output(output)?.ty {
                    PortType::Artifact { kind, directory } => Some((kind.clone(), Some(*directory))),
                    _ => None,
                }
            }
            Ref::Param(name) => {
                let param = self.plan.scopes[scope].pipeline.params.get(name)?;
                (param.ty == ValueType::Artifact)
                    .then(|| (param.kind.clone().unwrap_or_else(|| "Artifact".into()), param.directory))
            }
            Ref::Item { .. } => None,
        }
    }

    /// The name of a body task that `binding` (of exit task `t`) reads, if any.
    fn body_producer(&self, t: TaskIdx, binding: &Binding) -> Option<String> {
        let (group, scope) = (self.plan.tasks[t].group, self.plan.tasks[t].scope);
        binding.refs().into_iter().find_map(|r| match r {
            Ref::Output { task, .. } => match self.plan.lookup(scope, task)? {
                Node::Task(p) => (p != t && self.plan.task_in_group(p, group)).then(|| task.clone()),
                Node::Sub(g) => self.plan.group_within(g, group).then(|| task.clone()),
            },
            _ => None,
        })
    }

    /// The declared type of what a binding produces, reporting unknown references.
    /// `consumer` is None for pipeline outputs, conditions and loop items; `from` is the group
    /// the binding is read from.
    fn binding_type_for(
        &mut self,
        consumer: Option<TaskIdx>,
        from: GroupIdx,
        binding: &Binding,
        path: &str,
    ) -> Option<ValueType> {
        let mut types = Vec::new();
        for r in binding.refs() {
            match r {
                Ref::Item { var, field } => match self.plan.loop_of_var(from, var) {
                    Some(l) => match self.item_type(l, field.as_deref(), path) {
                        Some(ty) => types.push(ty),
                        None => return None,
                    },
                    None => {
                        self.error(
                            path,
                            format!("`{r}` is not a reference: write `{{{{params.NAME}}}}`, `{{{{tasks.TASK.outputs.OUTPUT}}}}` or `{{{{tasks.TASK.output}}}}`; `{{{{{var}}}}}` reads a loop item only inside a `parallel_for` whose item is called `{var}` (a loop names its item with `as:`)"),
                        );
                        return None;
                    }
                },
                Ref::Param(name) => match self.pipeline().params.get(name) {
                    Some(p) => types.push(p.ty),
                    None => {
                        let known: Vec<&str> = self.pipeline().params.keys().map(String::as_str).collect();
                        self.error(
                            path,
                            format!("`{r}` names no parameter; declared parameters: {}", list_or_none(&known)),
                        );
                        return None;
                    }
                },
                Ref::Output { task, output } => {
                    let p = match self.plan.lookup(self.scope, task) {
                        Some(Node::Task(p)) => p,
                        Some(node @ Node::Sub(g)) => {
                            let inner = self.plan.groups[g].sub.as_ref().map(|s| s.scope).unwrap_or(ScopeIdx::ROOT);
                            let fan_in = !self.plan.loops_between(node, from).is_empty();
                            match self.output_types.get(&(inner, output.clone())) {
                                Some(ty) if fan_in => types.push(ty.map(|_| ValueType::List).unwrap_or(ValueType::Any)),
                                Some(ty) => types.push(ty.unwrap_or(ValueType::Any)),
                                None => {
                                    let known: Vec<&str> =
                                        self.plan.scopes[inner].outputs.keys().map(String::as_str).collect();
                                    self.error(
                                        path,
                                        format!("`{r}`: sub-pipeline task `{task}` has no output `{output}`; its pipeline's outputs are: {}", list_or_none(&known)),
                                    );
                                    return None;
                                }
                            }
                            continue;
                        }
                        None => {
                            self.error(
                                path,
                                format!("`{r}` names no task: there is no task `{task}` in this pipeline"),
                            );
                            return None;
                        }
                    };
                    if let Some(c) = consumer {
                        if p == c {
                            self.error(path, format!("`{r}`: task `{task}` cannot read its own output"));
                            return None;
                        }
                        let exit_of = self.plan.tasks[p].is_exit.then_some(self.plan.tasks[p].group);
                        if exit_of.is_some_and(|g| self.plan.task_in_group(c, g)) {
                            self.error(
                                path,
                                format!("`{r}`: a task inside an exit handler's body cannot read that handler's exit task, which runs after it"),
                            );
                            return None;
                        }
                    }
                    // A reader outside a loop collects the output of every iteration: a list.
                    let fan_in = !self.plan.loops_between(Node::Task(p), from).is_empty();
                    let sig = self.signature(p)?;
                    match sig.output(output) {
                        Some(spec) => match &spec.ty {
                            PortType::Value(_) if fan_in => types.push(ValueType::List),
                            PortType::Value(t) => types.push(*t),
                            PortType::Artifact { .. } if fan_in => {
                                self.error(
                                    path,
                                    format!("`{r}` is an artifact made inside a loop; collecting artifacts over a loop's iterations is not supported yet: read it inside the loop"),
                                );
                                return None;
                            }
                            PortType::Artifact { .. } => types.push(ValueType::Artifact),
                            other => {
                                self.error(
                                    path,
                                    format!("`{r}` is an output of type {other}, which cannot be bound here"),
                                );
                                return None;
                            }
                        },
                        None => {
                            let known: Vec<&str> = sig.outputs.iter().map(|o| o.name.as_str()).collect();
                            let comp = self.plan.tasks[p].component.clone();
                            self.error(
                                path,
                                format!(
                                    "`{r}`: component `{comp}` of task `{task}` has no output `{output}`; its outputs are: {}",
                                    list_or_none(&known)
                                ),
                            );
                            return None;
                        }
                    }
                }
            }
        }
        match binding {
            Binding::Literal(v) => Some(ValueType::of(v)),
            Binding::Format(_) if types.contains(&ValueType::Artifact) => {
                self.error(
                    path,
                    "an artifact cannot be formatted into a string; bind it alone (`\"{{tasks.TASK.outputs.NAME}}\"`) to an artifact input".into(),
                );
                None
            }
            Binding::Ref(_) => types.pop(),
            Binding::Format(_) => Some(ValueType::String),
        }
    }

    fn binding_type(&mut self, consumer: TaskIdx, binding: &Binding, path: &str) -> Option<ValueType> {
        self.binding_type_for(Some(consumer), self.plan.tasks[consumer].group, binding, path)
    }

    /// The type of the item of loop `l` (or of its `field`), as far as a literal list of items
    /// tells: the one type all of them share, else `any`. Reports a field that a literal item
    /// lacks.
    fn item_type(&mut self, l: GroupIdx, field: Option<&str>, path: &str) -> Option<ValueType> {
        let Some(LoopInfo { items: Ok(Binding::Literal(Value::Array(items))), var, .. }) =
            self.plan.groups[l].looping.clone()
        else {
            return Some(ValueType::Any);
        };
        let mut types = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let value = match field {
                None => item,
                Some(f) => match item.get(f) {
                    Some(v) => v,
                    None => {
                        let loop_path = self.plan.groups[l].doc_path.clone();
                        self.error(
                            path,
                            format!("`{{{{{var}.{f}}}}}`: item {i} of loop `{}` ({item}) has no field `{f}`; give every item the field (items are at {loop_path}.items)", self.plan.groups[l].id),
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

    /// Checks `parallel_for` groups: the items' binding and type, the variable's name,
    /// `parallelism`, and that the items read nothing inside the loop.
    fn loops(&mut self) {
        for l in self.plan.groups.indices() {
            let Some(looping) = self.plan.groups[l].looping.clone() else { continue };
            self.scope = self.plan.groups[l].scope;
            let path = self.plan.groups[l].doc_path.clone();
            if !crate::model::binding::is_var(&looping.var) {
                self.error(
                    &format!("{path}.as"),
                    format!("`as: {}`: a loop variable is a plain name (letters, digits, `-`, `_`) other than `params` and `tasks`", looping.var),
                );
            }
            if looping.parallelism == Some(0) {
                self.error(&format!("{path}.parallelism"), "`parallelism` must be at least 1".into());
            }
            let items_path = format!("{path}.items");
            let binding = match looping.items {
                Ok(b) => b,
                Err(e) => {
                    self.error(&items_path, format!("the items are not valid: {e}"));
                    continue;
                }
            };
            if let Binding::Format(_) = binding {
                self.error(&items_path, "the items must be a list, or exactly one reference to a list (`\"{{params.NAME}}\"`, `\"{{tasks.TASK.output}}\"`), not text".into());
                continue;
            }
            for r in binding.refs() {
                if let Ref::Output { task, .. } = r
                    && let Some(node) = self.plan.lookup(self.scope, task)
                    && self.plan.group_within(self.plan.node_group(node), l)
                {
                    self.error(
                        &items_path,
                        format!(
                            "the items read `{r}`, a task inside the loop itself; they must come from before the loop"
                        ),
                    );
                }
            }
            let parent = self.plan.groups[l].parent.unwrap_or(GroupIdx::ROOT);
            match self.binding_type_for(None, parent, &binding, &items_path) {
                Some(ValueType::List | ValueType::Any) | None => {}
                Some(other) => self.error(
                    &items_path,
                    format!("the items must be a list, but they are {other}; loop over a list literal, a `list` parameter or a `list` output"),
                ),
            }
        }
    }

    /// Checks the outputs of scope `s` and notes their types for the sub-pipeline's readers.
    fn outputs(&mut self, s: ScopeIdx) {
        self.scope = s;
        let from = self.plan.scopes[s].group;
        for (name, binding) in self.plan.scopes[s].outputs.clone() {
            let path = format!("outputs.{name}");
            if !plain_name(&name) {
                self.error(&path, format!("pipeline output name `{name}` may use only letters, digits, `-` and `_`"));
            }
            let ty = match binding {
                Ok(Binding::Literal(_)) => {
                    self.error(&path, format!("pipeline output `{name}` must reference a task output, like `{{{{tasks.TASK.outputs.OUTPUT}}}}`"));
                    None
                }
                Ok(b) => self.binding_type_for(None, from, &b, &path),
                Err(e) => {
                    self.error(&path, format!("pipeline output `{name}`: {e}"));
                    None
                }
            };
            self.output_types.insert((s, name), ty);
        }
    }

    /// Checks `if`/`elif`/`else` groups: their place, their condition's syntax, references and
    /// types, and that a condition reads nothing inside its own branch.
    fn branches(&mut self) {
        for s in self.plan.scopes.indices() {
            self.scope = s;
            for path in self.plan.scopes[s].misplaced_branches.clone() {
                self.error(&path, "`elif` and `else` must directly follow an `if` or `elif` step".into());
            }
        }
        for h in self.plan.groups.indices() {
            let Some(branch) = self.plan.groups[h].branch.clone() else { continue };
            self.scope = self.plan.groups[h].scope;
            let path = format!("{}.condition", self.plan.groups[h].doc_path);
            let expr = match branch.condition {
                None => continue,
                Some(Err(e)) => {
                    self.error(&path, format!("the condition is not valid: {e}"));
                    continue;
                }
                Some(Ok(expr)) => expr,
            };
            let mut types = HashMap::new();
            let mut known = true;
            for r in expr.refs() {
                let ty = self.binding_type_for(None, h, &Binding::Ref(r.clone()), &path);
                known &= ty.is_some();
                if let Ref::Output { task, .. } = r
                    && let Some(node) = self.plan.lookup(self.scope, task)
                    && self.plan.group_within(self.plan.node_group(node), h)
                {
                    self.error(&path, format!("the condition reads `{r}`, a task inside its own branch; it must read tasks that run before the branch"));
                    known = false;
                }
                types.insert(r.clone(), ty);
            }
            if known && let Err(e) = expr.check(&|r| types.get(r).copied().flatten()) {
                self.error(&path, format!("the condition compares values of different types: {e}"));
            }
        }
    }

    /// Checks tasks that run a sub-pipeline: their inputs against the sub-pipeline's parameters
    /// (names, types, required ones bound), and what a sub-pipeline may not set.
    fn subs(&mut self) {
        for g in self.plan.groups.indices() {
            let Some(sub) = self.plan.groups[g].sub.clone() else { continue };
            let inner = self.plan.scopes[sub.scope].pipeline.clone();
            let (name, path) = (self.plan.groups[g].name.clone(), self.plan.groups[g].doc_path.clone());
            self.scope = sub.scope;
            if inner.deadline.is_some() {
                self.error("deadline", format!("sub-pipeline `{}` sets `deadline`, which applies to a whole run only; set it on the top-level pipeline or with `--deadline`", inner.name));
            }
            self.scope = self.plan.groups[g].scope;
            let parent = self.plan.groups[g].parent.unwrap_or(GroupIdx::ROOT);
            for input in &sub.inputs {
                let input_path = format!("{path}.inputs.{}", input.name);
                let binding = match &input.binding {
                    Ok(b) => b,
                    Err(e) => {
                        self.error(&input_path, format!("input `{}` of task `{name}`: {e}", input.name));
                        continue;
                    }
                };
                let got = self.binding_type_for(None, parent, binding, &input_path);
                let Some(param) = inner.params.get(&input.name) else {
                    let known: Vec<&str> = inner.params.keys().map(String::as_str).collect();
                    self.error(
                        &input_path,
                        format!(
                            "sub-pipeline `{}` (component `{}`) has no parameter `{}`; its parameters are: {}",
                            inner.name,
                            sub.component,
                            input.name,
                            list_or_none(&known)
                        ),
                    );
                    continue;
                };
                self.check_input_type(&input_path, &input.name, &name, param.ty, binding, got);
            }
            for (param, spec) in &inner.params {
                if spec.default.is_none() && !sub.inputs.iter().any(|i| &i.name == param) {
                    self.error(
                        &format!("{path}.inputs"),
                        format!("task `{name}` does not bind parameter `{param}` ({}) of sub-pipeline `{}`, which has no default", spec.ty, inner.name),
                    );
                }
            }
            for after in &sub.after {
                if self.plan.lookup(self.scope, after).is_none() {
                    self.error(&format!("{path}.after"), format!("`after: {after}` names no task of this pipeline"));
                }
            }
        }
    }

    /// Reports each cycle among the children of each group once, naming the tasks in it.
    fn cycles(&mut self) {
        for g in self.plan.groups.indices() {
            let group = &self.plan.groups[g];
            self.scope = group.sub.as_ref().map(|s| s.scope).unwrap_or(group.scope);
            let children = self.plan.groups[g].children.clone();
            let deps: HashMap<Child, Vec<Child>> = children
                .iter()
                .zip(&self.plan.waits[g])
                .map(|(&c, waits)| (c, waits.iter().map(|&p| children[p]).collect()))
                .collect();
            let mut state: HashMap<Child, u8> = HashMap::new(); // 1 = on the stack, 2 = done
            let mut stack = Vec::new();
            for &c in &children {
                if let Some(cycle) = find_cycle(c, &deps, &mut state, &mut stack) {
                    let ids: Vec<&str> = cycle.iter().map(|&c| self.plan.child_id(c)).collect();
                    let first = cycle[0];
                    let path = match first {
                        Child::Task(t) => self.plan.tasks[t].doc_path.clone(),
                        Child::Group(h) => self.plan.groups[h].doc_path.clone(),
                    };
                    self.error(
                        &path,
                        format!(
                            "these steps depend on each other in a cycle: {} -> {}; remove one of the references or `after` entries",
                            ids.join(" -> "),
                            ids[0]
                        ),
                    );
                }
            }
        }
    }
}

fn find_cycle(
    c: Child,
    deps: &HashMap<Child, Vec<Child>>,
    state: &mut HashMap<Child, u8>,
    stack: &mut Vec<Child>,
) -> Option<Vec<Child>> {
    match state.get(&c) {
        Some(2) => return None,
        Some(1) => {
            let start = stack.iter().position(|&s| s == c).unwrap_or(0);
            return Some(stack[start..].to_vec());
        }
        _ => {}
    }
    state.insert(c, 1);
    stack.push(c);
    for &d in deps.get(&c).map(Vec::as_slice).unwrap_or_default() {
        if let Some(cycle) = find_cycle(d, deps, state, stack) {
            // Mark the rest done so the same cycle is reported once.
            for s in stack.drain(..) {
                state.insert(s, 2);
            }
            return Some(cycle);
        }
    }
    stack.pop();
    state.insert(c, 2);
    None
}

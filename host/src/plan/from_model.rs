//! Building a [`Plan`] from a loaded pipeline file: groups, task templates, ids, bindings and
//! dependencies. A task whose component is a pipeline file becomes a group that holds that
//! pipeline's steps, in a naming scope of its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{
    Alternatives, BranchInfo, Child, GroupIdx, Idx, IdxVec, LoopInfo, MAX_RECURSION, Node, Plan, PlanGroup, PlanInput,
    PlanTask, Recursion, Scope, ScopeIdx, SubInfo, TaskIdx, join_id,
};
use crate::model::binding::{Binding, Ref};
use crate::model::component::ComponentSource;
use crate::model::condition::Expr;
use crate::model::load::{self, Loaded, SourceMap};
use crate::model::policy::{Grants, TaskLimits};
use crate::model::value::ValueType;
use crate::model::{Step, Task};

/// How deep sub-pipelines may nest (pipeline files, the top one included); deeper is refused,
/// which also bounds how deep groups nest in a run (each file bounds its own by the YAML
/// nesting limit).
const MAX_DEPTH: usize = 16;

impl Plan {
    /// Builds the plan of a loaded pipeline file, reading the sub-pipeline files it uses.
    pub(crate) fn build(loaded: Loaded) -> Plan {
        let Loaded { pipeline, source, base_dir } = loaded;
        let root = PlanGroup {
            id: String::new(),
            name: pipeline.name.clone(),
            parent: None,
            children: Vec::new(),
            exit: None,
            branch: None,
            looping: None,
            iteration: false,
            max_running: pipeline.parallelism.map(|p| p as usize),
            fail_fast: pipeline.fail_fast,
            sub: None,
            scope: ScopeIdx::ROOT,
            doc_path: String::new(),
        };
        let mut plan = Plan {
            name: pipeline.name.clone(),
            tasks: IdxVec::new(),
            groups: [root].into_iter().collect(),
            scopes: IdxVec::new(),
            deadline: pipeline.deadline.map(|d| d.0),
            errors: Vec::new(),
            waits: IdxVec::new(),
            one_of_waits: IdxVec::new(),
        };
        let file = source.file.canonicalize().unwrap_or_else(|_| source.file.clone());
        plan.add_scope(Loaded { pipeline, source, base_dir }, GroupIdx::ROOT, &mut vec![file]);
        plan.resolve_deps();
        plan.compute_waits();
        plan
    }

    /// Adds the scope of a pipeline file whose steps go into group `group`; `files` are the
    /// pipeline files being read, outermost first (to refuse a pipeline that uses itself).
    fn add_scope(&mut self, loaded: Loaded, group: GroupIdx, files: &mut Vec<PathBuf>) -> ScopeIdx {
        let Loaded { mut pipeline, source, base_dir } = loaded;
        let s = self.scopes.next_idx();
        if s != ScopeIdx::ROOT {
            // A sub-pipeline's artifact parameter defaults to a file beside it (the top
            // pipeline's are resolved with `-a` by `validate::resolve_params`).
            self.import_defaults(&mut pipeline, &source, &base_dir);
        }
        let components = pipeline
            .components
            .iter()
            .filter_map(|(name, c)| {
                let path = base_dir.join(c.path.as_ref()?);
                Some((name.clone(), ComponentSource { path, command: c.command.clone() }))
            })
            .collect();
        self.scopes.push(Scope {
            outputs: pipeline.outputs.iter().map(|(k, v)| (k.clone(), Binding::parse(v))).collect(),
            pipeline: pipeline.clone(),
            source,
            by_name: HashMap::new(),
            duplicates: Vec::new(),
            beyond: false,
            unread: false,
            components,
            group,
            misplaced_branches: Vec::new(),
        });
        let mut builder = Builder { plan: self, scope: s, base_dir: &base_dir, files, unnamed: 0 };
        builder.add_steps(group, &pipeline.steps, "steps");
        s
    }

    /// Replaces the path each artifact parameter of `pipeline` gives as its default by the
    /// artifact at that path (relative to `base_dir`), or reports why it cannot.
    fn import_defaults(&mut self, pipeline: &mut crate::model::Pipeline, source: &SourceMap, base_dir: &Path) {
        for (name, param) in pipeline.params.iter_mut() {
            let Some(Value::String(file)) = param.default.clone().filter(|_| param.ty == ValueType::Artifact) else {
                continue;
            };
            let kind = param.kind.as_deref().unwrap_or("Artifact");
            let path = std::path::absolute(base_dir.join(&file)).unwrap_or_else(|_| base_dir.join(&file));
            match crate::model::artifact::reference(name, &path, kind, param.directory) {
                Ok(artifact) => param.default = Some(artifact.to_value()),
                Err(e) => {
                    self.errors.push(source.error(&format!("params.{name}.default"), format!("{e}; fix the path")))
                }
            }
        }
    }

    /// Fills in what each task, condition, loop and sub-pipeline reads, by name in its scope.
    fn resolve_deps(&mut self) {
        for t in self.tasks.indices() {
            let task = &self.tasks[t];
            let bindings = || task.inputs.iter().filter_map(|i| i.binding.as_ref().ok());
            // A `one_of` waits for one of its producers, not all: apart.
            // ... except for its fallback, an ordinary dependency.
            let fallbacks = bindings().filter_map(|b| match b {
                Binding::OneOf(refs) if self.one_of_fallback(task.scope, refs) => refs.last(),
                _ => None,
            });
            let refs = bindings().filter(|b| !matches!(b, Binding::OneOf(_))).flat_map(Binding::refs);
            let deps = self.deps_of(task.scope, refs.chain(fallbacks), &task.after);
            let alternatives = bindings()
                .filter_map(|b| match b {
                    Binding::OneOf(refs) => {
                        let fallback = self.one_of_fallback(task.scope, refs);
                        let branches = &refs[..refs.len() - usize::from(fallback)];
                        Some(Alternatives { branches: self.deps_of(task.scope, branches.iter(), &[]), fallback })
                    }
                    _ => None,
                })
                .collect();
            self.tasks[t].deps = deps;
            self.tasks[t].alternatives = alternatives;
        }
        for g in self.groups.indices() {
            let group = &self.groups[g];
            let (refs, after): (Vec<&Ref>, &[String]) = match (&group.branch, &group.looping, &group.sub) {
                (Some(BranchInfo { condition: Some(Ok(expr)), .. }), _, _) => (expr.refs(), &[]),
                (_, Some(LoopInfo { items: Ok(items), .. }), _) => (items.refs(), &[]),
                (_, _, Some(sub)) => (
                    sub.inputs.iter().filter_map(|i| i.binding.as_ref().ok()).flat_map(Binding::refs).collect(),
                    &sub.after,
                ),
                _ => continue,
            };
            let deps = self.deps_of(group.scope, refs.into_iter(), after);
            let group = &mut self.groups[g];
            if let Some(branch) = group.branch.as_mut() {
                branch.deps = deps;
            } else if let Some(looping) = group.looping.as_mut() {
                looping.deps = deps;
            } else if let Some(sub) = group.sub.as_mut() {
                sub.deps = deps;
            }
        }
    }

    /// The tasks and sub-pipelines that `refs` and `after` name in `scope`.
    fn deps_of<'r>(&self, scope: ScopeIdx, refs: impl Iterator<Item = &'r Ref>, after: &[String]) -> Vec<Child> {
        let named = refs
            .filter_map(|r| match r {
                Ref::Output { task, .. } => Some(task),
                _ => None,
            })
            .chain(after);
        let mut deps: Vec<Child> = named
            .filter_map(|name| match self.lookup(scope, name)? {
                Node::Task(t) => Some(Child::Task(t)),
                Node::Sub(g) => Some(Child::Group(g)),
            })
            .collect();
        deps.sort_unstable_by_key(|c| match c {
            Child::Task(t) => (0, t.index()),
            Child::Group(g) => (1, g.index()),
        });
        deps.dedup();
        deps
    }
}

/// Adds one scope's steps to the plan.
struct Builder<'a> {
    plan: &'a mut Plan,
    scope: ScopeIdx,
    base_dir: &'a Path,
    files: &'a mut Vec<PathBuf>,
    /// Unnamed groups so far in this scope, for `condition-N`, `exit-handler-N`, `for-loop-N`.
    unnamed: usize,
}

impl Builder<'_> {
    fn add_steps(&mut self, group: GroupIdx, steps: &[Step], path: &str) {
        let mut chain: Option<GroupIdx> = None;
        for (i, step) in steps.iter().enumerate() {
            let step_path = format!("{path}[{i}]");
            let (key, name, condition, fail_fast, branch_steps) = match step {
                Step::If(s) => ("if", &s.branch.name, Some(&s.branch.condition), s.branch.fail_fast, &s.branch.steps),
                Step::Elif(s) => ("elif", &s.elif.name, Some(&s.elif.condition), s.elif.fail_fast, &s.elif.steps),
                Step::Else(s) => ("else", &s.branch.name, None, s.branch.fail_fast, &s.branch.steps),
                _ => ("", &None, None, false, &Vec::new()),
            };
            if !key.is_empty() {
                let prev = if key == "if" { None } else { chain };
                if key != "if" && prev.is_none() {
                    self.scope_mut().misplaced_branches.push(format!("{step_path}.{key}"));
                }
                let group_path = format!("{step_path}.{key}");
                let branch = BranchInfo {
                    condition: condition.map(|c| Expr::parse(c)),
                    text: condition.cloned(),
                    key,
                    prev,
                    deps: Vec::new(),
                };
                let g = self.add_group(group, name, "condition", group_path.clone());
                self.plan.groups[g].branch = Some(branch);
                self.plan.groups[g].fail_fast = fail_fast;
                self.add_steps(g, branch_steps, &format!("{group_path}.steps"));
                chain = (key != "else").then_some(g);
                continue;
            }
            chain = None;
            match step {
                Step::If(_) | Step::Elif(_) | Step::Else(_) => unreachable!("handled above"),
                Step::ParallelFor(step) => {
                    let spec = &step.parallel_for;
                    let group_path = format!("{step_path}.parallel_for");
                    let looping = LoopInfo {
                        items: Binding::parse(&spec.items),
                        var: spec.var.clone().unwrap_or_else(|| "item".into()),
                        parallelism: spec.parallelism.map(|p| p as usize),
                        label: match &spec.items {
                            serde_json::Value::Array(items) => format!("{} items", items.len()),
                            serde_json::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        },
                        deps: Vec::new(),
                    };
                    let g = self.add_group(group, &spec.name, "for-loop", group_path.clone());
                    self.plan.groups[g].looping = Some(looping);
                    self.plan.groups[g].fail_fast = spec.fail_fast;
                    let iteration = self.add_group(g, &Some("*".into()), "", group_path.clone());
                    self.plan.groups[iteration].iteration = true;
                    self.add_steps(iteration, &spec.steps, &format!("{group_path}.steps"));
                }
                Step::Task(task) => {
                    if let Some(sub) = self.sub_pipeline_of(task) {
                        self.add_sub(group, task, sub, step_path);
                    } else {
                        let t = self.add_task(group, task, false, step_path);
                        self.plan.groups[group].children.push(Child::Task(t));
                    }
                }
                Step::ExitHandler(step) => {
                    let eh = &step.exit_handler;
                    let group_path = format!("{step_path}.exit_handler");
                    let g = self.add_group(group, &eh.name, "exit-handler", group_path.clone());
                    self.plan.groups[g].fail_fast = eh.fail_fast;
                    self.add_steps(g, &eh.steps, &format!("{group_path}.steps"));
                    let exit = self.add_task(g, &eh.exit, true, format!("{group_path}.exit"));
                    self.plan.groups[g].exit = Some(exit);
                }
            }
        }
    }

    fn scope_mut(&mut self) -> &mut Scope {
        &mut self.plan.scopes[self.scope]
    }

    /// The pipeline file that `task`'s component names, if it names one.
    fn sub_pipeline_of(&self, task: &Task) -> Option<PathBuf> {
        let component = self.plan.scopes[self.scope].pipeline.components.get(&task.component)?;
        component.pipeline.as_ref().map(|p| self.base_dir.join(p))
    }

    /// Adds a task that runs the sub-pipeline in `file`: a group named after the task, holding
    /// the sub-pipeline's steps in a scope of their own.
    fn add_sub(&mut self, parent: GroupIdx, task: &Task, file: PathBuf, doc_path: String) {
        let g = self.add_group(parent, &Some(task.task.clone()), "", doc_path.clone());
        if self.scope_mut().by_name.insert(task.task.clone(), Node::Sub(g)).is_some() {
            self.scope_mut().duplicates.push((task.task.clone(), doc_path.clone()));
        }
        let inputs =
            task.inputs.iter().map(|(name, v)| PlanInput { name: name.clone(), binding: Binding::parse(v) }).collect();
        let sub = SubInfo {
            scope: ScopeIdx::ROOT,
            component: task.component.clone(),
            inputs,
            after: task.after.clone(),
            deps: Vec::new(),
            options: task_options(task),
            recursion: None,
        };
        self.plan.groups[g].sub = Some(sub);
        let canonical = file.canonicalize().unwrap_or_else(|_| file.clone());
        let source = &self.plan.scopes[self.scope].source;
        let at = |message: String| source.error(&format!("{doc_path}.component"), message);
        let max_depth = self.plan.scopes[self.scope].pipeline.components.get(&task.component).and_then(|c| c.max_depth);
        // Past the range validation allows, the plan stops where the range does.
        let max = max_depth.unwrap_or(0).min(MAX_RECURSION);
        // How deep this call of a pipeline by itself is (0: not such a call).
        let depth = self.files.iter().filter(|f| **f == canonical).count() as u32;
        let distinct = self.files.iter().collect::<std::collections::HashSet<_>>().len();
        let mut recursion = None;
        let loaded = if depth > 0 && max_depth.is_none() {
            Err(vec![at(format!(
                "task `{}` runs pipeline `{}`, which is already being read: a pipeline uses itself only through a component with `max_depth: N` (it may then call itself up to N levels deep); add it, or use another pipeline",
                task.task,
                file.display()
            ))])
        } else if depth > 0 && depth > max + 1 {
            // Past the level that fails when reached: never reached, so empty.
            Ok(Loaded {
                pipeline: crate::model::Pipeline::empty(&task.task),
                source: load::SourceMap::for_file(&file),
                base_dir: self.base_dir.to_path_buf(),
            })
        } else if depth == 0 && distinct >= MAX_DEPTH {
            Err(vec![at(format!(
                "task `{}` runs pipeline `{}` at a depth of {} pipeline files: sub-pipelines may nest at most {MAX_DEPTH} deep; flatten some of them",
                task.task,
                file.display(),
                distinct + 1
            ))])
        } else if !file.is_file() {
            Err(vec![at(format!(
                "task `{}` runs pipeline file `{}` (component `{}`), which does not exist; check the `pipeline:` path, relative to this file",
                task.task,
                file.display(),
                task.component
            ))])
        } else {
            if depth > 0 {
                let beyond = (depth > max).then(|| {
                    format!(
                        "pipeline `{}` would run itself {depth} levels deep, past component `{}`'s `max_depth: {max}`; raise `max_depth`, or make the recursion end sooner",
                        file.display(),
                        task.component
                    )
                });
                recursion = Some(Recursion { max_depth: max, beyond });
            }
            load::load_file(&file).map_err(|d| d.errors)
        };
        if let Some(sub) = self.plan.groups[g].sub.as_mut() {
            sub.recursion = recursion;
        }
        let unread = loaded.is_err();
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(errors) => {
                self.plan.errors.extend(errors);
                // An empty scope keeps names resolving, so the error above is the only one.
                let pipeline = crate::model::Pipeline::empty(&task.task);
                Loaded { pipeline, source: load::SourceMap::for_file(&file), base_dir: self.base_dir.to_path_buf() }
            }
        };
        self.plan.groups[g].max_running = loaded.pipeline.parallelism.map(|p| p as usize);
        self.plan.groups[g].fail_fast = loaded.pipeline.fail_fast;
        self.files.push(canonical);
        let beyond = depth > max;
        let inner = self.plan.add_scope(loaded, g, self.files);
        self.files.pop();
        self.plan.scopes[inner].beyond = beyond;
        self.plan.scopes[inner].unread = unread;
        if let Some(sub) = self.plan.groups[g].sub.as_mut() {
            sub.scope = inner;
        }
    }

    /// Adds a group as the next child of `parent`; an unnamed one is called `{kind}-N`, N
    /// counting unnamed groups across the scope (as KFP names them).
    fn add_group(&mut self, parent: GroupIdx, name: &Option<String>, kind: &str, doc_path: String) -> GroupIdx {
        let name = name.clone().unwrap_or_else(|| {
            self.unnamed += 1;
            format!("{kind}-{}", self.unnamed)
        });
        let g = self.plan.groups.next_idx();
        self.plan.groups.push(PlanGroup {
            id: join_id(&self.plan.groups[parent].id, &name),
            name,
            parent: Some(parent),
            children: Vec::new(),
            exit: None,
            branch: None,
            looping: None,
            iteration: false,
            max_running: None,
            fail_fast: false,
            sub: None,
            scope: self.scope,
            doc_path,
        });
        self.plan.groups[parent].children.push(Child::Group(g));
        g
    }

    fn add_task(&mut self, group: GroupIdx, task: &Task, is_exit: bool, doc_path: String) -> TaskIdx {
        let t = self.plan.tasks.next_idx();
        if self.scope_mut().by_name.insert(task.task.clone(), Node::Task(t)).is_some() {
            self.scope_mut().duplicates.push((task.task.clone(), doc_path.clone()));
        }
        let pipeline = &self.plan.scopes[self.scope].pipeline;
        let task = PlanTask {
            id: join_id(&self.plan.groups[group].id, &task.task),
            name: task.task.clone(),
            component: task.component.clone(),
            group,
            is_exit,
            inputs: task
                .inputs
                .iter()
                .map(|(name, v)| PlanInput { name: name.clone(), binding: Binding::parse(v) })
                .collect(),
            after: task.after.clone(),
            deps: Vec::new(),
            alternatives: Vec::new(),
            scope: self.scope,
            doc_path,
            limits: TaskLimits {
                timeout: task.timeout.map(|t| t.0),
                memory: task.memory.map(|m| m.0),
                fuel: task.fuel,
                artifacts: task.artifact_limit.map(|m| m.0),
                values: task.value_limit.map(|m| m.0),
                loop_items: task.loop_item_limit,
            },
            grants: Grants {
                env: task.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                host_env: task.host_env.clone(),
                dirs: task.dirs.iter().map(|(guest, host)| (guest.clone(), self.base_dir.join(host))).collect(),
                network: task.network.as_ref().map(|n| n.allow.clone()).unwrap_or_default(),
                host: task.host.clone(),
            },
            cache: task.cache.or(pipeline.cache.then_some(true)),
            ignore_upstream_failure: task.ignore_upstream_failure,
            retries: task.retries.or(pipeline.retries).unwrap_or(0),
            backoff: task.backoff.or(pipeline.backoff).unwrap_or_default(),
        };
        self.plan.tasks.push(task);
        t
    }
}

/// The options written on `task` beyond `task`, `component`, `inputs` and `after`.
fn task_options(task: &Task) -> Vec<&'static str> {
    [
        ("timeout", task.timeout.is_some()),
        ("memory", task.memory.is_some()),
        ("fuel", task.fuel.is_some()),
        ("artifact_limit", task.artifact_limit.is_some()),
        ("value_limit", task.value_limit.is_some()),
        ("loop_item_limit", task.loop_item_limit.is_some()),
        ("ignore_upstream_failure", task.ignore_upstream_failure),
        ("cache", task.cache.is_some()),
        ("retries", task.retries.is_some()),
        ("backoff", task.backoff.is_some()),
        ("env", !task.env.is_empty()),
        ("host_env", !task.host_env.is_empty()),
        ("dirs", !task.dirs.is_empty()),
        ("network", task.network.is_some()),
        ("host", !task.host.is_empty()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect()
}

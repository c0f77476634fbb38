//! The plan: a pipeline's steps as a tree of groups and a flat list of task instances in
//! record order, with ids, parsed bindings and dependencies. Built from the model; validation
//! (`crate::validate`) checks it against the components before anything runs.

use std::collections::HashMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::binding::{Binding, Ref};
use crate::model::condition::Expr;
use crate::model::{Pipeline, Step, Task};

/// Index of a task in [`Plan::tasks`].
pub type TaskIdx = usize;
/// Index of a group in [`Plan::groups`]; 0 is the pipeline itself.
pub type GroupIdx = usize;

/// A child of a group: a task or a nested group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Child {
    /// A task.
    Task(TaskIdx),
    /// A group.
    Group(GroupIdx),
}

/// One input binding of a task.
#[derive(Clone, Debug)]
pub struct PlanInput {
    /// The input's name.
    pub name: String,
    /// Its binding, or the error that parsing it gave.
    pub binding: Result<Binding, String>,
}

/// One task instance.
#[derive(Clone, Debug)]
pub struct PlanTask {
    /// Its unique id (`cleanup/print-msg`).
    pub id: String,
    /// Its name in the pipeline.
    pub name: String,
    /// The name of the component it runs.
    pub component: String,
    /// The group it belongs to; for an exit task, the group whose exit task it is.
    pub group: GroupIdx,
    /// Whether it is the exit task of `group`.
    pub is_exit: bool,
    /// Its input bindings.
    pub inputs: Vec<PlanInput>,
    /// Its `after:` names.
    pub after: Vec<String>,
    /// Tasks it reads outputs of or waits for (known names only).
    pub deps: Vec<TaskIdx>,
    /// Where it is written (`steps[0].exit_handler.exit`).
    pub doc_path: String,
    /// Limits set on the task itself; unset ones come from the run's defaults.
    pub limits: TaskLimits,
    /// What the task may see of the host beyond its inputs.
    pub grants: Grants,
    /// Its own caching choice, if it makes one.
    pub cache: Option<bool>,
    /// Whether it runs even when its upstream failed (`ignore_upstream_failure`).
    pub ignore_upstream_failure: bool,
    /// How many times it is run again after a retryable failure.
    pub retries: u32,
    /// The wait before each retry.
    pub backoff: crate::model::Backoff,
}

/// What a task may see of the host: nothing unless the pipeline grants it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Environment variables with literal values.
    pub env: Vec<(String, String)>,
    /// Host environment variables to pass through, by name (read when the run starts).
    pub host_env: Vec<String>,
    /// Read-only directories: (guest path, host path).
    pub dirs: Vec<(String, PathBuf)>,
}

/// Limits a task sets for itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskLimits {
    /// Timeout of one attempt.
    pub timeout: Option<std::time::Duration>,
    /// Memory limit in bytes.
    pub memory: Option<u64>,
    /// Fuel of one attempt.
    pub fuel: Option<u64>,
}

impl TaskLimits {
    /// The limits of one attempt: this task's, else the run's `defaults`.
    pub fn over(&self, defaults: &crate::sandbox::Limits) -> crate::sandbox::Limits {
        crate::sandbox::Limits {
            timeout: self.timeout.unwrap_or(defaults.timeout),
            memory: self.memory.map(|m| m as usize).unwrap_or(defaults.memory),
            fuel: self.fuel.or(defaults.fuel),
            ..*defaults
        }
    }
}

/// A group of steps: the pipeline itself (index 0) or an exit-handler group.
#[derive(Clone, Debug)]
pub struct PlanGroup {
    /// Its id: the names of its enclosing groups and its own, joined by `/` (empty for the root).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its parent (None for the root).
    pub parent: Option<GroupIdx>,
    /// Its children in order.
    pub children: Vec<Child>,
    /// Its exit task, for an exit-handler group.
    pub exit: Option<TaskIdx>,
    /// For an `if`, `elif` or `else` group: its condition and place in its chain.
    pub branch: Option<BranchInfo>,
    /// For a `parallel_for` group: its items and options. Its one child is the template of an
    /// iteration, which the run copies once per item.
    pub looping: Option<LoopInfo>,
    /// Whether this is the iteration template of a `parallel_for` (its id ends in `/*`).
    pub iteration: bool,
    /// At most this many tasks inside it run at once (a pipeline's `parallelism`).
    pub max_running: Option<usize>,
    /// Where it is written.
    pub doc_path: String,
}

/// What a `parallel_for` loops over, and how.
#[derive(Clone, Debug)]
pub struct LoopInfo {
    /// The items binding, or the error that parsing it gave.
    pub items: Result<Binding, String>,
    /// The name tasks use for the item.
    pub var: String,
    /// At most this many iterations at once.
    pub parallelism: Option<usize>,
    /// Whether a failed iteration stops the start of new ones.
    pub fail_fast: bool,
    /// Tasks the items read.
    pub deps: Vec<TaskIdx>,
}

/// What makes a conditional group run.
#[derive(Clone, Debug)]
pub struct BranchInfo {
    /// The condition (None for `else`), or the error that parsing it gave.
    pub condition: Option<Result<Expr, String>>,
    /// The `if` or `elif` group just before it in its chain (None for `if`).
    pub prev: Option<GroupIdx>,
    /// Tasks the condition reads.
    pub deps: Vec<TaskIdx>,
}

/// A pipeline ready to validate and run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The pipeline's name.
    pub name: String,
    /// Task instances, in record order (a group's exit task after its body).
    pub tasks: Vec<PlanTask>,
    /// Groups; 0 is the root.
    pub groups: Vec<PlanGroup>,
    /// Task index by name.
    pub by_name: HashMap<String, TaskIdx>,
    /// Names used by more than one task, with the doc path of each repeat.
    pub duplicates: Vec<(String, String)>,
    /// The pipeline's outputs.
    pub outputs: IndexMap<String, Result<Binding, String>>,
    /// Component paths by name, resolved against the pipeline's directory.
    pub components: IndexMap<String, PathBuf>,
    /// The pipeline's own run deadline.
    pub deadline: Option<std::time::Duration>,
    /// Doc paths of `elif` and `else` steps that do not follow an `if` or `elif`.
    pub misplaced_branches: Vec<String>,
    /// Whether tasks that make no choice of their own are cached.
    pub cache: bool,
    /// Retries of tasks that set none.
    pub default_retries: Option<u32>,
    /// Backoff of tasks that set none.
    pub default_backoff: Option<crate::model::Backoff>,
}

impl Plan {
    /// Builds the plan of `pipeline`, whose component paths are relative to `base_dir`.
    pub fn build(pipeline: &Pipeline, base_dir: &std::path::Path) -> Plan {
        let mut plan = Plan {
            name: pipeline.name.clone(),
            tasks: Vec::new(),
            groups: vec![PlanGroup {
                id: String::new(),
                name: pipeline.name.clone(),
                parent: None,
                children: Vec::new(),
                exit: None,
                branch: None,
                looping: None,
                iteration: false,
                max_running: pipeline.parallelism.map(|p| p as usize),
                doc_path: String::new(),
            }],
            by_name: HashMap::new(),
            duplicates: Vec::new(),
            outputs: pipeline.outputs.iter().map(|(k, v)| (k.clone(), Binding::parse(v))).collect(),
            components: pipeline.components.iter().map(|(k, c)| (k.clone(), base_dir.join(&c.path))).collect(),
            deadline: pipeline.deadline.map(|d| d.0),
            misplaced_branches: Vec::new(),
            cache: pipeline.cache,
            default_retries: pipeline.retries,
            default_backoff: pipeline.backoff,
        };
        let mut unnamed = 0;
        plan.add_steps(0, &pipeline.steps, "steps", &mut unnamed, base_dir);
        for t in 0..plan.tasks.len() {
            let task = &plan.tasks[t];
            let mut deps: Vec<TaskIdx> = task
                .inputs
                .iter()
                .filter_map(|i| i.binding.as_ref().ok())
                .flat_map(Binding::refs)
                .filter_map(|r| match r {
                    Ref::Output { task, .. } => plan.by_name.get(task).copied(),
                    _ => None,
                })
                .chain(task.after.iter().filter_map(|a| plan.by_name.get(a).copied()))
                .collect();
            deps.sort_unstable();
            deps.dedup();
            plan.tasks[t].deps = deps;
        }
        for g in 0..plan.groups.len() {
            let group = &plan.groups[g];
            let refs: Vec<&Ref> = match (&group.branch, &group.looping) {
                (Some(BranchInfo { condition: Some(Ok(expr)), .. }), _) => expr.refs(),
                (_, Some(LoopInfo { items: Ok(items), .. })) => items.refs(),
                _ => continue,
            };
            let deps: Vec<TaskIdx> = refs
                .into_iter()
                .filter_map(|r| match r {
                    Ref::Output { task, .. } => plan.by_name.get(task).copied(),
                    _ => None,
                })
                .collect();
            let group = &mut plan.groups[g];
            if let Some(branch) = group.branch.as_mut() {
                branch.deps = deps;
            } else if let Some(looping) = group.looping.as_mut() {
                looping.deps = deps;
            }
        }
        plan
    }

    fn add_steps(
        &mut self,
        group: GroupIdx,
        steps: &[Step],
        path: &str,
        unnamed: &mut usize,
        base_dir: &std::path::Path,
    ) {
        let mut chain: Option<GroupIdx> = None;
        for (i, step) in steps.iter().enumerate() {
            let step_path = format!("{path}[{i}]");
            let (key, name, condition, branch_steps) = match step {
                Step::If(s) => ("if", &s.branch.name, Some(&s.branch.condition), &s.branch.steps),
                Step::Elif(s) => ("elif", &s.elif.name, Some(&s.elif.condition), &s.elif.steps),
                Step::Else(s) => ("else", &s.branch.name, None, &s.branch.steps),
                _ => ("", &None, None, &Vec::new()),
            };
            if !key.is_empty() {
                let prev = if key == "if" { None } else { chain };
                if key != "if" && prev.is_none() {
                    self.misplaced_branches.push(format!("{step_path}.{key}"));
                }
                let group_path = format!("{step_path}.{key}");
                let branch = BranchInfo { condition: condition.map(|c| Expr::parse(c)), prev, deps: Vec::new() };
                let g = self.add_group(group, name, "condition", unnamed, group_path.clone(), Some(branch));
                self.add_steps(g, branch_steps, &format!("{group_path}.steps"), unnamed, base_dir);
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
                        fail_fast: spec.fail_fast,
                        deps: Vec::new(),
                    };
                    let g = self.add_group(group, &spec.name, "for-loop", unnamed, group_path.clone(), None);
                    self.groups[g].looping = Some(looping);
                    let iteration = self.add_group(g, &Some("*".into()), "", unnamed, group_path.clone(), None);
                    self.groups[iteration].iteration = true;
                    self.add_steps(iteration, &spec.steps, &format!("{group_path}.steps"), unnamed, base_dir);
                }
                Step::Task(task) => {
                    let t = self.add_task(group, task, false, step_path, base_dir);
                    self.groups[group].children.push(Child::Task(t));
                }
                Step::ExitHandler(step) => {
                    let eh = &step.exit_handler;
                    let group_path = format!("{step_path}.exit_handler");
                    let g = self.add_group(group, &eh.name, "exit-handler", unnamed, group_path.clone(), None);
                    self.add_steps(g, &eh.steps, &format!("{group_path}.steps"), unnamed, base_dir);
                    let exit = self.add_task(g, &eh.exit, true, format!("{group_path}.exit"), base_dir);
                    self.groups[g].exit = Some(exit);
                }
            }
        }
    }

    /// Adds a group as the next child of `parent`; an unnamed one is called `{kind}-N`, N
    /// counting unnamed groups across the pipeline (as KFP names them).
    fn add_group(
        &mut self,
        parent: GroupIdx,
        name: &Option<String>,
        kind: &str,
        unnamed: &mut usize,
        doc_path: String,
        branch: Option<BranchInfo>,
    ) -> GroupIdx {
        let name = name.clone().unwrap_or_else(|| {
            *unnamed += 1;
            format!("{kind}-{unnamed}")
        });
        let g = self.groups.len();
        self.groups.push(PlanGroup {
            id: join_id(&self.groups[parent].id, &name),
            name,
            parent: Some(parent),
            children: Vec::new(),
            exit: None,
            branch,
            looping: None,
            iteration: false,
            max_running: None,
            doc_path,
        });
        self.groups[parent].children.push(Child::Group(g));
        g
    }

    fn add_task(
        &mut self,
        group: GroupIdx,
        task: &Task,
        is_exit: bool,
        doc_path: String,
        base_dir: &std::path::Path,
    ) -> TaskIdx {
        let t = self.tasks.len();
        if self.by_name.insert(task.task.clone(), t).is_some() {
            self.duplicates.push((task.task.clone(), doc_path.clone()));
        }
        self.tasks.push(PlanTask {
            id: join_id(&self.groups[group].id, &task.task),
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
            doc_path,
            limits: TaskLimits {
                timeout: task.timeout.map(|t| t.0),
                memory: task.memory.map(|m| m.0),
                fuel: task.fuel,
            },
            grants: Grants {
                env: task.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                host_env: task.host_env.clone(),
                dirs: task.dirs.iter().map(|(guest, host)| (guest.clone(), base_dir.join(host))).collect(),
            },
            cache: task.cache,
            ignore_upstream_failure: task.ignore_upstream_failure,
            retries: task.retries.or(self.default_retries).unwrap_or(0),
            backoff: task.backoff.or(self.default_backoff).unwrap_or_default(),
        });
        t
    }

    /// Whether task `t` is inside group `g` (its body or its exit task, at any depth).
    pub fn task_in_group(&self, t: TaskIdx, g: GroupIdx) -> bool {
        self.group_within(self.tasks[t].group, g)
    }

    /// Whether group `inner` is `outer` or nested in it.
    pub fn group_within(&self, inner: GroupIdx, outer: GroupIdx) -> bool {
        let mut cur = Some(inner);
        while let Some(g) = cur {
            if g == outer {
                return true;
            }
            cur = self.groups[g].parent;
        }
        false
    }

    /// Whether `child` contains task `t`.
    pub fn child_contains(&self, child: Child, t: TaskIdx) -> bool {
        match child {
            Child::Task(x) => x == t,
            Child::Group(g) => self.task_in_group(t, g),
        }
    }

    /// The children of `g` that `child` must wait for: the siblings holding a task that a
    /// task inside `child`, or the condition of a group inside it, depends on.
    pub fn sibling_deps(&self, g: GroupIdx, child: Child) -> Vec<Child> {
        let inside: Vec<TaskIdx> = match child {
            Child::Task(t) => vec![t],
            Child::Group(_) => (0..self.tasks.len()).filter(|&t| self.child_contains(child, t)).collect(),
        };
        let condition_deps: Vec<TaskIdx> = match child {
            Child::Task(_) => Vec::new(),
            Child::Group(h) => (0..self.groups.len())
                .filter(|&k| self.group_within(k, h))
                .flat_map(|k| self.groups[k].group_deps().iter().copied())
                .collect(),
        };
        let mut deps = Vec::new();
        for d in inside.iter().flat_map(|&t| self.tasks[t].deps.iter().copied()).chain(condition_deps) {
            if self.child_contains(child, d) {
                continue;
            }
            if let Some(&sibling) = self.groups[g].children.iter().find(|c| self.child_contains(**c, d))
                && !deps.contains(&sibling)
            {
                deps.push(sibling);
            }
        }
        deps
    }

    /// The loop that holds task `t` and not group `outer`, innermost first: the loops whose
    /// iterations a reader in `outer` collects (fan-in).
    pub fn loops_between(&self, t: TaskIdx, outer: GroupIdx) -> Vec<GroupIdx> {
        let mut loops = Vec::new();
        let mut cur = Some(self.tasks[t].group);
        while let Some(g) = cur {
            if self.group_within(outer, g) {
                break;
            }
            if self.groups[g].looping.is_some() {
                loops.push(g);
            }
            cur = self.groups[g].parent;
        }
        loops
    }

    /// The innermost `parallel_for` whose iterations hold group `g` and whose variable is `var`:
    /// the loop whose item `{{var}}` means, read from inside `g`.
    pub fn loop_of_var(&self, g: GroupIdx, var: &str) -> Option<GroupIdx> {
        let (mut prev, mut cur) = (None, Some(g));
        while let Some(k) = cur {
            let group = &self.groups[k];
            if group.looping.as_ref().is_some_and(|l| l.var == var) && prev.is_some() && prev == group.iteration_child()
            {
                return Some(k);
            }
            (prev, cur) = (Some(k), group.parent);
        }
        None
    }

    /// The id of a child, for messages and skip causes.
    pub fn child_id(&self, child: Child) -> &str {
        match child {
            Child::Task(t) => &self.tasks[t].id,
            Child::Group(g) => &self.groups[g].id,
        }
    }
}

impl PlanGroup {
    /// Tasks that a condition or loop items of this group read.
    pub fn group_deps(&self) -> &[TaskIdx] {
        match (&self.branch, &self.looping) {
            (Some(b), _) => &b.deps,
            (_, Some(l)) => &l.deps,
            _ => &[],
        }
    }

    /// The iteration template of a `parallel_for` group.
    pub fn iteration_child(&self) -> Option<GroupIdx> {
        match (&self.looping, self.children.first()) {
            (Some(_), Some(Child::Group(i))) => Some(*i),
            _ => None,
        }
    }
}

/// Joins an id prefix and a name with `/`.
pub fn join_id(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") }
}

/// The value of a parameter from a run's inputs.
pub type Params = IndexMap<String, Value>;

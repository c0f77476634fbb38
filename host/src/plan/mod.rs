//! The plan: a pipeline's steps as a tree of groups and a flat list of task templates in
//! declaration order, with ids, parsed bindings, dependencies and naming scopes (one per
//! sub-pipeline use). Built from the model ([`from_model`]); [`validate`] checks it against the
//! components' signatures before anything runs; the run makes instances of it ([`tree`]) and
//! the [`scheduler`] says which instance may start, by the exit-handler rules.
//!
//! May use: `model` only. No wasmtime, no files of the run: components reach validation as
//! signatures, and the scheduler's decisions are pure functions of the tree and what the run
//! reports back.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::Pipeline;
use crate::model::binding::{Binding, Ref};
use crate::model::component::ComponentSource;
use crate::model::condition::Expr;
use crate::model::load::SourceMap;
use crate::model::policy::{Grants, TaskLimits};

mod from_model;
pub(crate) mod index;
pub(crate) mod scheduler;
pub(crate) mod tree;
pub(crate) mod validate;

pub(crate) use index::{GroupIdx, GroupInstIdx, Idx, IdxVec, ScopeIdx, TaskIdx, TaskInstIdx};

/// A child of a group: a task or a nested group. In the plan (`Child`) these are templates; in
/// the run's tree ([`tree::InstChild`]) instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Child<T = TaskIdx, G = GroupIdx> {
    /// A task.
    Task(T),
    /// A group.
    Group(G),
}

/// One input binding of a task.
#[derive(Clone, Debug)]
pub(crate) struct PlanInput {
    /// The input's name.
    pub(crate) name: String,
    /// Its binding, or the error that parsing it gave.
    pub(crate) binding: Result<Binding, String>,
}

/// One task instance.
#[derive(Clone, Debug)]
pub(crate) struct PlanTask {
    /// Its unique id (`cleanup/print-msg`).
    pub(crate) id: String,
    /// Its name in the pipeline.
    pub(crate) name: String,
    /// The name of the component it runs.
    pub(crate) component: String,
    /// The group it belongs to; for an exit task, the group whose exit task it is.
    pub(crate) group: GroupIdx,
    /// Whether it is the exit task of `group`.
    pub(crate) is_exit: bool,
    /// Its input bindings.
    pub(crate) inputs: Vec<PlanInput>,
    /// Its `after:` names.
    pub(crate) after: Vec<String>,
    /// Tasks and sub-pipelines it reads outputs of or waits for (known names only).
    pub(crate) deps: Vec<Child>,
    /// Per `one_of` input: the tasks it reads, of which one runs (known names only).
    pub(crate) alternatives: Vec<Alternatives>,
    /// The scope its names resolve in.
    pub(crate) scope: ScopeIdx,
    /// Where it is written (`steps[0].exit_handler.exit`).
    pub(crate) doc_path: String,
    /// Limits set on the task itself; unset ones come from the run's defaults.
    pub(crate) limits: TaskLimits,
    /// What the task may see of the host beyond its inputs.
    pub(crate) grants: Grants,
    /// Whether it is cached: its own choice, else its pipeline's (`None`: `--cache` decides).
    pub(crate) cache: Option<bool>,
    /// Whether it runs even when its upstream failed (`ignore_upstream_failure`).
    pub(crate) ignore_upstream_failure: bool,
    /// How many times it is run again after a retryable failure.
    pub(crate) retries: u32,
    /// The wait before each retry.
    pub(crate) backoff: crate::model::Backoff,
}

/// A group of steps: the pipeline itself (index 0) or an exit-handler group.
#[derive(Clone, Debug)]
pub(crate) struct PlanGroup {
    /// Its id: the names of its enclosing groups and its own, joined by `/` (empty for the root).
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
    /// Its parent (None for the root).
    pub(crate) parent: Option<GroupIdx>,
    /// Its children in order.
    pub(crate) children: Vec<Child>,
    /// Its exit task, for an exit-handler group.
    pub(crate) exit: Option<TaskIdx>,
    /// For an `if`, `elif` or `else` group: its condition and place in its chain.
    pub(crate) branch: Option<BranchInfo>,
    /// For a `parallel_for` group: its items and options. Its one child is the template of an
    /// iteration, which the run copies once per item.
    pub(crate) looping: Option<LoopInfo>,
    /// Whether this is the iteration template of a `parallel_for` (its id ends in `/*`).
    pub(crate) iteration: bool,
    /// At most this many tasks inside it run at once (a pipeline's `parallelism`).
    pub(crate) max_running: Option<usize>,
    /// Whether a failure among its children stops the start of the others (`fail_fast: true`;
    /// for a loop, of new iterations).
    pub(crate) fail_fast: bool,
    /// For a task that runs a sub-pipeline: the sub-pipeline.
    pub(crate) sub: Option<SubInfo>,
    /// The scope its name and its condition or items resolve in.
    pub(crate) scope: ScopeIdx,
    /// Where it is written.
    pub(crate) doc_path: String,
}

/// What a `parallel_for` loops over, and how.
#[derive(Clone, Debug)]
pub(crate) struct LoopInfo {
    /// The items binding, or the error that parsing it gave.
    pub(crate) items: Result<Binding, String>,
    /// The name tasks use for the item.
    pub(crate) var: String,
    /// At most this many iterations at once.
    pub(crate) parallelism: Option<usize>,
    /// The items for people: the reference as written, or how many literal items.
    pub(crate) label: String,
    /// Tasks the items read.
    pub(crate) deps: Vec<Child>,
}

/// What makes a conditional group run.
#[derive(Clone, Debug)]
pub(crate) struct BranchInfo {
    /// The condition (None for `else`), or the error that parsing it gave.
    pub(crate) condition: Option<Result<Expr, String>>,
    /// The condition as written (None for `else`), for people.
    pub(crate) text: Option<String>,
    /// `if`, `elif` or `else`.
    pub(crate) key: &'static str,
    /// The `if` or `elif` group just before it in its chain (None for `if`).
    pub(crate) prev: Option<GroupIdx>,
    /// Tasks the condition reads.
    pub(crate) deps: Vec<Child>,
}

/// A pipeline ready to validate and run.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The pipeline's name.
    pub(crate) name: String,
    /// Task templates, in declaration order (a group's exit task after its body).
    pub(crate) tasks: IdxVec<TaskIdx, PlanTask>,
    /// Groups; [`GroupIdx::ROOT`] is the pipeline itself.
    pub(crate) groups: IdxVec<GroupIdx, PlanGroup>,
    /// Naming scopes: [`ScopeIdx::ROOT`] is the pipeline file, then one per use of a
    /// sub-pipeline.
    pub(crate) scopes: IdxVec<ScopeIdx, Scope>,
    /// The pipeline's own run deadline.
    pub(crate) deadline: Option<std::time::Duration>,
    /// Problems found while reading sub-pipeline files.
    pub(crate) errors: Vec<crate::model::diag::Diagnostic>,
    /// Per group, per child position: the positions of the siblings that child waits for
    /// (see [`Plan::sibling_deps`]); computed once, shared by every run.
    pub(crate) waits: IdxVec<GroupIdx, Vec<Vec<usize>>>,
    /// Per group, per child position: sets of siblings (branches of one chain) of which the
    /// child needs one to have run and none to have failed, for a `one_of` inside it.
    pub(crate) one_of_waits: IdxVec<GroupIdx, Vec<Vec<OneOfWait>>>,
}

/// What a `one_of` input reads: the producers in the branches of one chain, and whether its
/// last reference is a fallback outside them (an ordinary dependency, in the task's `deps`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Alternatives {
    /// The tasks and sub-pipelines in the chain's branches.
    pub(crate) branches: Vec<Child>,
    /// Whether a fallback gives the value when no branch ran.
    pub(crate) fallback: bool,
}

/// A `one_of` a child of a group waits for: the positions of the siblings that hold its
/// branches, of which one must have run and succeeded unless it has a fallback.
#[derive(Clone, Debug)]
pub(crate) struct OneOfWait {
    /// Positions of the siblings holding the branches.
    pub(crate) siblings: Vec<usize>,
    /// Whether no branch running is fine (the fallback gives the value).
    pub(crate) fallback: bool,
}

/// What a task name means in a scope: a task, or a task that runs a sub-pipeline (a group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// A task.
    Task(TaskIdx),
    /// A sub-pipeline's group.
    Sub(GroupIdx),
}

/// A naming scope: one pipeline file, as the top-level pipeline or as one use of a
/// sub-pipeline. Task names, parameters, components and outputs resolve in their scope.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    /// The pipeline file's content.
    pub(crate) pipeline: Pipeline,
    /// Where it is written.
    pub(crate) source: SourceMap,
    /// Task names (and sub-pipeline task names) of the scope.
    pub(crate) by_name: HashMap<String, Node>,
    /// Names used by more than one task, with the doc path of each repeat.
    pub(crate) duplicates: Vec<(String, String)>,
    /// For the level of a pipeline's call of itself past its `max_depth`, and what it holds:
    /// its problems are those of the levels above, reported there.
    pub(crate) beyond: bool,
    /// Whether its file could not be read (reported as such): it stands empty, and what its
    /// callers bind to it or read from it is not checked against it.
    pub(crate) unread: bool,
    /// The pipeline's outputs.
    pub(crate) outputs: IndexMap<String, Result<Binding, String>>,
    /// Component paths by name, resolved against the pipeline's directory (`.wasm` and `.wat`
    /// components; sub-pipelines become groups).
    pub(crate) components: IndexMap<String, ComponentSource>,
    /// The group that holds the scope's steps: the root, or the sub-pipeline's group.
    pub(crate) group: GroupIdx,
    /// Doc paths of `elif` and `else` steps that do not follow an `if` or `elif`.
    pub(crate) misplaced_branches: Vec<String>,
}

/// A task that runs a sub-pipeline: its group holds the sub-pipeline's steps.
#[derive(Clone, Debug)]
pub(crate) struct SubInfo {
    /// The scope of the sub-pipeline's steps.
    pub(crate) scope: ScopeIdx,
    /// The component (in the scope where the task is written) that names the sub-pipeline.
    pub(crate) component: String,
    /// The sub-pipeline's parameters, bound in the task's own scope.
    pub(crate) inputs: Vec<PlanInput>,
    /// Its `after:` names.
    pub(crate) after: Vec<String>,
    /// What its inputs read (and `after`).
    pub(crate) deps: Vec<Child>,
    /// The task options written on the task (`retries`, `timeout`, `env`, ...), which have no
    /// meaning for a sub-pipeline (validation refuses them).
    pub(crate) options: Vec<&'static str>,
    /// For a call of a pipeline by itself (a component with `max_depth`): how deep it is.
    pub(crate) recursion: Option<Recursion>,
}

/// The most levels a pipeline may call itself (`max_depth`); validation refuses more.
pub(crate) const MAX_RECURSION: u32 = 100;

/// A pipeline's call of itself, one level of the recursion. The plan holds every level up to
/// `max_depth`, and one more whose tasks fail when it is reached; the run's tree makes a
/// level's instances only when the level above it is entered.
#[derive(Clone, Debug)]
pub(crate) struct Recursion {
    /// The component's `max_depth`.
    pub(crate) max_depth: u32,
    /// For the level past `max_depth`: why its tasks fail when it is reached.
    pub(crate) beyond: Option<String>,
}

impl Plan {
    /// Whether task `t` is inside group `g` (its body or its exit task, at any depth).
    pub(crate) fn task_in_group(&self, t: TaskIdx, g: GroupIdx) -> bool {
        self.group_within(self.tasks[t].group, g)
    }

    /// Whether group `inner` is `outer` or nested in it.
    pub(crate) fn group_within(&self, inner: GroupIdx, outer: GroupIdx) -> bool {
        let mut cur = Some(inner);
        while let Some(g) = cur {
            if g == outer {
                return true;
            }
            cur = self.groups[g].parent;
        }
        false
    }

    /// Whether `child` is `d` or contains it.
    pub(crate) fn child_contains(&self, child: Child, d: Child) -> bool {
        match (child, d) {
            (Child::Task(x), Child::Task(t)) => x == t,
            (Child::Task(_), Child::Group(_)) => false,
            (Child::Group(g), Child::Task(t)) => self.task_in_group(t, g),
            (Child::Group(g), Child::Group(h)) => self.group_within(h, g),
        }
    }

    /// The children of `g` that `child` must wait for: the siblings holding a task or
    /// sub-pipeline that a task inside `child`, or a group inside it (its condition, items or
    /// sub-pipeline inputs), depends on.
    pub(crate) fn sibling_deps(&self, g: GroupIdx, child: Child) -> Vec<Child> {
        let mut needs: Vec<Child> = Vec::new();
        match child {
            Child::Task(t) => needs.extend(self.tasks[t].deps.iter().copied()),
            Child::Group(h) => {
                for k in self.groups_within(h) {
                    needs.extend(self.groups[k].group_deps().iter().copied());
                    let group = &self.groups[k];
                    for &c in group.children.iter().chain(group.exit.map(Child::Task).iter()) {
                        if let Child::Task(t) = c {
                            needs.extend(self.tasks[t].deps.iter().copied());
                        }
                    }
                }
            }
        }
        let mut deps = Vec::new();
        for d in needs {
            if self.child_contains(child, d) {
                continue;
            }
            if let Some(sibling) = self.child_holding(g, d)
                && !deps.contains(&sibling)
            {
                deps.push(sibling);
            }
        }
        deps
    }

    /// The child of group `g` that is or holds `d`, if one does.
    fn child_holding(&self, g: GroupIdx, d: Child) -> Option<Child> {
        let mut cur = match d {
            Child::Task(t) if self.tasks[t].group == g => return (!self.tasks[t].is_exit).then_some(d),
            Child::Task(t) => self.tasks[t].group,
            Child::Group(h) if h == g => return None,
            Child::Group(h) => h,
        };
        loop {
            let parent = self.groups[cur].parent?;
            if parent == g {
                return Some(Child::Group(cur));
            }
            cur = parent;
        }
    }

    /// Fills [`Plan::waits`] and [`Plan::one_of_waits`]. A `one_of` whose branches all lie in
    /// one sibling is an ordinary wait for that sibling.
    fn compute_waits(&mut self) {
        let mut waits = IdxVec::new();
        let mut one_of_waits = IdxVec::new();
        for g in self.groups.indices() {
            let children = &self.groups[g].children;
            let position: HashMap<Child, usize> = children.iter().enumerate().map(|(i, &c)| (c, i)).collect();
            let (mut group_waits, mut group_sets) = (Vec::new(), Vec::new());
            for &c in children {
                let mut plain: Vec<usize> =
                    self.sibling_deps(g, c).iter().filter_map(|d| position.get(d).copied()).collect();
                let mut sets = Vec::new();
                for (set, fallback) in self.alternative_siblings(g, c) {
                    let mut set: Vec<usize> = set.iter().filter_map(|d| position.get(d).copied()).collect();
                    set.sort_unstable();
                    set.dedup();
                    match set[..] {
                        [] => {}
                        // Without a fallback, one sibling must run and succeed: a plain wait.
                        [one] if !fallback && !plain.contains(&one) => plain.push(one),
                        [_] if !fallback => {}
                        _ => sets.push(OneOfWait { siblings: set, fallback }),
                    }
                }
                group_waits.push(plain);
                group_sets.push(sets);
            }
            waits.push(group_waits);
            one_of_waits.push(group_sets);
        }
        self.waits = waits;
        self.one_of_waits = one_of_waits;
    }

    /// For each `one_of` read inside `child` (a child of `g`) from outside it: the siblings
    /// holding its producers (none when they are not in `g`), and whether it has a fallback.
    fn alternative_siblings(&self, g: GroupIdx, child: Child) -> Vec<(Vec<Child>, bool)> {
        let tasks: Vec<TaskIdx> = match child {
            Child::Task(t) => vec![t],
            Child::Group(h) => self
                .groups_within(h)
                .into_iter()
                .flat_map(|k| {
                    let group = &self.groups[k];
                    group.children.iter().chain(group.exit.map(Child::Task).iter()).copied().collect::<Vec<_>>()
                })
                .filter_map(|c| match c {
                    Child::Task(t) => Some(t),
                    Child::Group(_) => None,
                })
                .collect(),
        };
        let mut sets = Vec::new();
        for t in tasks {
            for alternatives in &self.tasks[t].alternatives {
                if alternatives.branches.iter().any(|&d| self.child_contains(child, d)) {
                    continue;
                }
                let siblings: Vec<Child> =
                    alternatives.branches.iter().filter_map(|&d| self.child_holding(g, d)).collect();
                if !siblings.is_empty() {
                    sets.push((siblings, alternatives.fallback));
                }
            }
        }
        sets
    }

    /// Whether group `g` is a pipeline's call of itself.
    pub(crate) fn is_call(&self, g: GroupIdx) -> bool {
        self.groups[g].sub.as_ref().is_some_and(|s| s.recursion.is_some())
    }

    /// The innermost branch group (`if`, `elif`, `else`) that holds `node`.
    pub(crate) fn branch_of(&self, node: Node) -> Option<GroupIdx> {
        let mut g = Some(self.node_group(node));
        while let Some(k) = g {
            if self.groups[k].branch.is_some() {
                return Some(k);
            }
            g = self.groups[k].parent;
        }
        None
    }

    /// The `if` that starts the chain branch `b` belongs to.
    pub(crate) fn chain_head(&self, b: GroupIdx) -> GroupIdx {
        let mut head = b;
        while let Some(prev) = self.groups[head].branch.as_ref().and_then(|br| br.prev) {
            head = prev;
        }
        head
    }

    /// Whether the last of a `one_of`'s references `refs` (read in `scope`) is its fallback:
    /// the first is in a branch, and the last is in no branch, or in one that holds the first's
    /// whole chain (not in a chain beside it).
    pub(crate) fn one_of_fallback(&self, scope: ScopeIdx, refs: &[Ref]) -> bool {
        let branch = |r: &Ref| match r {
            Ref::Output { task, .. } => self.lookup(scope, task).map(|node| self.branch_of(node)),
            _ => None,
        };
        match (refs.first().and_then(branch), refs.last().and_then(branch)) {
            (Some(Some(first)), Some(last)) if refs.len() > 1 => {
                let head = self.chain_head(first);
                last.is_none_or(|b| b != head && self.chain_head(b) != head && self.group_within(head, b))
            }
            _ => false,
        }
    }

    /// Group `g` and every group nested in it.
    pub(crate) fn groups_within(&self, g: GroupIdx) -> Vec<GroupIdx> {
        nested_groups(g, |k| &self.groups[k].children)
    }

    /// What `name` means in `scope`.
    pub(crate) fn lookup(&self, scope: ScopeIdx, name: &str) -> Option<Node> {
        self.scopes[scope].by_name.get(name).copied()
    }

    /// Per task template: whether anything reads its outputs (an input, a condition, a loop's
    /// items, a sub-pipeline's input, a pipeline's or sub-pipeline's output). A run keeps the
    /// outputs of only those tasks for their readers; the others' are in their records alone.
    pub(crate) fn outputs_read(&self) -> IdxVec<TaskIdx, bool> {
        use crate::model::binding::{Binding, Ref};
        let mut read = IdxVec::from_elem(false, self.tasks.len());
        let mut mark = |scope: ScopeIdx, refs: Vec<&Ref>| {
            for r in refs {
                if let Ref::Output { task, .. } = r
                    && let Some(Node::Task(t)) = self.lookup(scope, task)
                {
                    read[t] = true;
                }
            }
        };
        fn bound(binding: &Result<Binding, String>) -> Vec<&Ref> {
            binding.as_ref().map(Binding::refs).unwrap_or_default()
        }
        for task in &self.tasks {
            for input in &task.inputs {
                mark(task.scope, bound(&input.binding));
            }
        }
        for group in &self.groups {
            if let Some(looping) = &group.looping {
                mark(group.scope, bound(&looping.items));
            }
            if let Some(Ok(condition)) = group.branch.as_ref().and_then(|b| b.condition.as_ref()) {
                mark(group.scope, condition.refs());
            }
            for input in group.sub.iter().flat_map(|s| &s.inputs) {
                mark(group.scope, bound(&input.binding));
            }
        }
        for (s, scope) in self.scopes.iter_enumerated() {
            for binding in scope.outputs.values() {
                mark(s, bound(binding));
            }
        }
        read
    }

    /// The names of the tasks (sub-pipeline tasks included) of pipeline scope `scope`.
    pub(crate) fn task_names(&self, scope: ScopeIdx) -> impl Iterator<Item = &str> {
        self.scopes[scope].by_name.keys().map(String::as_str)
    }

    /// The group a node lives in (for a sub-pipeline, the group that holds its group).
    pub(crate) fn node_group(&self, node: Node) -> GroupIdx {
        match node {
            Node::Task(t) => self.tasks[t].group,
            Node::Sub(g) => self.groups[g].parent.unwrap_or(GroupIdx::ROOT),
        }
    }

    /// The loops that hold `node` and not group `outer`, innermost first: the loops whose
    /// iterations a reader in `outer` collects (fan-in).
    pub(crate) fn loops_between(&self, node: Node, outer: GroupIdx) -> Vec<GroupIdx> {
        let mut loops = Vec::new();
        let mut cur = Some(self.node_group(node));
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
    pub(crate) fn loop_of_var(&self, g: GroupIdx, var: &str) -> Option<GroupIdx> {
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
    pub(crate) fn child_id(&self, child: Child) -> &str {
        match child {
            Child::Task(t) => &self.tasks[t].id,
            Child::Group(g) => &self.groups[g].id,
        }
    }
}

impl PlanGroup {
    /// What a condition, loop items or sub-pipeline inputs of this group read.
    pub(crate) fn group_deps(&self) -> &[Child] {
        match (&self.branch, &self.looping, &self.sub) {
            (Some(b), _, _) => &b.deps,
            (_, Some(l), _) => &l.deps,
            (_, _, Some(s)) => &s.deps,
            _ => &[],
        }
    }

    /// The iteration template of a `parallel_for` group.
    pub(crate) fn iteration_child(&self) -> Option<GroupIdx> {
        match (&self.looping, self.children.first()) {
            (Some(_), Some(Child::Group(i))) => Some(*i),
            _ => None,
        }
    }
}

/// Group `g` and every group below it, breadth first, where `children` gives a group's
/// children (of plan groups, or of a run's group instances).
pub(crate) fn nested_groups<'a, T: 'a, G: Copy + 'a>(g: G, children: impl Fn(G) -> &'a [Child<T, G>]) -> Vec<G> {
    let mut groups = vec![g];
    let mut i = 0;
    while i < groups.len() {
        groups.extend(children(groups[i]).iter().filter_map(|c| match c {
            Child::Group(h) => Some(*h),
            Child::Task(_) => None,
        }));
        i += 1;
    }
    groups
}

/// Joins an id prefix and a name with `/`.
pub(crate) fn join_id(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") }
}

/// The value of a parameter from a run's inputs.
pub(crate) type Params = IndexMap<String, Value>;

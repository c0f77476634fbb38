//! The run's tree of instances, made from the plan's templates. Everything outside a
//! `parallel_for` has exactly one instance; a loop gets one copy of its iteration template per
//! item when the run reaches it ([`Tree::expand`]). Until then, and for good when the run never
//! reaches it, a loop holds a placeholder iteration `*`, so that the record still lists its
//! tasks (`loop/*/task`), skipped.
//!
//! References are resolved here too: a reader inside an iteration reads the producer of its
//! own iteration; a reader outside a loop collects the producer's instances of every
//! iteration, in item order (fan-in, KFP's `dsl.Collected`).

use serde_json::Value;

use super::{Child, GroupIdx, GroupInstIdx, IdxVec, Node, Plan, TaskIdx, TaskInstIdx, join_id};

/// A child of a group instance: a task instance or a group instance.
pub(crate) type InstChild = Child<TaskInstIdx, GroupInstIdx>;

/// One task instance.
#[derive(Clone, Debug)]
pub(crate) struct TaskInst {
    /// Its unique id (`fan/3/train`).
    pub(crate) id: String,
    /// Its template in the plan.
    pub(crate) template: TaskIdx,
    /// The group instance it belongs to (for an exit task, the group whose exit task it is).
    pub(crate) group: GroupInstIdx,
}

/// One group instance.
#[derive(Clone, Debug)]
pub(crate) struct GroupInst {
    /// Its id (empty for the pipeline itself).
    pub(crate) id: String,
    /// Its template in the plan.
    pub(crate) template: GroupIdx,
    /// Its parent (None for the pipeline itself).
    pub(crate) parent: Option<GroupInstIdx>,
    /// Its children in order: tasks and groups, or a loop's iterations.
    pub(crate) children: Vec<InstChild>,
    /// Its exit task.
    pub(crate) exit: Option<TaskInstIdx>,
    /// For an iteration of a loop: the index of its item among the loop's items.
    pub(crate) item: Option<usize>,
}

/// What a reference to a task's output reaches: one instance, or one per iteration of a loop
/// the reader is outside of (nested once per such loop).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// The one instance the reader reads: a task instance, or a sub-pipeline's group instance.
    One(InstChild),
    /// One entry per iteration, in item order.
    Many(Vec<Found>),
}

/// Task and group instances of one run. Indices into `tasks` and `groups` are instance indices;
/// `template` fields index the plan.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    /// Task instances; some belong to placeholders that an expansion replaced.
    pub(crate) tasks: IdxVec<TaskInstIdx, TaskInst>,
    /// Group instances; [`GroupInstIdx::ROOT`] is the pipeline.
    pub(crate) groups: IdxVec<GroupInstIdx, GroupInst>,
    /// Per template task: its only instance, for templates outside every loop.
    single: IdxVec<TaskIdx, Option<TaskInstIdx>>,
    /// Per template group: its only instance, for groups outside every loop.
    single_group: IdxVec<GroupIdx, Option<GroupInstIdx>>,
    /// Per loop instance that expanded: its items, in order (kept once, not one per iteration).
    items: std::collections::HashMap<GroupInstIdx, Vec<Value>>,
}

impl Tree {
    /// The tree before any loop expands.
    pub(crate) fn new(plan: &Plan) -> Tree {
        let mut tree = Tree {
            tasks: IdxVec::new(),
            groups: IdxVec::new(),
            single: IdxVec::from_elem(None, plan.tasks.len()),
            single_group: IdxVec::from_elem(None, plan.groups.len()),
            items: std::collections::HashMap::new(),
        };
        tree.instantiate(plan, GroupIdx::ROOT, None, String::new(), None, 1);
        for (t, inst) in tree.tasks.iter_enumerated() {
            if plan.loops_between(Node::Task(inst.template), GroupIdx::ROOT).is_empty() {
                tree.single[inst.template] = Some(t);
            }
        }
        for (g, inst) in tree.groups.iter_enumerated() {
            if plan.loops_between(Node::Sub(inst.template), GroupIdx::ROOT).is_empty()
                && !plan.groups[inst.template].iteration
            {
                tree.single_group[inst.template] = Some(g);
            }
        }
        tree
    }

    /// Adds an instance of template group `template` and everything in it, down to `calls`
    /// levels of a pipeline's calls of itself: a call below those is left empty, and filled
    /// when the level above it is entered ([`Tree::fill_calls`]).
    fn instantiate(
        &mut self,
        plan: &Plan,
        template: GroupIdx,
        parent: Option<GroupInstIdx>,
        id: String,
        item: Option<usize>,
        calls: u32,
    ) -> GroupInstIdx {
        let g = self.groups.push(GroupInst { id, template, parent, children: Vec::new(), exit: None, item });
        self.fill(plan, g, calls);
        g
    }

    /// Adds the children and exit task of group instance `g`, which has none yet.
    fn fill(&mut self, plan: &Plan, g: GroupInstIdx, calls: u32) {
        let template = self.groups[g].template;
        for &child in &plan.groups[template].children {
            let child = match child {
                Child::Task(t) => Child::Task(self.add_task(plan, t, g)),
                Child::Group(h) => {
                    let id = join_id(&self.groups[g].id, &plan.groups[h].name);
                    if plan.is_call(h) {
                        if calls == 0 {
                            let empty = GroupInst {
                                id,
                                template: h,
                                parent: Some(g),
                                children: Vec::new(),
                                exit: None,
                                item: None,
                            };
                            Child::Group(self.groups.push(empty))
                        } else {
                            Child::Group(self.instantiate(plan, h, Some(g), id, None, calls - 1))
                        }
                    } else {
                        Child::Group(self.instantiate(plan, h, Some(g), id, None, calls))
                    }
                }
            };
            self.groups[g].children.push(child);
        }
        if let Some(x) = plan.groups[template].exit {
            self.groups[g].exit = Some(self.add_task(plan, x, g));
        }
    }

    /// Fills the calls of a pipeline by itself one level below `call`, a call being entered: its
    /// tasks are then listed (skipped, if the run does not reach them), and the calls inside it
    /// stay empty until it is entered in turn.
    pub(crate) fn fill_calls(&mut self, plan: &Plan, call: GroupInstIdx) {
        for g in self.groups_within(call).into_iter().skip(1) {
            let group = &self.groups[g];
            if group.children.is_empty() && group.exit.is_none() && plan.is_call(group.template) {
                self.fill(plan, g, 0);
            }
        }
    }

    fn add_task(&mut self, plan: &Plan, template: TaskIdx, group: GroupInstIdx) -> TaskInstIdx {
        let id = join_id(&self.groups[group].id, &plan.tasks[template].name);
        self.tasks.push(TaskInst { id, template, group })
    }

    /// Replaces the placeholder iteration of loop instance `l` with one iteration per item
    /// (`loop/0`, `loop/1`, ...).
    pub(crate) fn expand(&mut self, plan: &Plan, l: GroupInstIdx, items: Vec<Value>) {
        let Some(template) = plan.groups[self.groups[l].template].iteration_child() else { return };
        self.groups[l].children.clear();
        self.groups[l].children.reserve_exact(items.len());
        for i in 0..items.len() {
            let (tasks, groups) = (self.tasks.len(), self.groups.len());
            let id = join_id(&self.groups[l].id, &i.to_string());
            let g = self.instantiate(plan, template, Some(l), id, Some(i), 1);
            self.groups[l].children.push(Child::Group(g));
            if i == 0 {
                // Every iteration makes as many instances as the first: room for all at once,
                // not twice as much as a growing vector would take.
                let more = items.len() - 1;
                self.tasks.reserve_exact((self.tasks.len() - tasks) * more);
                self.groups.reserve_exact((self.groups.len() - groups) * more);
            }
        }
        self.items.insert(l, items);
    }

    /// Calls `f` for every task instance in group `g`, in record order: declaration order,
    /// iterations by index, a group's exit task after its body.
    pub(crate) fn walk_tasks(&self, g: GroupInstIdx, f: &mut dyn FnMut(TaskInstIdx)) {
        for &child in &self.groups[g].children {
            match child {
                Child::Task(t) => f(t),
                Child::Group(h) => self.walk_tasks(h, f),
            }
        }
        if let Some(x) = self.groups[g].exit {
            f(x);
        }
    }

    /// The task instances in group `g`, in record order.
    pub(crate) fn tasks_within(&self, g: GroupInstIdx) -> Vec<TaskInstIdx> {
        let mut tasks = Vec::new();
        self.walk_tasks(g, &mut |t| tasks.push(t));
        tasks
    }

    /// Group `g` and every group instance nested in it.
    pub(crate) fn groups_within(&self, g: GroupInstIdx) -> Vec<GroupInstIdx> {
        super::nested_groups(g, |k| &self.groups[k].children)
    }

    /// The instances of `node` (a template task, or a sub-pipeline's group) that a reader in
    /// group instance `from` reads: the one in the reader's own iteration of each loop that
    /// holds both, and every iteration's of each loop that holds only the producer.
    pub(crate) fn producer(&self, plan: &Plan, from: GroupInstIdx, node: Node) -> Option<Found> {
        let single = match node {
            Node::Task(p) => self.single[p].map(Child::Task),
            Node::Sub(g) => self.single_group[g].map(Child::Group),
        };
        if let Some(one) = single {
            return Some(Found::One(one));
        }
        let home = plan.node_group(node);
        let mut at = from;
        while !plan.group_within(home, self.groups[at].template) {
            at = self.groups[at].parent?;
        }
        let mut path = Vec::new();
        let mut g = home;
        while g != self.groups[at].template {
            path.push(g);
            g = plan.groups[g].parent?;
        }
        path.reverse();
        self.descend(plan, at, &path, node)
    }

    fn descend(&self, plan: &Plan, at: GroupInstIdx, path: &[GroupIdx], node: Node) -> Option<Found> {
        let group = &self.groups[at];
        let Some((&next, rest)) = path.split_first() else {
            return match node {
                Node::Task(p) => group
                    .children
                    .iter()
                    .filter_map(|c| match c {
                        Child::Task(t) => Some(*t),
                        Child::Group(_) => None,
                    })
                    .chain(group.exit)
                    .find(|&t| self.tasks[t].template == p)
                    .map(|t| Found::One(Child::Task(t))),
                Node::Sub(g) => group
                    .children
                    .iter()
                    .find_map(|c| match c {
                        Child::Group(h) if self.groups[*h].template == g => Some(*h),
                        _ => None,
                    })
                    .map(|h| Found::One(Child::Group(h))),
            };
        };
        let groups = group.children.iter().filter_map(|c| match c {
            Child::Group(h) => Some(*h),
            Child::Task(_) => None,
        });
        if plan.groups[next].iteration {
            // Sized up front: one entry per iteration, and a loop may have thousands.
            let mut each = Vec::with_capacity(group.children.len());
            for h in groups {
                each.push(self.descend(plan, h, rest, node)?);
            }
            return Some(Found::Many(each));
        }
        let child = groups.into_iter().find(|&h| self.groups[h].template == next)?;
        self.descend(plan, child, rest, node)
    }

    /// The item of the innermost iteration around group instance `from` whose loop calls its
    /// item `var`.
    pub(crate) fn item(&self, plan: &Plan, from: GroupInstIdx, var: &str) -> Option<&Value> {
        let mut cur = Some(from);
        while let Some(g) = cur {
            let group = &self.groups[g];
            if let (Some(item), Some(parent)) = (group.item, group.parent)
                && plan.groups[self.groups[parent].template].looping.as_ref().is_some_and(|l| l.var == var)
            {
                return self.items.get(&parent)?.get(item);
            }
            cur = group.parent;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::plan::ScopeIdx;

    fn plan(steps: &str) -> Plan {
        let text = format!("version: 1\nname: p\ncomponents: {{c: {{path: c.wasm}}}}\nsteps:\n{steps}");
        Plan::build(crate::model::load::load_str(&text, Path::new("p.yaml"), Path::new(".")).unwrap())
    }

    fn ids(tree: &Tree) -> Vec<&str> {
        tree.tasks_within(GroupInstIdx::ROOT).into_iter().map(|t| tree.tasks[t].id.as_str()).collect()
    }

    #[test]
    fn a_loop_holds_a_placeholder_until_it_expands_then_one_copy_per_item() {
        let plan = plan(
            "  - parallel_for:\n      name: fan\n      items: [1, 2]\n      steps:\n        - {task: a, component: c}\n        - exit_handler:\n            name: g\n            exit: {task: e, component: c}\n            steps: [{task: b, component: c}]\n  - {task: after, component: c}\n",
        );
        let mut tree = Tree::new(&plan);
        assert_eq!(ids(&tree), ["fan/*/a", "fan/*/g/b", "fan/*/g/e", "after"]);
        let fan = match tree.groups[GroupInstIdx::ROOT].children[0] {
            Child::Group(h) => h,
            Child::Task(_) => unreachable!(),
        };
        tree.expand(&plan, fan, vec![json!(1), json!(2)]);
        assert_eq!(ids(&tree), ["fan/0/a", "fan/0/g/b", "fan/0/g/e", "fan/1/a", "fan/1/g/b", "fan/1/g/e", "after"]);
    }

    #[test]
    fn readers_inside_an_iteration_read_their_own_and_readers_outside_collect_all() {
        let plan = plan(
            "  - parallel_for:\n      name: outer\n      items: [1, 2]\n      as: o\n      steps:\n        - parallel_for:\n            name: inner\n            items: [3, 4, 5]\n            steps:\n              - {task: a, component: c}\n              - {task: b, component: c, after: [a]}\n  - {task: sum, component: c, after: [a]}\n",
        );
        let mut tree = Tree::new(&plan);
        let outer = tree.groups.iter_enumerated().find(|(_, g)| g.id == "outer").unwrap().0;
        tree.expand(&plan, outer, vec![json!(1), json!(2)]);
        for (k, o) in [(0, 1), (1, 2)] {
            let inner = tree.groups.iter_enumerated().find(|(_, g)| g.id == format!("outer/{k}/inner")).unwrap().0;
            tree.expand(&plan, inner, vec![json!(3), json!(4), json!(5)]);
            let b = tree.tasks.iter_enumerated().find(|(_, t)| t.id == format!("outer/{k}/inner/2/b")).unwrap().0;
            let found = tree.producer(&plan, tree.tasks[b].group, plan.lookup(ScopeIdx::ROOT, "a").unwrap()).unwrap();
            let Found::One(Child::Task(a)) = found else { panic!("{found:?}") };
            assert_eq!(tree.tasks[a].id, format!("outer/{k}/inner/2/a"));
            assert_eq!(tree.item(&plan, tree.tasks[b].group, "item"), Some(&json!(5)));
            assert_eq!(tree.item(&plan, tree.tasks[b].group, "o"), Some(&json!(o)));
        }
        let sum = tree.tasks.iter_enumerated().find(|(_, t)| t.id == "sum").unwrap().0;
        let Found::Many(outer_list) =
            tree.producer(&plan, tree.tasks[sum].group, plan.lookup(ScopeIdx::ROOT, "a").unwrap()).unwrap()
        else {
            panic!()
        };
        assert_eq!(outer_list.len(), 2);
        let Found::Many(inner_list) = &outer_list[1] else { panic!() };
        let Found::One(Child::Task(last)) = inner_list[2] else { panic!() };
        assert_eq!(tree.tasks[last].id, "outer/1/inner/2/a");
    }

    /// Ensures that the outputs a run keeps are those of tasks something reads: through an
    /// input (whole or inside a string), a condition, a loop's items or the pipeline's outputs,
    /// and not those of tasks only waited for (`after`) or not read at all.
    #[test]
    fn outputs_are_read_through_every_kind_of_binding() {
        let plan = plan(concat!(
            "  - {task: whole, component: c}\n",
            "  - {task: in-text, component: c}\n",
            "  - {task: cond, component: c}\n",
            "  - {task: items, component: c}\n",
            "  - {task: out, component: c}\n",
            "  - {task: waited, component: c}\n",
            "  - {task: alone, component: c}\n",
            "  - {task: reader, component: c, inputs: {a: \"{{tasks.whole.output}}\", b: \"n={{tasks.in-text.outputs.n}}\"}, after: [waited]}\n",
            "  - if:\n      name: maybe\n      condition: \"{{tasks.cond.output}} == 1\"\n      steps: [{task: x, component: c}]\n",
            "  - parallel_for:\n      name: fan\n      items: \"{{tasks.items.output}}\"\n      steps: [{task: y, component: c}]\n",
            "outputs:\n  result: \"{{tasks.out.output}}\"\n",
        ));
        let read = plan.outputs_read();
        let read: Vec<&str> =
            plan.tasks.iter_enumerated().filter(|(t, _)| read[*t]).map(|(_, task)| task.name.as_str()).collect();
        assert_eq!(read, ["whole", "in-text", "cond", "items", "out"]);
    }
}

//! Cycles (`docs/semantics.md`, rule 12, names): the steps of a group must not depend on each
//! other in a cycle, through references or `after`. Each cycle is reported once, with the steps
//! in it, at the step where it starts.

use std::collections::HashMap;

use super::Checker;
use crate::model::component::Signature;
use crate::plan::{Child, GroupIdx, ScopeIdx};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Reports each cycle among the children of each group once, naming the tasks in it.
    pub(super) fn cycles(&mut self) {
        for g in self.plan.groups.indices() {
            self.group_cycles(g);
        }
    }

    /// Reports each cycle among the children of group `g` once.
    fn group_cycles(&mut self, g: GroupIdx) {
        let plan = self.plan;
        let group = &plan.groups[g];
        // A sub-pipeline task's children are the sub-pipeline's steps, in its own file.
        let scope = group.sub.as_ref().map(|s| s.scope).unwrap_or(group.scope);
        let children = &group.children;
        let mut deps: HashMap<Child, Vec<Child>> = children
            .iter()
            .zip(plan.waits[g].iter().zip(&plan.one_of_waits[g]))
            .map(|(&c, (waits, sets))| {
                (c, waits.iter().chain(sets.iter().flat_map(|s| &s.siblings)).map(|&p| children[p]).collect())
            })
            .collect();
        // An `elif` or `else` waits for the branch before it to be decided.
        for &c in children {
            if let Child::Group(h) = c
                && let Some(prev) = plan.groups[h].branch.as_ref().and_then(|b| b.prev)
            {
                deps.entry(c).or_default().push(Child::Group(prev));
            }
        }
        let mut state: HashMap<Child, u8> = HashMap::new(); // 1 = on the stack, 2 = done
        let mut stack = Vec::new();
        for &c in children {
            if let Some(cycle) = find_cycle(c, &deps, &mut state, &mut stack) {
                self.report_cycle(scope, &cycle);
            }
        }
    }

    /// Reports `cycle`, steps of a group in scope `scope`, at its first step.
    fn report_cycle(&mut self, scope: ScopeIdx, cycle: &[Child]) {
        let plan = self.plan;
        let ids: Vec<&str> = cycle.iter().map(|&c| plan.child_id(c)).collect();
        let path = match cycle[0] {
            Child::Task(t) => &plan.tasks[t].doc_path,
            Child::Group(h) => &plan.groups[h].doc_path,
        };
        self.error(
            scope,
            path,
            format!(
                "these steps depend on each other in a cycle: {} -> {}; remove one of the references or `after` entries",
                ids.join(" -> "),
                ids[0]
            ),
        );
    }
}

/// A cycle through `c` or a step it depends on (in `deps`) not visited yet, by depth-first search:
/// `state` marks the steps on the `stack` (1) and those done (2).
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

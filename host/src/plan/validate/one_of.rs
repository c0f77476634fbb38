//! `one_of` bindings (KFP's `dsl.OneOf`): the outputs it picks from come each from another
//! branch of one `if`/`elif`/`else` chain, outside the reader and outside loops the reader is
//! not in, so that at most one of them runs; it binds task inputs and pipeline outputs only.

use super::{Checker, Reader};
use crate::model::binding::{Binding, Ref};
use crate::model::component::Signature;
use crate::plan::{GroupIdx, Node};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks the `one_of` `binding` (a task input or a pipeline output), read by `reader`;
    /// false when it reported a problem (its type is then not worth checking).
    pub(super) fn check_one_of(&mut self, reader: Reader, binding: &Binding) -> bool {
        let Binding::OneOf(refs) = binding else { return true };
        let plan = self.plan;
        let mut branches: Vec<(&Ref, GroupIdx)> = Vec::new();
        for r in refs {
            let Ref::Output { task, .. } = r else { continue };
            // An unknown task is reported where the reference's type is checked.
            let Some(node) = plan.lookup(reader.scope, task) else { return true };
            let problem = if let Node::Sub(_) = node {
                // A sub-pipeline's output may be worked out from its parameters even when its
                // branch did not run: only a task's output tells which branch ran.
                Some(format!("`{r}` is an output of a sub-pipeline; `one_of` reads outputs of tasks"))
            } else if !plan.loops_between(node, reader.from).is_empty() {
                Some(format!(
                    "`{r}` is inside a loop that the reader is not in; `one_of` picks one value, it does not collect a loop's"
                ))
            } else {
                match self.branch_of(node) {
                    None => Some(format!("`{r}` is not inside a branch (`if`, `elif` or `else`)")),
                    Some(b) if reader.task.is_some_and(|t| plan.task_in_group(t, b)) => {
                        Some(format!("`{r}` is in branch `{}`, which holds the reader itself", plan.groups[b].id))
                    }
                    Some(b) => {
                        branches.push((r, b));
                        None
                    }
                }
            };
            if let Some(problem) = problem {
                return self.one_of_error(reader, &problem);
            }
        }
        let Some(&(first, b0)) = branches.first() else { return true };
        let head = self.chain_head(b0);
        // The reader waits for the chain: it must stand beside it (or inside what stands beside
        // it), neither in one of its branches nor in a group the chain is nested in apart.
        let chain_parent = plan.groups[head].parent.unwrap_or(GroupIdx::ROOT);
        if let Some(t) = reader.task {
            if let Some(b) = self.branches_holding(t).into_iter().find(|&b| self.chain_head(b) == head) {
                let problem = format!("the reader is in branch `{}` of the same chain as `{first}`", plan.groups[b].id);
                return self.one_of_error(reader, &problem);
            }
            if !plan.task_in_group(t, chain_parent) {
                let problem = format!(
                    "the chain of `{first}` is inside `{}`, which does not hold the reader",
                    plan.groups[chain_parent].id
                );
                return self.one_of_error(reader, &problem);
            }
        }
        for &(r, b) in &branches[1..] {
            if self.chain_head(b) != head {
                let problem = format!(
                    "`{first}` and `{r}` are in branches of two chains (`{}`, `{}`)",
                    plan.groups[self.chain_head(b0)].id,
                    plan.groups[self.chain_head(b)].id
                );
                return self.one_of_error(reader, &problem);
            }
        }
        for (i, &(r, b)) in branches.iter().enumerate() {
            if let Some(&(other, _)) = branches[..i].iter().find(|(_, ob)| *ob == b) {
                let problem = format!("`{other}` and `{r}` are in the same branch `{}`", plan.groups[b].id);
                return self.one_of_error(reader, &problem);
            }
        }
        true
    }

    /// Reports a `one_of` that `problem` keeps from working, with the form that works; false.
    fn one_of_error(&mut self, reader: Reader, problem: &str) -> bool {
        self.error(
            reader.scope,
            reader.path,
            format!(
                "{problem}: `one_of` takes one output from each branch of one `if`/`elif`/`else` chain, so that one of them runs, like `{{one_of: [\"{{{{tasks.A.output}}}}\", \"{{{{tasks.B.output}}}}\"]}}` with A under `if` and B under `else`"
            ),
        );
        false
    }

    /// The innermost branch group (`if`, `elif`, `else`) that holds `node`.
    fn branch_of(&self, node: Node) -> Option<GroupIdx> {
        let mut g = Some(self.plan.node_group(node));
        while let Some(k) = g {
            if self.plan.groups[k].branch.is_some() {
                return Some(k);
            }
            g = self.plan.groups[k].parent;
        }
        None
    }

    /// The branch groups that hold task `t`, innermost first.
    fn branches_holding(&self, t: crate::plan::TaskIdx) -> Vec<GroupIdx> {
        let mut out = Vec::new();
        let mut g = Some(self.plan.tasks[t].group);
        while let Some(k) = g {
            if self.plan.groups[k].branch.is_some() {
                out.push(k);
            }
            g = self.plan.groups[k].parent;
        }
        out
    }

    /// The `if` that starts the chain branch `b` belongs to.
    fn chain_head(&self, b: GroupIdx) -> GroupIdx {
        let mut head = b;
        while let Some(prev) = self.plan.groups[head].branch.as_ref().and_then(|br| br.prev) {
            head = prev;
        }
        head
    }
}

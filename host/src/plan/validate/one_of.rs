//! `one_of` bindings (KFP's `dsl.OneOf`): the outputs it picks from come each from another
//! branch of one `if`/`elif`/`else` chain, outside the reader and outside loops the reader is
//! not in, so that at most one of them runs; a last output outside that chain may follow, as
//! the fallback when no branch ran. It binds task inputs and pipeline outputs only.

use super::{Checker, Reader};
use crate::model::binding::{Binding, Part, Ref};
use crate::model::component::Signature;
use crate::plan::{GroupIdx, Node, ScopeIdx};

/// How deep [`task_backed`] follows sub-pipeline outputs (a pipeline calling itself nests
/// them up to its `max_depth`).
const MAX_FOLLOW: usize = 256;

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks the `one_of` `binding` (a task input or a pipeline output), read by `reader`;
    /// false when it reported a problem (its type is then not worth checking).
    pub(super) fn check_one_of(&mut self, reader: Reader, binding: &Binding) -> bool {
        let Binding::OneOf(refs) = binding else { return true };
        let plan = self.plan;
        let fallback = plan.one_of_fallback(reader.scope, refs);
        let mut branches: Vec<(&Ref, GroupIdx)> = Vec::new();
        for (i, r) in refs.iter().enumerate() {
            let Ref::Output { task, output } = r else { continue };
            // An unknown task is reported where the reference's type is checked.
            let Some(node) = plan.lookup(reader.scope, task) else { return true };
            let problem = if let Node::Sub(_) = node
                && !task_backed(plan, reader.scope, task, output, 0)
            {
                // A sub-pipeline's output worked out from its parameters alone exists even when
                // its branch did not run: only a task's output tells which branch ran.
                Some(format!(
                    "`{r}` is an output of a sub-pipeline that does not come from one of its tasks; `one_of` reads outputs that exist only when their task ran"
                ))
            } else if !plan.loops_between(node, reader.from).is_empty() {
                Some(format!(
                    "`{r}` is inside a loop that the reader is not in; `one_of` picks one value, it does not collect a loop's"
                ))
            } else if fallback && i == refs.len() - 1 {
                None
            } else {
                match plan.branch_of(node) {
                    None => Some(format!(
                        "`{r}` is not inside a branch (`if`, `elif` or `else`), and only the last output may be outside them (the fallback)"
                    )),
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
        let head = plan.chain_head(b0);
        // The reader waits for the chain: it must stand beside it (or inside what stands beside
        // it), neither in one of its branches nor in a group the chain is nested in apart.
        let chain_parent = plan.groups[head].parent.unwrap_or(GroupIdx::ROOT);
        if let Some(t) = reader.task {
            if let Some(b) = self.branches_holding(t).into_iter().find(|&b| plan.chain_head(b) == head) {
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
            if plan.chain_head(b) != head {
                let problem = format!(
                    "`{first}` and `{r}` are in branches of two chains (`{}`, `{}`)",
                    plan.groups[plan.chain_head(b0)].id,
                    plan.groups[plan.chain_head(b)].id
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
                "{problem}: `one_of` takes one output from each branch of one `if`/`elif`/`else` chain, so that one of them runs, like `{{one_of: [\"{{{{tasks.A.output}}}}\", \"{{{{tasks.B.output}}}}\"]}}` with A under `if` and B under `else`, or a last output outside the chain to fall back on"
            ),
        );
        false
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
}

/// Whether output `output` of task or sub-pipeline task `task` (in `scope`) exists only when
/// one of the sub-pipeline's tasks ran: it reads a task's output (through a `one_of` of such,
/// or a text with one in it), not only parameters and literals.
fn task_backed(plan: &crate::plan::Plan, scope: ScopeIdx, task: &str, output: &str, depth: usize) -> bool {
    let Some(Node::Sub(g)) = plan.lookup(scope, task) else { return plan.lookup(scope, task).is_some() };
    let Some(inner) = plan.groups[g].sub.as_ref().map(|s| s.scope) else { return false };
    let backed = |r: &Ref| match r {
        Ref::Output { task, output } => depth < MAX_FOLLOW && task_backed(plan, inner, task, output, depth + 1),
        _ => false,
    };
    match plan.scopes[inner].outputs.get(output) {
        Some(Ok(Binding::Ref(r))) => backed(r),
        Some(Ok(Binding::OneOf(refs))) => refs.iter().all(backed),
        Some(Ok(Binding::Format(parts))) => parts.iter().any(|p| matches!(p, Part::Ref(r) if backed(r))),
        Some(Ok(Binding::Literal(_))) => false,
        // An output that is not there never has a value (a call past `max_depth` holds an
        // empty pipeline); one that does not parse is reported where it is written.
        None | Some(Err(_)) => true,
    }
}

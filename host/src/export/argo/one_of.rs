//! `one_of`: the output of whichever branch of an `if`/`elif`/`else` chain ran, read by a step
//! beside the chain's branches (in the DAG that holds them) or as the output of the pipeline
//! whose DAG holds them. Its value is an `expr` expression over the branches' phases, the
//! first branch that succeeded giving its output (`tasks['B'].status == 'Succeeded' ?
//! tasks['B'].outputs.parameters['T--O'] : ...`), else the fallback (a last output outside the
//! chain); a reader depends on `(B1.Succeeded || B2.Succeeded || (B1.Skipped && B2.Skipped &&
//! F.Succeeded))`, so that it runs when a branch ran and succeeded, or none ran and the
//! fallback succeeded, as in wasmpipe. Elsewhere (a chain in another DAG than the reader's) it
//! is refused.

use std::collections::BTreeSet;

use super::names::quoted;
use super::reference::Source;
use super::{Exporter, Local, Scope};
use crate::model::binding::{Binding, Ref};
use crate::model::{Step, Task};

/// How a `one_of` is read in a DAG.
pub(super) struct OneOf {
    /// The value, as an `expr` expression.
    pub(super) expr: String,
    /// The `depends` term of a reader.
    pub(super) depends: String,
    /// The steps of the DAG that the term waits for.
    pub(super) steps: BTreeSet<String>,
    /// Whether a value always exists once the DAG succeeded: the outputs cover every branch
    /// of a chain with an `else`, or there is a fallback.
    pub(super) total: bool,
}

impl Exporter<'_> {
    /// How the `one_of` of `refs` is read in the DAG of `local`; why Argo cannot have it, if
    /// not.
    pub(super) fn one_of_plan(&self, refs: &[Ref], scope: &Scope, local: &Local<'_>) -> Result<OneOf, String> {
        let elsewhere = "one_of is exported to Argo only where the chain's branches are steps of the reader's DAG (the reader beside the chain, or the output of the pipeline that holds it)";
        let mut branches: Vec<(String, Source)> = Vec::new();
        let mut fallback: Option<(Source, Option<String>)> = None;
        for (i, r) in refs.iter().enumerate() {
            let Ref::Output { task, .. } = r else { return Err(elsewhere.into()) };
            let owner = local.owner.get(task.as_str()).filter(|_| !local.tasks.contains(task.as_str()));
            let source = self.reference(r, scope, local, None)?;
            match owner {
                Some(o) if local.branches.contains(o) && !branches.iter().any(|(b, _)| b == o) => {
                    branches.push((o.clone(), source))
                }
                _ if i + 1 == refs.len() && !branches.is_empty() => {
                    let step = local.owner.get(task.as_str()).cloned();
                    fallback = Some((source, step));
                }
                _ => return Err(elsewhere.into()),
            }
        }
        let Some(((_, last_source), earlier)) = branches.split_last() else { return Err(elsewhere.into()) };
        let (mut expr, rest) = match &fallback {
            Some((source, _)) => (source.expr(), &branches[..]),
            None => (last_source.expr(), earlier),
        };
        for (branch, source) in rest.iter().rev() {
            expr = format!("(tasks[{}].status == 'Succeeded' ? {} : {expr})", quoted(branch), source.expr());
        }
        let succeeded: Vec<String> = branches.iter().map(|(b, _)| format!("{b}.Succeeded")).collect();
        let mut steps: BTreeSet<String> = branches.iter().map(|(b, _)| b.clone()).collect();
        let depends = match &fallback {
            None => format!("({})", succeeded.join(" || ")),
            Some((_, step)) => {
                let mut none: Vec<String> = branches.iter().map(|(b, _)| format!("{b}.Skipped")).collect();
                if let Some(step) = step {
                    none.push(format!("{step}.Succeeded"));
                    steps.insert(step.clone());
                }
                format!("({} || ({}))", succeeded.join(" || "), none.join(" && "))
            }
        };
        let chosen: BTreeSet<&str> = branches.iter().map(|(b, _)| b.as_str()).collect();
        let total =
            fallback.is_some() || self.chains(local).iter().any(|(chain, has_else)| *has_else && *chain == chosen);
        Ok(OneOf { expr, depends, steps, total })
    }

    /// The `if`/`elif`/`else` chains of the DAG of `local`: the Argo names of their branches,
    /// and whether each ends with an `else`.
    fn chains<'l>(&self, local: &'l Local<'_>) -> Vec<(BTreeSet<&'l str>, bool)> {
        let mut chains: Vec<(BTreeSet<&str>, bool)> = Vec::new();
        for step in local.steps {
            let name = self.group_name(step).replace('_', "-");
            let Some(argo) = local.branches.get(name.as_str()) else { continue };
            match step {
                Step::If(_) => chains.push((BTreeSet::from([argo.as_str()]), false)),
                Step::Elif(_) | Step::Else(_) => {
                    if let Some(chain) = chains.last_mut() {
                        chain.0.insert(argo.as_str());
                        chain.1 = matches!(step, Step::Else(_));
                    }
                }
                _ => {}
            }
        }
        chains
    }

    /// The `depends` terms of the `one_of` inputs of `task` (a step of the DAG of `local`),
    /// and the steps they alone wait for (left out of its other terms).
    pub(super) fn one_of_depends(
        &self,
        task: &Task,
        scope: &Scope,
        local: &Local<'_>,
    ) -> (Vec<String>, BTreeSet<String>) {
        let (mut terms, mut covered) = (Vec::new(), BTreeSet::new());
        let mut others: BTreeSet<String> =
            task.after.iter().filter_map(|a| local.owner.get(a.as_str()).cloned()).collect();
        for value in task.inputs.values() {
            match Binding::parse(value) {
                Ok(Binding::OneOf(refs)) => {
                    if let Ok(plan) = self.one_of_plan(&refs, scope, local) {
                        terms.push(plan.depends);
                        covered.extend(plan.steps);
                    }
                }
                Ok(binding) => others.extend(binding.refs().into_iter().filter_map(|r| match r {
                    Ref::Output { task, .. } => local.owner.get(task.as_str()).cloned(),
                    _ => None,
                })),
                Err(_) => {}
            }
        }
        covered.retain(|s| !others.contains(s));
        (terms, covered)
    }
}

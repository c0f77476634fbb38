//! `one_of` (KFP's `dsl.OneOf`): the output of whichever branch of an `if`/`elif`/`else`
//! chain ran, as KFP's compiler writes it. The chain's `condition-branches-N` DAG gives an
//! output `pipelinechannel--condition-branches-N-oneof-K` whose `valueFromOneof` selects, per
//! branch, the branch DAG's output of the task that branch holds; readers take that output of
//! the chain's task.

use serde_json::{Value, json};

use super::dag_outputs::Port;
use super::{Exporter, Local, Source, output_channel};
use crate::model::binding::Ref;
use crate::model::value::ValueType;

/// A `one_of` output a chain's DAG gives, written once every component is.
pub(super) struct OneOfOutput {
    /// The DAG component of the reader (None: the root), whose task `chain` runs the chain.
    dag: Option<String>,
    chain: String,
    /// The output's name in the chain's DAG.
    key: String,
    /// The outputs it selects among: (task, output), one per branch.
    refs: Vec<(String, String)>,
}

impl Exporter<'_> {
    /// Where a `one_of` of `refs`, read in the DAG `dag` whose steps are `local`, comes from,
    /// and its type; None (refused at `at`) unless the chain is one of that DAG's groups.
    pub(super) fn one_of_source(
        &mut self,
        refs: &[Ref],
        dag: &Option<String>,
        local: &Local<'_>,
        at: &str,
    ) -> Option<(Source, ValueType)> {
        let outputs: Vec<(String, String)> = refs
            .iter()
            .filter_map(|r| match r {
                Ref::Output { task, output } => Some((task.clone(), output.clone())),
                _ => None,
            })
            .collect();
        let chains: Vec<&str> = outputs.iter().filter_map(|(t, _)| local.group_of(t).map(|(g, _)| g)).collect();
        let chain = match chains.first() {
            Some(first) if chains.len() == refs.len() && chains.iter().all(|c| c == first) => first.to_string(),
            _ => {
                self.refuse(at, "a `one_of` read outside the DAG that holds its if/elif/else chain is not exported yet; read it beside the chain");
                return None;
            }
        };
        let same_chain = self.one_ofs.iter().filter(|o| &o.dag == dag && o.chain == chain);
        let key = match same_chain.clone().find(|o| o.refs == outputs) {
            Some(o) => o.key.clone(),
            None => {
                let key = format!("pipelinechannel--{chain}-oneof-{}", same_chain.count() + 1);
                self.one_ofs.push(OneOfOutput {
                    dag: dag.clone(),
                    chain: chain.clone(),
                    key: key.clone(),
                    refs: outputs.clone(),
                });
                key
            }
        };
        let (task, output) = &outputs[0];
        let ty = self.output_type(task, output).unwrap_or(ValueType::String);
        Some((Source::Group { group: chain, key }, ty))
    }

    /// Writes the `one_of` outputs readers asked for into their chains' DAGs.
    pub(super) fn one_of_outputs(&mut self, root: &Value) {
        for o in std::mem::take(&mut self.one_ofs) {
            let owner = match &o.dag {
                None => root,
                Some(c) => &self.out_components[c],
            };
            let comp = owner["dag"]["tasks"][&o.chain]["componentRef"]["name"].as_str().unwrap_or_default().to_string();
            let branches = self.out_components[&comp]["dag"]["tasks"].as_object().cloned().unwrap_or_default();
            let mut selectors = Vec::new();
            let mut ty = None;
            for (task, output) in &o.refs {
                let found = branches.iter().find_map(|(branch, spec)| {
                    let inner = spec["componentRef"]["name"].as_str()?;
                    self.dag_holds(inner, task).then(|| (branch.clone(), inner.to_string()))
                });
                let Some((branch, inner)) = found else { continue };
                match self.expose(&inner, task, output) {
                    Some(Port::Parameter(t)) => ty = ty.or(Some(t)),
                    _ => {
                        self.refuse(
                            "outputs",
                            format!("a `one_of` of artifacts (`{task}`'s `{output}`) is not exported yet"),
                        );
                        continue;
                    }
                }
                selectors.push(json!({"producerSubtask": branch, "outputParameterKey": output_channel(task, output)}));
            }
            let component = self.out_components.get_mut(&comp).expect("the chain's DAG is written");
            component["dag"]["outputs"]["parameters"][&o.key] =
                json!({"valueFromOneof": {"parameterSelectors": selectors}});
            component["outputDefinitions"]["parameters"][&o.key] =
                json!({"parameterType": ty.unwrap_or_else(|| "STRING".into())});
        }
    }
}

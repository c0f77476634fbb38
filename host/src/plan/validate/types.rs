//! Types (`docs/semantics.md`, rule 12, types): the type of what a binding passes, and whether
//! it fits the input it is bound to: a literal must convert to the input's type, a reference's
//! type must be one the input accepts (an int may feed a float, not the reverse), an artifact
//! goes only to an artifact input, whose kind and shape it must have, and is never formatted
//! into a string; a `final-status` input is not bound at all (rule 5).

use super::{Bound, Checker, Reader};
use crate::model::artifact;
use crate::model::binding::{Binding, Ref};
use crate::model::component::{PortType, Signature};
use crate::model::value::ValueType;
use crate::plan::{GroupIdx, Node};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// The declared type of what `binding` produces, read by `reader`, reporting unknown
    /// references; None where unknown (a problem reported, or a component that did not load). A
    /// literal has its own type, a string with references formatted into it is a string, and a
    /// lone reference has the type of what it reaches.
    pub(super) fn binding_type(&mut self, reader: Reader, binding: &Binding) -> Option<ValueType> {
        let mut types = Vec::new();
        for r in binding.refs() {
            types.push(self.ref_type(reader, r)?);
        }
        match binding {
            Binding::Literal(v) => Some(ValueType::of(v)),
            Binding::Format(_)
                if types.contains(&ValueType::Artifact)
                    || binding.refs().into_iter().any(|r| self.collects_artifacts(reader, r)) =>
            {
                self.error(
                    reader.scope,
                    reader.path,
                    "an artifact cannot be formatted into a string; bind it alone (`\"{{tasks.TASK.outputs.NAME}}\"`) to an artifact input".into(),
                );
                None
            }
            Binding::Ref(_) => types.pop(),
            Binding::Format(_) => Some(ValueType::String),
            Binding::OneOf(refs) => {
                // One type for all (`any` fits any), which the binding has.
                let typed: Vec<(&Ref, ValueType)> =
                    refs.iter().zip(types).filter(|(_, ty)| *ty != ValueType::Any).collect();
                match typed.iter().find(|(_, ty)| *ty != typed[0].1) {
                    Some((other, ty)) => {
                        let (first, first_ty) = typed[0];
                        self.error(
                            reader.scope,
                            reader.path,
                            format!("`one_of` passes one value, so its outputs must have one type: `{first}` is {first_ty}, `{other}` is {ty}; make them return the same type"),
                        );
                        None
                    }
                    None => Some(typed.first().map_or(ValueType::Any, |(_, ty)| *ty)),
                }
            }
        }
    }

    /// Checks that `bound` fits a component input of type `ty`.
    pub(super) fn check_port_type(&mut self, bound: &Bound, ty: &PortType) {
        match ty {
            PortType::FinalStatus => self.error(
                bound.at.scope,
                bound.at.path,
                format!(
                    "input `{}` has type final_status: wasmpipe fills it for exit tasks; remove the binding (see {})",
                    bound.input,
                    crate::model::diag::rule(5, "Final status")
                ),
            ),
            PortType::Artifact { kind, directory } => {
                self.check_input_type(bound, ValueType::Artifact);
                self.check_artifact_kind(bound, kind, *directory);
            }
            PortType::Value(want) => self.check_input_type(bound, *want),
        }
    }

    /// Checks that `bound` fits an input of type `want`: a literal must convert to the type, and
    /// a reference's type (where known) must be accepted.
    pub(super) fn check_input_type(&mut self, bound: &Bound, want: ValueType) {
        let (scope, path, input, task, got) = (bound.at.scope, bound.at.path, bound.input, bound.task, bound.got);
        let artifact_in = want == ValueType::Artifact;
        let whole = matches!(bound.binding, Binding::Ref(_) | Binding::OneOf(_));
        let collected = matches!(bound.binding, Binding::Ref(r) if self.collects_artifacts(bound.at, r));
        if collected && want != ValueType::List && want != ValueType::Any {
            self.error(
                scope,
                path,
                format!(
                    "input `{input}` of task `{task}` is {want}, but it is bound to the artifacts of every iteration of a loop; make it a list of artifacts (Rust `Vec<Input<Dataset>>`, Python `Input[List[Dataset]]`), or read the artifact inside the loop"
                ),
            );
        } else if artifact_in && (!whole || got.is_some_and(|g| g != ValueType::Artifact)) {
            self.error(
                scope,
                path,
                format!(
                    "input `{input}` of task `{task}` takes an artifact: bind it to an artifact output (`{{{{tasks.TASK.outputs.NAME}}}}`) or an artifact parameter (`{{{{params.NAME}}}}`)"
                ),
            );
        } else if !artifact_in && got == Some(ValueType::Artifact) {
            self.error(
                scope,
                path,
                format!(
                    "input `{input}` of task `{task}` is {want}, but it is bound to an artifact; only an artifact input can take one"
                ),
            );
        } else if let Binding::Literal(v) = bound.binding {
            if let Err(e) = want.coerce(v.clone()) {
                self.error(scope, path, format!("input `{input}` of task `{task}` is {want}: {e}"));
            }
        } else if let Some(got) = got
            && !want.accepts(got)
        {
            self.error(
                scope,
                path,
                format!(
                    "input `{input}` of task `{task}` is {want}, but it is bound to a {got} value; bind a {want} (an int may feed a float, not the reverse)"
                ),
            );
        }
    }

    /// Checks that the artifact `bound` passes, where the pipeline tells its kind and shape, is of
    /// kind `kind` and is a directory or a file as `directory` says.
    fn check_artifact_kind(&mut self, bound: &Bound, kind: &str, directory: bool) {
        // Each output a `one_of` may pass must fit.
        let sources: Vec<_> = match bound.binding {
            Binding::OneOf(refs) => {
                refs.iter().filter_map(|r| self.artifact_source(bound.at, &Binding::Ref(r.clone()))).collect()
            }
            other => self.artifact_source(bound.at, other).into_iter().collect(),
        };
        let misfit = sources.into_iter().find(|(from_kind, from_dir)| {
            !artifact::kinds_match((from_kind, from_dir.unwrap_or(directory)), (kind, directory))
        });
        let Some((from_kind, from_dir)) = misfit else { return };
        let shape = |d: bool| if d { "a directory" } else { "a file" };
        let got = match from_dir {
            Some(d) => format!("{from_kind}, {}", shape(d)),
            None => from_kind,
        };
        self.error(
            bound.at.scope,
            bound.at.path,
            format!(
                "input `{}` of task `{}` takes a {kind} artifact ({}), but it is bound to a {got} artifact; bind one of kind {kind}, or make the input's kind `Artifact` to take any",
                bound.input,
                bound.task,
                shape(directory)
            ),
        );
    }

    /// The kind of the artifact that `binding` (read by `at`) passes, and whether it is a
    /// directory (None: either), where the pipeline tells.
    fn artifact_source(&self, at: Reader, binding: &Binding) -> Option<(String, Option<bool>)> {
        let Binding::Ref(r) = binding else { return None };
        let scope = at.scope;
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
            // An item of a loop over collected artifacts: one of its producer's.
            Ref::Item { var, field: None } => {
                let l = self.plan.loop_of_var(at.from, var)?;
                let group = &self.plan.groups[l];
                let Ok(Binding::Ref(items)) = &group.looping.as_ref()?.items else { return None };
                let (p, output) = self.artifact_items(group.scope, group.parent.unwrap_or(GroupIdx::ROOT), items)?;
                match &self.signature(p)?.output(&output)?.ty {
                    PortType::Artifact { kind, directory } => Some((kind.clone(), Some(*directory))),
                    _ => None,
                }
            }
            Ref::Item { .. } => None,
        }
    }
}

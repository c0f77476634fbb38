//! Declarations of WASI command components (`docs/semantics.md`, rule 12, bad command
//! declarations): placeholders in `args` and `env` that parse and name declared inputs and
//! outputs, artifact outputs not read from stdout, input and output names made of letters,
//! digits, `-` and `_`, and input defaults that fit their type (none for an artifact).

use super::Checker;
use crate::model::artifact::plain_name;
use crate::model::component::Signature;
use crate::model::template::placeholders;
use crate::model::value::ValueType;
use crate::model::{CommandSpec, OutputFrom};

/// A problem in a command declaration: its path and its message.
type Problem = (String, String);

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks the declarations of WASI command components: placeholders that name declared
    /// inputs and outputs, and outputs that can come from where they say.
    pub(super) fn commands(&mut self) {
        let plan = self.plan;
        for s in plan.scopes.indices() {
            for (name, c) in &plan.scopes[s].pipeline.components {
                let Some(spec) = &c.command else { continue };
                let at = format!("components.{name}.command");
                let problems = template_problems(name, spec, &at)
                    .into_iter()
                    .chain(output_problems(name, spec, &at))
                    .chain(input_problems(name, spec, &at));
                for (path, message) in problems {
                    self.error(s, &path, message);
                }
            }
        }
    }
}

/// The placeholders of command `name`'s `args` and `env` (declared at `at`) that do not parse or
/// name an input or output it does not declare.
fn template_problems(name: &str, spec: &CommandSpec, at: &str) -> Vec<Problem> {
    let args = spec.args.iter().enumerate().map(|(i, a)| (format!("{at}.args[{i}]"), a));
    let env = spec.env.iter().map(|(k, v)| (format!("{at}.env.{k}"), v));
    let mut problems = Vec::new();
    for (path, template) in args.chain(env) {
        let found = match placeholders(template) {
            Ok(found) => found,
            Err(e) => {
                problems.push((path, e));
                continue;
            }
        };
        for (side, port) in found {
            let known = if side == "inputs" { spec.inputs.contains_key(port) } else { spec.outputs.contains_key(port) };
            if !known {
                problems.push((path.clone(), format!("`{{{{{side}.{port}}}}}`: command `{name}` declares no {} `{port}`; declare it under `command.{side}`", &side[..side.len() - 1])));
            }
        }
    }
    problems
}

/// The outputs of command `name` (declared at `at`) that are artifacts read from stdout, or whose
/// names have other characters than letters, digits, `-` and `_`.
fn output_problems(name: &str, spec: &CommandSpec, at: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (port, output) in &spec.outputs {
        if output.ty == ValueType::Artifact && output.from == OutputFrom::Stdout {
            problems.push((
                format!("{at}.outputs.{port}"),
                format!("output `{port}` of command `{name}` is an artifact: it is written at `/out/{port}`, not read from stdout; remove `from: stdout`"),
            ));
        }
        if !plain_name(port) {
            problems.push((
                format!("{at}.outputs.{port}"),
                format!("output name `{port}` may use only letters, digits, `-` and `_`"),
            ));
        }
    }
    problems
}

/// The inputs of command `name` (declared at `at`) whose names have other characters than
/// letters, digits, `-` and `_`, or with a default that is not allowed (an artifact's) or does
/// not fit their type.
fn input_problems(name: &str, spec: &CommandSpec, at: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (port, input) in &spec.inputs {
        if !plain_name(port) {
            problems.push((
                format!("{at}.inputs.{port}"),
                format!("input name `{port}` may use only letters, digits, `-` and `_`"),
            ));
        }
        if input.ty == ValueType::Artifact && input.default.is_some() {
            problems.push((
                format!("{at}.inputs.{port}.default"),
                format!(
                    "input `{port}` of command `{name}` is an artifact and cannot have a default; bind it in the task"
                ),
            ));
        } else if let Some(d) = &input.default
            && let Err(e) = input.ty.coerce(d.clone())
        {
            problems.push((
                format!("{at}.inputs.{port}.default"),
                format!("the default of input `{port}` does not match its type: {e}"),
            ));
        }
    }
    problems
}

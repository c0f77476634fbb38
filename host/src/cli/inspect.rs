//! `wasmpipe inspect`: a component's signature (its inputs and outputs, with their types), for
//! people or as JSON.

use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use wasmpipe::model::component::{InputSpec, PortType, Signature};
use wasmpipe::model::diag::Diagnostic;
use wasmpipe::run::Runner;

use super::args::Output;
use super::output::report_errors;

/// Loads the component and prints its signature: exit code 0, or 2 when it does not load.
pub async fn inspect(component: &Path, output: Output) -> anyhow::Result<ExitCode> {
    // Nothing runs here: no pool to build.
    let runner = Runner::new()?.without_pooling();
    match runner.describe(component).await? {
        Ok(signature) => {
            match output {
                Output::Json => outln!("{}", serde_json::to_string_pretty(&signature_json(&signature))?),
                Output::Human => print_signature(component, &signature),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let d = Diagnostic {
                file: component.display().to_string(),
                path: String::new(),
                line: None,
                message: e.message,
            };
            Ok(report_errors(&d.into(), output))
        }
    }
}

/// The signature as `--output json` prints it.
fn signature_json(sig: &Signature) -> serde_json::Value {
    json!({
        "name": sig.name,
        "description": sig.description,
        "inputs": sig.inputs.iter().map(|i| json!({
            "name": i.name, "type": i.ty.to_string(), "required": i.required,
            "default": i.default, "description": i.description,
        })).collect::<Vec<_>>(),
        "outputs": sig.outputs.iter().map(|o| json!({
            "name": o.name, "type": o.ty.to_string(), "description": o.description,
        })).collect::<Vec<_>>(),
    })
}

/// Prints the signature for people: name, path and description, then a line per input and
/// per output.
fn print_signature(path: &Path, sig: &Signature) {
    outln!("{} ({})", sig.name, path.display());
    if !sig.description.is_empty() {
        outln!("  {}", sig.description.replace('\n', "\n  "));
    }
    outln!("inputs:");
    if sig.inputs.is_empty() {
        outln!("  (none)");
    }
    for i in &sig.inputs {
        outln!("  {}: {}{}", i.name, i.ty, input_note(i));
    }
    outln!("outputs:");
    if sig.outputs.is_empty() {
        outln!("  (none)");
    }
    for o in &sig.outputs {
        outln!("  {}: {}", o.name, o.ty);
    }
}

/// What an input's line says after its type: who fills it, or whether it is required.
fn input_note(input: &InputSpec) -> String {
    match (&input.ty, input.required, &input.default) {
        (PortType::FinalStatus, _, _) => " (filled by wasmpipe for exit tasks)".to_string(),
        (_, true, _) => " (required)".to_string(),
        (_, false, Some(d)) => format!(" (default {d})"),
        (_, false, None) => " (optional)".to_string(),
    }
}

//! `wasmpipe schema`: prints one of the JSON Schemas shipped in `schemas/`.

use std::process::ExitCode;

use super::args::SchemaKind;

/// Prints the schema, pretty: exit code 0.
pub fn print_schema(which: SchemaKind) -> anyhow::Result<ExitCode> {
    let schema = match which {
        SchemaKind::Pipeline => wasmpipe::model::schema(),
        SchemaKind::RunRecord => wasmpipe::record::schema(),
    };
    outln!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(ExitCode::SUCCESS)
}

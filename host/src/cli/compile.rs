//! `wasmpipe compile --target kfp|argo`: the pipeline as another engine's document (see
//! `wasmpipe::export`). Reads the file, describes each component (its signature, as
//! `wasmpipe inspect` does) and hashes it, then writes the target's document or every refusal.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use wasmpipe::export::argo::to_argo;
use wasmpipe::export::kfp::to_kfp;
use wasmpipe::export::{ComponentInfo, ExportOptions};
use wasmpipe::model::diag::Diagnostics;
use wasmpipe::model::emit::yaml_text;
use wasmpipe::model::load::load_file;
use wasmpipe::run::Runner;

use super::args::{CompileTarget, Output};
use super::output::report_errors;

/// Writes `file` compiled for `target` to `out`: exit code 0, or 2 with every problem.
pub async fn compile(
    file: &Path,
    target: CompileTarget,
    out: &Path,
    image: String,
    components_dir: String,
    copy_components: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let loaded = match load_file(file) {
        Ok(loaded) => loaded,
        Err(diags) => return Ok(report_errors(&diags, Output::Human)),
    };
    let runner = Runner::new()?.without_pooling();
    let mut infos: BTreeMap<String, ComponentInfo> = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, component) in &loaded.pipeline.components {
        // Sub-pipelines and commands are refused by the export where a task uses them.
        let (Some(path), None, None) = (&component.path, &component.pipeline, &component.command) else { continue };
        let full = loaded.base_dir.join(path);
        let bytes = match std::fs::read(&full) {
            Ok(bytes) => bytes,
            Err(e) => {
                errors.push(
                    loaded
                        .source
                        .error(&format!("components.{name}.path"), format!("cannot read {}: {e}", full.display())),
                );
                continue;
            }
        };
        match runner.describe(&full).await? {
            Ok(signature) => {
                let file = full.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                let digest = format!("blake3:{}", blake3::hash(&bytes).to_hex());
                infos.insert(name.clone(), ComponentInfo { signature, file, digest });
            }
            Err(e) => errors.push(loaded.source.error(&format!("components.{name}"), e.message)),
        }
    }
    // In the image the components sit side by side, by file name: two different ones of one
    // name would be one file there.
    let mut by_file: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for (name, info) in &infos {
        if let Some((other, digest)) = by_file.insert(&info.file, (name, &info.digest))
            && digest != info.digest
        {
            errors.push(loaded.source.error(
                &format!("components.{name}.path"),
                format!("components `{other}` and `{name}` are both files named `{}`, with different contents, and the image holds components by file name: rename one", info.file),
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(refused(&Diagnostics { errors }));
    }
    let options = ExportOptions { image, components_dir };
    let (exported, what) = match target {
        CompileTarget::Kfp => (to_kfp(&loaded.pipeline, &infos, &options), "KFP's IR"),
        CompileTarget::Argo => (to_argo(&loaded.pipeline, &infos, &options), "an Argo Workflow"),
    };
    let document = match exported {
        Ok(document) => document,
        Err(refusals) => {
            let errors = refusals
                .into_iter()
                .map(|r| loaded.source.error(&r.path, format!("cannot compile to {what}: {}", r.message)))
                .collect();
            return Ok(refused(&Diagnostics { errors }));
        }
    };
    let text = if out.extension().is_some_and(|e| e == "json") {
        serde_json::to_string_pretty(&document)? + "\n"
    } else {
        yaml_text(&document)
    };
    std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
    if let Some(dir) = copy_components {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
        for (name, component) in &loaded.pipeline.components {
            let (Some(path), Some(info)) = (&component.path, infos.get(name)) else { continue };
            let to = dir.join(&info.file);
            std::fs::copy(loaded.base_dir.join(path), &to)
                .with_context(|| format!("cannot copy component `{name}` to {}", to.display()))?;
        }
    }
    eprintln!("wrote {} ({what}: each task runs `wasmpipe task-run` in the runner image)", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Prints every problem and what happened: exit code 2.
fn refused(diags: &Diagnostics) -> ExitCode {
    for d in &diags.errors {
        eprintln!("error: {d}");
    }
    eprintln!("{} problem(s) found; nothing written", diags.errors.len());
    ExitCode::from(2)
}

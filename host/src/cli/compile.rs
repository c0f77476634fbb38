//! `wasmpipe compile --target kfp|argo`: the pipeline as another engine's document (see
//! `wasmpipe::export`). Reads the file, describes each component (its signature, as
//! `wasmpipe inspect` does) and hashes it, reads its sub-pipelines the same way, then writes the
//! target's document or every refusal. What `wasmpipe validate` finds is refused first.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;

use anyhow::Context;
use wasmpipe::export::argo::to_argo;
use wasmpipe::export::kfp::to_kfp;
use wasmpipe::export::{ComponentInfo, Document, ExportOptions};
use wasmpipe::model::Pipeline;
use wasmpipe::model::component::Signature;
use wasmpipe::model::diag::{Diagnostic, Diagnostics};
use wasmpipe::model::emit::yaml_text;
use wasmpipe::model::load::{Loaded, SourceMap, load_file};
use wasmpipe::model::value::ValueType;
use wasmpipe::run::{RunOptions, Runner};

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
    // What `wasmpipe validate` finds stops the export too; parameters the run will be given
    // (those without a default) get a stand-in of their type, which no check reads.
    let diags = runner.check_file(file, &stand_ins(&loaded.pipeline, file)).await;
    if !diags.errors.is_empty() {
        return Ok(refused(&diags));
    }
    let mut errors = Vec::new();
    let mut stack = vec![std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf())];
    let doc = read_document(&runner, loaded, file.display().to_string(), &mut stack, &mut errors).await?;
    // In the image the components sit side by side, by file name: two different ones of one
    // name would be one file there.
    let mut by_file: BTreeMap<String, (String, String)> = BTreeMap::new();
    each_component(&doc, &mut |d, name, info, _| {
        if let Some((other, digest)) = by_file.insert(info.file.clone(), (name.to_string(), info.digest.clone()))
            && digest != info.digest
        {
            errors.push(d.error(
                &format!("components.{name}.path"),
                format!("components `{other}` and `{name}` are both files named `{}`, with different contents, and the image holds components by file name: rename one", info.file),
            ));
        }
    });
    if !errors.is_empty() {
        return Ok(refused(&Diagnostics { errors }));
    }
    let options = ExportOptions { image, components_dir };
    let (exported, what) = match target {
        CompileTarget::Kfp => (to_kfp(&doc.document, &options), "KFP's IR"),
        CompileTarget::Argo => (to_argo(&doc.document, &options), "an Argo Workflow"),
    };
    let document = match exported {
        Ok(document) => document,
        Err(refusals) => {
            let errors = refusals
                .into_iter()
                .map(|r| doc.source.error(&r.path, format!("cannot compile to {what}: {}", r.message)))
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
        let mut copies = Vec::new();
        each_component(&doc, &mut |_, name, info, from| copies.push((name.to_string(), from, dir.join(&info.file))));
        for (name, from, to) in copies {
            std::fs::copy(&from, &to).with_context(|| format!("cannot copy component `{name}` to {}", to.display()))?;
        }
    }
    eprintln!("wrote {} ({what}: each task runs `wasmpipe task-run` in the runner image)", out.display());
    Ok(ExitCode::SUCCESS)
}

/// A pipeline file read for the export, with where its parts are written and where its
/// components are, and its sub-pipelines read the same way.
struct Read {
    document: Document,
    source: SourceMap,
    base_dir: PathBuf,
    subs: Vec<Read>,
}

impl Read {
    fn error(&self, path: &str, message: String) -> Diagnostic {
        self.source.error(path, message)
    }
}

/// Calls `f` with each task component of `read` and of its sub-pipelines: the file it is
/// declared in, its name, what it is, and its path.
fn each_component(read: &Read, f: &mut dyn FnMut(&Read, &str, &ComponentInfo, PathBuf)) {
    for (name, info) in &read.document.components {
        if let Some(path) = read.document.pipeline.components.get(name).and_then(|c| c.path.as_ref()) {
            f(read, name, info, read.base_dir.join(path));
        }
    }
    for sub in &read.subs {
        each_component(sub, f);
    }
}

/// Reads what the export needs of `loaded` (file `name`): each task component described (its
/// signature, as `wasmpipe inspect` gives it) and hashed, each sub-pipeline read the same way.
/// A sub-pipeline that runs a file already being read (a pipeline that runs itself) is left
/// out: the export refuses the task that uses it. `stack` holds the files being read.
fn read_document<'a>(
    runner: &'a Runner,
    loaded: Loaded,
    name: String,
    stack: &'a mut Vec<PathBuf>,
    errors: &'a mut Vec<Diagnostic>,
) -> Pin<Box<dyn Future<Output = anyhow::Result<Read>> + Send + 'a>> {
    Box::pin(async move {
        let mut components = BTreeMap::new();
        let mut subs = BTreeMap::new();
        let mut reads = Vec::new();
        for (component, decl) in &loaded.pipeline.components {
            if let Some(sub) = &decl.pipeline {
                let full = loaded.base_dir.join(sub);
                let canonical = std::fs::canonicalize(&full).unwrap_or_else(|_| full.clone());
                if decl.max_depth.is_some() || stack.contains(&canonical) {
                    continue;
                }
                let inner = match load_file(&full) {
                    Ok(inner) => inner,
                    Err(diags) => {
                        errors.extend(diags.errors);
                        continue;
                    }
                };
                stack.push(canonical);
                let read = read_document(runner, inner, full.display().to_string(), stack, errors).await?;
                stack.pop();
                subs.insert(component.clone(), read.document.clone());
                reads.push(read);
                continue;
            }
            let Some(path) = &decl.path else { continue };
            let full = loaded.base_dir.join(path);
            let bytes = match std::fs::read(&full) {
                Ok(bytes) => bytes,
                Err(e) => {
                    errors.push(loaded.source.error(
                        &format!("components.{component}.path"),
                        format!("cannot read {}: {e}", full.display()),
                    ));
                    continue;
                }
            };
            // A command's interface is the pipeline's declaration (the file is checked by the
            // validation above); a task component's, what it says of itself.
            let signature = match &decl.command {
                Some(spec) => Ok(Signature::of_command(spec)),
                None => runner.describe(&full).await?,
            };
            match signature {
                Ok(signature) => {
                    let file = full.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                    let digest = format!("blake3:{}", blake3::hash(&bytes).to_hex());
                    let command = decl.command.clone();
                    components.insert(component.clone(), ComponentInfo { signature, file, digest, command });
                }
                Err(e) => errors.push(loaded.source.error(&format!("components.{component}"), e.message)),
            }
        }
        let document = Document { pipeline: loaded.pipeline, components, subs, file: name };
        Ok(Read { document, source: loaded.source, base_dir: loaded.base_dir, subs: reads })
    })
}

/// Stand-in values for the parameters of `pipeline` that have no default (the run is given
/// them, the export does not need them): a value of each type, and `file` for artifacts; as
/// the options of a check.
fn stand_ins(pipeline: &Pipeline, file: &Path) -> RunOptions {
    let (mut params, mut artifacts) = (Vec::new(), Vec::new());
    for (name, param) in pipeline.params.iter().filter(|(_, p)| p.default.is_none()) {
        let text = match param.ty {
            ValueType::String => "x",
            ValueType::Int | ValueType::Float => "0",
            ValueType::Bool => "false",
            ValueType::List => "[]",
            ValueType::Dict => "{}",
            ValueType::Any => "null",
            ValueType::Artifact => {
                artifacts.push((name.clone(), file.to_path_buf()));
                continue;
            }
        };
        params.push((name.clone(), text.to_string()));
    }
    RunOptions { params, artifacts, ..RunOptions::default() }
}

/// Prints every problem and what happened: exit code 2.
fn refused(diags: &Diagnostics) -> ExitCode {
    for d in &diags.errors {
        eprintln!("error: {d}");
    }
    eprintln!("{} problem(s) found; nothing written", diags.errors.len());
    ExitCode::from(2)
}

//! Building components from source: a component may declare a `build:` command and the sources
//! it reads; `wasmpipe build PIPELINE` (and `wasmpipe run --build`) runs the commands of the
//! components that are stale, in the pipeline file and the sub-pipelines it uses.
//!
//! A component is stale when its file is missing or the hash of its sources (their paths and
//! contents, and the command itself) differs from the hash recorded at its last build, in
//! `<path>.build-hash` beside the file. Builds that take tens of seconds (componentize-py) are
//! then paid once per change of source.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::model::diag::Diagnostics;
use crate::model::load;
use crate::model::{BuildCommand, BuildSpec};
use crate::plan::Plan;

/// What happened to one component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It was stale and was built, in this time.
    Built(Duration),
    /// Its sources did not change since its last build.
    UpToDate,
}

/// One component with a `build:` and what became of it.
#[derive(Clone, Debug)]
pub struct Report {
    /// The component's name in its pipeline file.
    pub name: String,
    /// The component file.
    pub path: PathBuf,
    /// Built or up to date.
    pub outcome: Outcome,
}

/// Builds the stale components of the pipeline in `file` and of the sub-pipelines it uses, in
/// declaration order; stops at the first that fails, with a message naming the component, the
/// command and the tail of what it printed. `on_start` hears of each build as it starts,
/// `on_done` of each component as it is found up to date or built.
///
/// ```no_run
/// use wasmpipe::authoring::component_build::{Outcome, build_pipeline};
///
/// let built = build_pipeline(
///     "pipeline.yaml".as_ref(),
///     |name, _path| eprintln!("building {name}"),
///     |report| if let Outcome::Built(took) = report.outcome { eprintln!("{} in {took:?}", report.name) },
/// );
/// ```
pub fn build_pipeline(
    file: &Path,
    mut on_start: impl FnMut(&str, &Path),
    mut on_done: impl FnMut(&Report),
) -> Result<Vec<Report>, Diagnostics> {
    let loaded = load::load_file(file)?;
    let plan = Plan::build(loaded);
    let mut reports: Vec<Report> = Vec::new();
    for scope in &plan.scopes {
        let base = scope.source.file.parent().unwrap_or(Path::new(".")).to_path_buf();
        for (name, component) in &scope.pipeline.components {
            let (Some(path), Some(spec)) = (&component.path, &component.build) else { continue };
            let path = base.join(path);
            if reports.iter().any(|r| r.path == path) {
                continue;
            }
            let fail = |message: String| Diagnostics {
                errors: vec![
                    scope.source.error(&format!("components.{name}.build"), format!("component `{name}`: {message}")),
                ],
            };
            let hash = source_hash(&base, spec).map_err(fail)?;
            let stamp = stamp_of(&path);
            let fresh = path.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == hash);
            let outcome = if fresh {
                Outcome::UpToDate
            } else {
                on_start(name, &path);
                let started = Instant::now();
                run_build(&base, spec, &path).map_err(fail)?;
                std::fs::write(&stamp, &hash)
                    .map_err(|e| fail(format!("cannot write the build stamp {}: {e}", stamp.display())))?;
                Outcome::Built(started.elapsed())
            };
            let report = Report { name: name.clone(), path, outcome };
            on_done(&report);
            reports.push(report);
        }
    }
    Ok(reports)
}

/// Where the hash of a component's sources at its last build is kept.
fn stamp_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".build-hash");
    path.with_file_name(name)
}

/// The hash of a build's command and of its sources: each file's path (relative to `base`)
/// and contents, directories walked in name order.
fn source_hash(base: &Path, spec: &BuildSpec) -> Result<String, String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(serde_json::to_string(&spec.command).unwrap_or_default().as_bytes());
    hasher.update(spec.workdir.as_deref().unwrap_or("").as_bytes());
    for source in &spec.sources {
        let path = base.join(source);
        let (_, digest) = crate::model::artifact::measure(&path)
            .map_err(|e| format!("build source `{source}`: {e}; fix `build.sources`"))?;
        hasher.update(source.as_bytes());
        hasher.update(digest.as_bytes());
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn run_build(base: &Path, spec: &BuildSpec, path: &Path) -> Result<(), String> {
    let workdir = base.join(spec.workdir.as_deref().unwrap_or("."));
    let (mut command, shown) = match &spec.command {
        BuildCommand::Shell(line) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(line);
            (c, line.clone())
        }
        BuildCommand::Args(args) => {
            let Some((program, rest)) = args.split_first() else {
                return Err("`build.command` is an empty list; give the program and its arguments".into());
            };
            let mut c = Command::new(program);
            c.args(rest);
            (c, args.join(" "))
        }
    };
    let out = command
        .current_dir(&workdir)
        .output()
        .map_err(|e| format!("cannot run `{shown}` in {}: {e}", workdir.display()))?;
    if !out.status.success() {
        let mut printed = String::from_utf8_lossy(&out.stdout).into_owned();
        printed.push_str(&String::from_utf8_lossy(&out.stderr));
        let tail: Vec<&str> = printed.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(format!("build command `{shown}` failed ({}):\n{}", out.status, tail.join("\n")));
    }
    if !path.exists() {
        return Err(format!(
            "build command `{shown}` succeeded but did not write {}; make it write the component's `path`",
            path.display()
        ));
    }
    Ok(())
}

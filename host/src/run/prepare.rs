//! Preparing a run: load the pipeline and its components (once per engine kind a task needs:
//! pooling, or on-demand when its memory limit exceeds a pool slot or the pool refuses it),
//! resolve `-p` and `-a`, and validate. Body components that do not load are kept as load
//! failures: their tasks fail with kind `load` at run time and the handlers run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Prepared, RunOptions, Runner, quotas};
use crate::model::Pipeline;
use crate::model::component::{ComponentSource, LoadError};
use crate::model::diag::{Diagnostic, Diagnostics};
use crate::model::load::{self, SourceMap};
use crate::model::policy::limit_problems;
use crate::plan::validate::{self, Report};
use crate::plan::{Plan, ScopeIdx};
use crate::record::CompileStats;
use crate::wasm::engine::{EngineKind, POOL_MEMORY_SLOT};
use crate::wasm::host_interfaces::unversioned;
use crate::wasm::loader::LoadedComponent;

/// What tells component sources apart (see [`ComponentSource::key`]).
pub(super) type SourceKey = (PathBuf, Option<String>);

/// A component loaded for one engine kind, and a note when it fell back to on-demand.
pub(super) type LoadAttempt = (Result<Arc<LoadedComponent>, LoadError>, Option<String>);

/// The component of one task, loaded for the engine the task runs on.
pub(super) struct TaskComponent {
    pub(super) component: Result<Arc<LoadedComponent>, LoadError>,
    /// Why the task runs on another allocator than usual, for its log.
    pub(super) notes: Vec<String>,
}

impl Runner {
    /// Loads `path` for an engine of `kind`. A component that compiles but cannot be
    /// instantiated in the pool (too many instances, memories or tables for its slots) is
    /// loaded again for the on-demand allocator; the note says so.
    async fn load(&self, source: &ComponentSource, kind: EngineKind, mode: Mode) -> LoadAttempt {
        let path = &source.path;
        let engine_error =
            |e: anyhow::Error| LoadError { message: format!("cannot start the engine: {e:#}"), in_describe: false };
        let loader = match self.loader_of(kind) {
            Ok(loader) => loader,
            Err(e) => return (Err(engine_error(e)), None),
        };
        let loaded = match mode {
            Mode::Run => loader.load_source(source).await,
            Mode::Check => loader.check_source(source).await,
        };
        match loaded {
            Err(e) if e.in_describe && kind.pooling => {
                let on_demand = match self.loader_of(EngineKind { pooling: false, ..kind }) {
                    Ok(loader) => loader,
                    Err(e) => return (Err(engine_error(e)), None),
                };
                match on_demand.load_source(source).await {
                    Ok(c) => {
                        let note = format!(
                            "component `{}` does not fit the pooling allocator's slots ({}); it runs on the on-demand allocator",
                            path.display(),
                            e.message
                        );
                        (Ok(c), Some(note))
                    }
                    Err(e) => (Err(e), None),
                }
            }
            result => (result, None),
        }
    }

    /// Loads a pipeline file, resolves `-p` overrides, loads its components and validates it.
    /// Body components that fail to load are not errors here (see [`Prepared::load_failures`]).
    pub async fn prepare_file(&self, path: &Path, options: &RunOptions) -> Result<Prepared, Diagnostics> {
        self.prepare_loaded(load::load_file(path)?, options, Mode::Run).await
    }

    /// Prepares pipeline text held in memory (an upload, say) as [`Runner::prepare_file`] does a
    /// file: errors name `file` and their lines; component paths are relative to `base_dir`.
    pub async fn prepare_str(
        &self,
        text: &str,
        file: &Path,
        base_dir: &Path,
        options: &RunOptions,
    ) -> Result<Prepared, Diagnostics> {
        self.prepare_loaded(load::load_str(text, file, base_dir)?, options, Mode::Run).await
    }

    /// Checks a pipeline file as [`Runner::prepare_file`] prepares it, and returns everything
    /// wrong with it: validation errors, or else the body components that do not load (empty
    /// when it would run). This is `wasmpipe validate`. Components whose signature the disk
    /// cache keeps are not linked, so a check of a pipeline run before costs little.
    pub async fn check_file(&self, path: &Path, options: &RunOptions) -> Diagnostics {
        let loaded = match load::load_file(path) {
            Ok(loaded) => loaded,
            Err(diags) => return diags,
        };
        match self.prepare_loaded(loaded, options, Mode::Check).await {
            Ok(prepared) => Diagnostics { errors: prepared.load_failures },
            Err(diags) => diags,
        }
    }

    /// Prepares a pipeline built in Rust (the same types a pipeline file is parsed into), as
    /// [`Runner::prepare_file`] prepares a file: component and sub-pipeline paths are relative
    /// to `base_dir`, and diagnostics name the pipeline as `<NAME>` instead of a file.
    ///
    /// ```no_run
    /// # async fn demo() -> anyhow::Result<()> {
    /// use wasmpipe::authoring::PipelineBuilder;
    /// use wasmpipe::run::{RunOptions, Runner};
    ///
    /// let mut p = PipelineBuilder::new("hello");
    /// let print_op = p.component("print_op", "components/print_op.wasm");
    /// p.task(&print_op).input("message", "hello");
    /// let pipeline = p.build()?;
    /// let runner = Runner::new()?;
    /// let options = RunOptions::default();
    /// let prepared = runner.prepare_pipeline(pipeline, ".".as_ref(), &options).await?;
    /// let record = runner.run(&prepared, &options, &mut |_| {}).await;
    /// # Ok(()) }
    /// ```
    pub async fn prepare_pipeline(
        &self,
        pipeline: Pipeline,
        base_dir: &Path,
        options: &RunOptions,
    ) -> Result<Prepared, Diagnostics> {
        let source = SourceMap::for_file(Path::new(&format!("<{}>", pipeline.name)));
        let loaded = load::Loaded { pipeline, source, base_dir: base_dir.to_path_buf() };
        self.prepare_loaded(loaded, options, Mode::Run).await
    }

    async fn prepare_loaded(
        &self,
        loaded: load::Loaded,
        options: &RunOptions,
        mode: Mode,
    ) -> Result<Prepared, Diagnostics> {
        run_limits(&loaded.source, options)?;
        let counts_before = self.compile_counts();
        let mut report = Report::default();
        let params = validate::resolve_params(&loaded, &options.params, &options.artifacts, &mut report);
        let plan = Plan::build(loaded);
        let fuel = options.limits.fuel.is_some() || plan.tasks.iter().any(|t| t.limits.fuel.is_some());
        let pooling = self.pooling_error(fuel).clone();

        // Each task's engine: pooling, unless its memory limit is larger than a pool slot.
        let mut slots = Vec::new();
        let mut loaded_components: HashMap<(Option<SourceKey>, EngineKind), LoadAttempt> = HashMap::new();
        for task in &plan.tasks {
            let memory = quotas::task_limits(task, options).memory;
            let too_big = memory > POOL_MEMORY_SLOT;
            let kind = EngineKind { fuel, pooling: pooling.is_none() && !too_big };
            let mut notes: Vec<String> = pooling.iter().cloned().collect();
            if too_big && pooling.is_none() {
                notes.push(format!(
                    "the memory limit of {} MiB is larger than a pooling slot ({} MiB); the task runs on the on-demand allocator",
                    memory >> 20,
                    POOL_MEMORY_SLOT >> 20
                ));
            }
            let path = plan.scopes[task.scope].components.get(&task.component);
            let key = (path.map(ComponentSource::key), kind);
            if !loaded_components.contains_key(&key) {
                let loaded = match path {
                    Some(path) => self.load(path, kind, mode).await,
                    None => (
                        Err(LoadError {
                            message: format!("component `{}` is not declared", task.component),
                            in_describe: false,
                        }),
                        None,
                    ),
                };
                loaded_components.insert(key.clone(), loaded);
            }
            let (component, note) = &loaded_components[&key];
            notes.extend(note.iter().cloned());
            slots.push(TaskComponent { component: component.clone(), notes });
        }
        let mut components = HashMap::new();
        for (t, task) in plan.tasks.iter().enumerate() {
            components.entry((task.scope, task.component.clone())).or_insert_with(|| slots[t].component.clone());
        }
        validate::validate(&plan, &components, &mut report);
        self.check_host_grants(&plan, &mut slots, &mut report);
        quotas::check(&plan, options, &mut report);
        if !report.errors.is_empty() {
            return Err(Diagnostics { errors: report.errors });
        }
        let counts = self.compile_counts();
        let compile = CompileStats { compiled: counts.0 - counts_before.0, from_cache: counts.1 - counts_before.1 };
        let source = plan.scopes[ScopeIdx::ROOT].source.clone();
        Ok(Prepared {
            plan: Arc::new(plan),
            params,
            tasks: slots.into(),
            compile,
            source,
            load_failures: report.load_failures,
            artifact_outputs: report.artifact_outputs,
        })
    }
}

impl Runner {
    /// Checks the host interfaces tasks are granted against those this runner offers (a grant
    /// of one it does not offer is an error), and that each task's component imports only those
    /// its task is granted: one that imports another does not load for that task (its tasks
    /// fail with kind `load`; an exit task's stops the run, as any exit component that does
    /// not load).
    fn check_host_grants(&self, plan: &Plan, slots: &mut [TaskComponent], report: &mut Report) {
        for (t, task) in plan.tasks.iter().enumerate() {
            let source = &plan.scopes[task.scope].source;
            for (i, name) in task.grants.host.iter().enumerate() {
                if !self.host.offers(name) {
                    let offered: Vec<String> = self.host.names().map(|n| format!("`{n}`")).collect();
                    let offered = if offered.is_empty() { "none".to_string() } else { offered.join(", ") };
                    report.errors.push(source.error(
                        &format!("{}.host[{i}]", task.doc_path),
                        format!(
                            "task `{}` is granted host interface `{name}`, which this host does not offer (it offers: {offered}); remove it, or run the pipeline in the application that offers it",
                            task.name
                        ),
                    ));
                }
            }
            let Ok(component) = &slots[t].component else { continue };
            let Some(import) = self.host.ungranted(&component.imports, &task.grants.host) else { continue };
            let name = unversioned(import);
            let message = format!(
                "component `{}` imports host interface `{import}`, which task `{}` is not granted; add `host: [{name}]` to the task if it may call it",
                task.component, task.name
            );
            if task.is_exit {
                report.errors.push(source.error(
                    &format!("{}.host", task.doc_path),
                    format!("exit task `{}` cannot run: {message}", task.name),
                ));
            } else {
                report.load_failures.push(source.error(
                    &format!("{}.host", task.doc_path),
                    format!("{message} (the task will fail with kind `load`)"),
                ));
            }
            slots[t].component = Err(LoadError { message, in_describe: false });
        }
    }
}

/// What a preparation is for.
#[derive(Clone, Copy)]
enum Mode {
    /// A run: every component compiled and linked.
    Run,
    /// A check ([`Runner::check_file`]): signatures, and load errors; what comes from the cache
    /// is not linked, and the result never runs.
    Check,
}

/// Refuses run defaults that make no sense (`--timeout`, `--memory`, `--fuel`, or the
/// library's `RunOptions::limits`) before anything loads.
fn run_limits(source: &SourceMap, options: &RunOptions) -> Result<(), Diagnostics> {
    let limits = &options.limits;
    let errors: Vec<Diagnostic> = limit_problems(Some(limits.timeout), Some(limits.memory as u64), limits.fuel)
        .into_iter()
        .map(|(field, message)| source.error("", format!("the run's default {field} (`--{field}`): {message}")))
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(Diagnostics { errors }) }
}

//! Running a pipeline: load and validate it ([`Runner::prepare_file`]), then drive the
//! scheduler, hand each ready task to the executor, and build the run record
//! ([`Runner::run`]). Data flows one way: model -> plan -> scheduler -> executor -> record.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::artifact::ArtifactRef;
use crate::model::component::{ComponentSource, LoadError, PortType, Signature};
use crate::model::diag::{Diagnostic, Diagnostics};
use crate::model::load::{self, SourceMap};
use crate::model::policy::{Grants, Limits};
use crate::model::{Backoff, OutputFrom, Pipeline};
use crate::plan::scheduler::{Scheduler, TaskStatus};
use crate::plan::tree::Tree;
use crate::plan::validate::{self, Report};
use crate::plan::{GroupInstIdx, Idx, Params, Plan, PlanTask, ScopeIdx, TaskInstIdx};
use crate::record::{
    Attempt, CompileStats, Failure, FailureKind, FinalStatusRecord, LogLine, RunRecord, TaskRecord, TaskState, now,
};
use crate::wasm::attempt_dirs::{AttemptDirs, OutputSlot};
use crate::wasm::capture::Capture;
use crate::wasm::engine::{self, EngineKind, POOL_MEMORY_SLOT};
use crate::wasm::executor;
use crate::wasm::loader::{LoadedComponent, Loader};
use crate::wasm::verdict::AttemptOutcome;
use crate::wasm::wit::types;

mod artifacts;
mod bind;
mod cache;
mod cancel;
use cancel::Interrupts;
mod pool;
mod stop;
mod threads;

use bind::{Bound, Outputs, bind_inputs, export_outputs, pipeline_outputs};
pub use cache::{CACHE_DIR_ENV, Cache};
pub use cancel::{CancelHandle, CancelLevel};

/// The environment variable that sets the default run directory.
pub const RUN_DIR_ENV: &str = "WASMPIPE_RUN_DIR";
/// The run directory used when neither `--run-dir` nor `WASMPIPE_RUN_DIR` is set.
pub const DEFAULT_RUN_DIR: &str = ".wasmpipe/runs";

/// A validated pipeline, ready to run. Cheap to clone: the plan and the tasks' components are
/// shared.
#[derive(Clone)]
pub struct Prepared {
    /// The plan.
    pub(crate) plan: Arc<Plan>,
    /// Parameter values after defaults and overrides.
    pub params: Params,
    /// Where the pipeline is written.
    pub source: SourceMap,
    /// Body components that do not load; their tasks will fail with kind `load`.
    pub load_failures: Vec<Diagnostic>,
    /// The pipeline's outputs declared as artifacts (by validation), which `--export` copies.
    artifact_outputs: Vec<String>,
    /// Per task (as `plan.tasks`): its component, loaded for the engine it runs on.
    tasks: Arc<[TaskComponent]>,
    /// How many components were compiled, and how many came from the cache, while preparing.
    pub compile: CompileStats,
}

/// What tells component sources apart (see [`ComponentSource::key`]).
type SourceKey = (PathBuf, Option<String>);

/// A component loaded for one engine kind, and a note when it fell back to on-demand.
type LoadAttempt = (Result<Arc<LoadedComponent>, LoadError>, Option<String>);

/// The component of one task, loaded for the engine the task runs on.
struct TaskComponent {
    component: Result<Arc<LoadedComponent>, LoadError>,
    /// Why the task runs on another allocator than usual, for its log.
    notes: Vec<String>,
}

/// Options of one run.
///
/// ```
/// use std::time::Duration;
/// use wasmpipe::model::policy::Limits;
/// use wasmpipe::run::RunOptions;
///
/// let options = RunOptions {
///     params: vec![("epochs".into(), "3".into())],
///     limits: Limits { timeout: Duration::from_secs(60), ..Limits::default() },
///     jobs: 2,
///     write_record: false,
///     ..RunOptions::default()
/// };
/// assert_eq!(options.grace, wasmpipe::run::DEFAULT_GRACE);
/// ```
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Parameter values as `-p name=value` gives them, parsed by the declared types.
    pub params: Vec<(String, String)>,
    /// Artifact parameters as `-a name=path` gives them: host files or directories.
    pub artifacts: Vec<(String, PathBuf)>,
    /// Where to copy the pipeline's output artifacts when the run ends (`--export DIR`).
    pub export: Option<PathBuf>,
    /// The directory that holds run directories; the record goes to `RUN_DIR/<run_id>/record.json`.
    pub run_dir: PathBuf,
    /// Limits of tasks that set none themselves.
    pub limits: Limits,
    /// A deadline for the whole run; overrides the pipeline's `deadline`.
    pub deadline: Option<Duration>,
    /// How long exit handlers may still run after a cancellation or the deadline.
    pub grace: Duration,
    /// Cancels the run from outside (signals, or the library's caller).
    pub cancel: CancelHandle,
    /// How many tasks may run at the same time.
    pub jobs: usize,
    /// Cache the outputs of tasks that make no choice of their own (`--cache`).
    pub cache: bool,
    /// Whether to write the record to `RUN_DIR/<run_id>/record.json` (true by default); an
    /// embedder that stores records itself may only take the one [`Runner::run`] returns.
    pub write_record: bool,
}

/// The grace period when none is given.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

impl Default for RunOptions {
    /// No parameters; `$WASMPIPE_RUN_DIR`, else `.wasmpipe/runs`; default limits.
    fn default() -> Self {
        let run_dir =
            std::env::var_os(RUN_DIR_ENV).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_RUN_DIR));
        RunOptions {
            params: Vec::new(),
            artifacts: Vec::new(),
            export: None,
            run_dir,
            limits: Limits::default(),
            deadline: None,
            grace: DEFAULT_GRACE,
            cancel: CancelHandle::new(),
            jobs: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            write_record: true,
            cache: false,
        }
    }
}

/// Progress reported while a run goes on.
pub enum Event<'a> {
    /// A cancellation, the deadline or an abort changed the course of the run.
    Interrupted(&'a str),
    /// A task is about to start.
    TaskStarted(&'a str),
    /// A task reached its final state (skipped tasks are reported at the end of the run).
    TaskFinished(&'a TaskRecord),
}

/// Loads, validates and runs pipelines; keeps loaded components for its lifetime. One runner
/// serves any number of runs, at the same time too.
///
/// ```no_run
/// # async fn demo() -> anyhow::Result<()> {
/// use wasmpipe::record::RunState;
/// use wasmpipe::run::{RunOptions, Runner};
///
/// let runner = Runner::new()?;
/// let options = RunOptions { params: vec![("message".into(), "hi".into())], ..RunOptions::default() };
/// let prepared = runner.prepare_file("pipeline.yaml".as_ref(), &options).await?;
/// let record = runner.run(&prepared, &options, &mut |_event| {}).await;
/// assert_eq!(record.state, RunState::Succeeded);
/// # Ok(()) }
/// ```
pub struct Runner {
    loaders: std::sync::Mutex<HashMap<EngineKind, Arc<Loader>>>,
    disk: Option<Cache>,
    /// Why the pooling allocator is not used, when the host refused its reservation.
    pooling_unavailable: std::sync::OnceLock<Option<String>>,
}

impl Runner {
    /// A runner on the process-wide shared engines, with the compiled-component cache that
    /// `WASMPIPE_CACHE_DIR` names (by default `~/.cache/wasmpipe`; `off` for none).
    pub fn new() -> anyhow::Result<Runner> {
        Runner::with_cache(Cache::from_env())
    }

    /// A runner with compiled components cached in `disk` (None: compile every time).
    pub fn with_cache(disk: Option<Cache>) -> anyhow::Result<Runner> {
        Ok(Runner { loaders: Default::default(), disk, pooling_unavailable: Default::default() })
    }

    /// How many components this runner has compiled, and how many it loaded from the cache.
    pub fn compile_counts(&self) -> (usize, usize) {
        let loaders = self.loaders.lock().unwrap();
        loaders.values().map(|l| l.counts()).fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    }

    /// Loads the component at `path` and returns what it declares (its inputs and outputs, as
    /// `describe` answers), or why it cannot be used. `wasmpipe inspect` prints this. The error
    /// is the host's own (no engine could be made).
    ///
    /// ```no_run
    /// # async fn demo() -> anyhow::Result<()> {
    /// let runner = wasmpipe::run::Runner::new()?;
    /// match runner.describe("components/print_op.wasm".as_ref()).await? {
    ///     Ok(signature) => println!("inputs: {:?}", signature.inputs),
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn describe(&self, path: &Path) -> anyhow::Result<Result<Signature, LoadError>> {
        let loader = self.loader_of(EngineKind { fuel: false, pooling: self.pooling_error().is_none() })?;
        Ok(loader.load(path).await.map(|c| c.signature.clone()))
    }

    /// Why pooling is off: the error the host gave when the pooling engine was created.
    fn pooling_error(&self) -> &Option<String> {
        self.pooling_unavailable.get_or_init(|| {
            engine::shared_engine(EngineKind { fuel: false, pooling: true })
                .err()
                .map(|e| format!("the pooling allocator is unavailable ({e:#}); tasks use the on-demand allocator"))
        })
    }

    /// The loader for engines of `kind`, created on first use.
    fn loader_of(&self, kind: EngineKind) -> anyhow::Result<Arc<Loader>> {
        let mut loaders = self.loaders.lock().unwrap();
        if let Some(loader) = loaders.get(&kind) {
            return Ok(loader.clone());
        }
        let loader = Arc::new(Loader::new(kind, self.disk.as_ref().map(Cache::compiled))?);
        loaders.insert(kind, loader.clone());
        Ok(loader)
    }

    /// Loads `path` for an engine of `kind`. A component that compiles but cannot be
    /// instantiated in the pool (too many instances, memories or tables for its slots) is
    /// loaded again for the on-demand allocator; the note says so.
    async fn load(&self, source: &ComponentSource, kind: EngineKind) -> LoadAttempt {
        let path = &source.path;
        let engine_error =
            |e: anyhow::Error| LoadError { message: format!("cannot start the engine: {e:#}"), in_describe: false };
        let loader = match self.loader_of(kind) {
            Ok(loader) => loader,
            Err(e) => return (Err(engine_error(e)), None),
        };
        match loader.load_source(source).await {
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
        self.prepare_loaded(load::load_file(path)?, options).await
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
        self.prepare_loaded(loaded, options).await
    }

    async fn prepare_loaded(&self, loaded: load::Loaded, options: &RunOptions) -> Result<Prepared, Diagnostics> {
        let counts_before = self.compile_counts();
        let mut report = Report::default();
        let params = validate::resolve_params(&loaded, &options.params, &options.artifacts, &mut report);
        let plan = Plan::build(loaded);
        let fuel = options.limits.fuel.is_some() || plan.tasks.iter().any(|t| t.limits.fuel.is_some());
        let pooling = self.pooling_error().clone();

        // Each task's engine: pooling, unless its memory limit is larger than a pool slot.
        let mut slots = Vec::new();
        let mut loaded_components: HashMap<(Option<SourceKey>, EngineKind), LoadAttempt> = HashMap::new();
        for task in &plan.tasks {
            let memory = task.limits.over(&options.limits).memory;
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
                    Some(path) => self.load(path, kind).await,
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

    /// Runs a prepared pipeline to the end and writes its record; `observe` sees progress
    /// (from the caller's task, a few milliseconds behind the workers, in order).
    ///
    /// Tasks run on the caller's task and, when several are ready and `jobs` allows, on worker
    /// threads that wasmpipe keeps between runs (each with a single-threaded tokio runtime).
    /// The caller's runtime thread is busy while its own attempts run.
    pub async fn run(
        &self,
        prepared: &Prepared,
        options: &RunOptions,
        observe: &mut (dyn FnMut(Event<'_>) + Send),
    ) -> RunRecord {
        let run_id = new_run_id();
        let plan = &prepared.plan;
        let started_at = now();
        let deadline = options.deadline.or(plan.deadline);
        let dir = options.run_dir.join(&run_id);
        let mut interrupts = Interrupts::new(&options.cancel, deadline, options.grace);
        let ctx = RunCtx {
            prepared: Arc::new(prepared.clone()),
            options: options.clone(),
            run_id: Arc::from(run_id.as_str()),
            run_root: Arc::from(dir.as_path()),
            disk: self.disk.clone(),
            deadline,
        };
        let pool::Ended { scheduler, outputs, mut records, stop } = pool::drive(ctx, &mut interrupts, observe).await;
        // Every attempt has been dropped with its worker: remove what is left of staging.
        let _ = std::fs::remove_dir_all(dir.join("staging"));
        debug_assert!(scheduler.is_done(), "the scheduler stopped with tasks left");

        let tree = scheduler.tree();
        records.resize(tree.tasks.len(), None);
        let tasks = tree
            .tasks_within(GroupInstIdx::ROOT)
            .into_iter()
            .map(|t| records[t].take().map(|r| *r).unwrap_or_else(|| unrun_record(&scheduler, t)))
            .collect();
        let record = RunRecord {
            run_id: run_id.clone(),
            pipeline: plan.name.clone(),
            pipeline_file: Some(prepared.source.file.display().to_string()),
            state: scheduler.run_state(),
            params: prepared.params.clone(),
            outputs: pipeline_outputs(prepared, tree, &outputs),
            started_at,
            finished_at: now(),
            aborted: stop.aborted,
            cancel: stop.cancel,
            compile: prepared.compile,
            tasks,
        };
        if let Some(to) = &options.export {
            export_outputs(prepared, &record, &dir, to);
        }
        if options.write_record
            && let Err(e) = record.write_atomically(&dir)
        {
            eprintln!("wasmpipe: could not write the run record to {}: {e}", dir.display());
        }
        record
    }
}

/// What a run fixes at its start, shared by its workers.
struct RunCtx {
    prepared: Arc<Prepared>,
    options: RunOptions,
    run_id: Arc<str>,
    /// The run's directory, where artifacts live: `RUN_DIR/<run_id>`.
    run_root: Arc<Path>,
    /// The cache of task outputs (and compiled components).
    disk: Option<Cache>,
    /// The run's deadline, from the options or the pipeline.
    deadline: Option<Duration>,
}

/// Gets task `t` ready to run: its component and its inputs. Fails at once (kind `load` or
/// `input`) when either is missing. Also returns the notes for the task's log.
fn prepare_task(
    ctx: &RunCtx,
    tree: &Tree,
    t: TaskInstIdx,
    outputs: &Outputs,
    final_status: Option<&FinalStatusRecord>,
) -> (Result<Start, Failure>, Vec<LogLine>) {
    let (prepared, options) = (&*ctx.prepared, &ctx.options);
    let instance = &tree.tasks[t];
    let task = &prepared.plan.tasks[instance.template];
    let slot = &prepared.tasks[instance.template.index()];
    let logs: Vec<LogLine> =
        slot.notes.iter().map(|n| LogLine { source: "wasmpipe".into(), text: n.clone() }).collect();
    let component = match &slot.component {
        Ok(component) => component,
        Err(e) => return (Err(Failure::new(FailureKind::Load, e.message.clone())), logs),
    };
    let Bound { inputs, values, artifacts } = match bind_inputs(prepared, tree, t, component, outputs, final_status) {
        Ok(bound) => bound,
        Err(failure) => return (Err(failure), logs),
    };
    let artifact_outputs: Vec<OutputSlot> = component
        .signature
        .outputs
        .iter()
        .filter_map(|o| match &o.ty {
            PortType::Artifact { directory, .. } => Some(OutputSlot { name: o.name.clone(), directory: *directory }),
            _ => None,
        })
        .collect();
    let cached = !task.is_exit && task.cache.unwrap_or(options.cache);
    // The worker looks the key up, with the run's lock released (it reads files).
    let cache_key = match (&ctx.disk, cached) {
        (Some(_), true) => Some(output_cache_key(component, &values, &task.grants)),
        _ => None,
    };
    let limits = task.limits.over(&options.limits);
    let job = Job {
        component: component.clone(),
        run_id: ctx.run_id.clone(),
        task_id: instance.id.clone(),
        inputs,
        limits,
        grants: task.grants.clone(),
        run_root: ctx.run_root.clone(),
        needs_dirs: !artifacts.is_empty()
            || !artifact_outputs.is_empty()
            || component.command.as_ref().is_some_and(|c| c.outputs.values().any(|o| o.from == OutputFrom::File)),
        artifact_inputs: artifacts,
        artifact_outputs,
        retries: task.retries,
        backoff: task.backoff,
        progress: Arc::default(),
    };
    (Ok((Box::new(job), cache_key)), logs)
}

/// What a task produced: outputs or a failure.
type TaskResult = Result<IndexMap<String, Value>, Failure>;

/// Failure kinds worth another attempt: all but a component that cannot load, an input that
/// cannot be produced, and a cancellation, which would fail again the same way.
fn retryable(kind: FailureKind) -> bool {
    !matches!(kind, FailureKind::Load | FailureKind::Input | FailureKind::Cancelled)
}

/// The attempts of a task so far, shared between its job and the runner, so that an
/// interrupted task (mid-attempt or in a backoff) is recorded as far as it got.
#[derive(Default)]
struct Progress {
    attempts: Vec<Attempt>,
    logs: Vec<LogLine>,
    /// The attempt running now: when it started, and what it writes.
    current: Option<(String, Capture)>,
    /// Set by the task's worker when its attempts are over and it records the task itself: an
    /// interrupt arriving now leaves the task to it.
    done: bool,
}

/// A task's attempts, owning all they need, so that they can run on any thread of the runtime.
struct Job {
    component: Arc<LoadedComponent>,
    run_id: Arc<str>,
    task_id: String,
    inputs: Vec<(String, types::InputValue)>,
    limits: Limits,
    grants: Grants,
    /// The run's directory, where artifacts live.
    run_root: Arc<Path>,
    /// Whether attempts need directories of their own (artifacts, or a command's output files).
    needs_dirs: bool,
    /// Input artifacts, by input name.
    artifact_inputs: Vec<(String, ArtifactRef)>,
    /// The component's output artifacts.
    artifact_outputs: Vec<OutputSlot>,
    retries: u32,
    backoff: Backoff,
    progress: Arc<std::sync::Mutex<Progress>>,
}

impl Job {
    /// One attempt, in artifact directories of its own when it has artifacts; its output
    /// artifacts are published only when it succeeds.
    async fn attempt(&self, ctx: types::Context, capture: Capture) -> AttemptOutcome {
        let dirs = if !self.needs_dirs {
            None
        } else {
            match AttemptDirs::prepare(
                &self.run_root,
                &self.task_id,
                ctx.attempt,
                &self.artifact_inputs,
                &self.artifact_outputs,
            ) {
                Ok(dirs) => Some(dirs),
                Err(e) => {
                    let message = format!(
                        "cannot lay out the task's artifact directories under {}: {e}",
                        self.run_root.display()
                    );
                    return AttemptOutcome { result: Err(Failure::new(FailureKind::Input, message)), logs: Vec::new() };
                }
            }
        };
        let mut outcome = executor::run_attempt(
            &self.component,
            ctx,
            &self.inputs,
            &self.limits,
            &self.grants,
            dirs.as_ref(),
            capture,
        )
        .await;
        if let (Some(dirs), Ok(_)) = (&dirs, &outcome.result)
            && let Err(e) = dirs.publish(self.artifact_outputs.iter().map(|o| o.name.as_str()))
        {
            outcome.result =
                Err(Failure::new(FailureKind::Error, format!("cannot publish the task's output artifacts: {e}")));
        }
        outcome
    }

    /// Runs attempts until one succeeds, one fails in a way not worth retrying, or the retries
    /// are used up; waits out the backoff between them.
    async fn run(&self) -> TaskResult {
        let mut attempt = 1;
        loop {
            let capture = Capture::new(self.limits.output);
            self.progress.lock().unwrap().current = Some((now(), capture.clone()));
            let ctx = types::Context { run_id: self.run_id.to_string(), task_id: self.task_id.clone(), attempt };
            let outcome = self.attempt(ctx, capture).await;
            let retry_in = {
                let mut progress = self.progress.lock().unwrap();
                let (started_at, _) = progress.current.take().expect("set above");
                let failure = outcome.result.as_ref().err().cloned();
                progress.attempts.reserve_exact(1);
                progress.attempts.push(Attempt { started_at, finished_at: now(), failure: failure.clone() });
                progress.logs.extend(outcome.logs);
                match failure {
                    Some(f) if retryable(f.kind) && attempt <= self.retries => {
                        let delay = self.backoff.delay(attempt);
                        let kind = serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(String::from));
                        progress.logs.push(LogLine {
                            source: "wasmpipe".into(),
                            text: format!(
                                "attempt {attempt} failed ({}); retry {attempt} of {} in {}",
                                kind.unwrap_or_default(),
                                self.retries,
                                humantime::format_duration(delay)
                            ),
                        });
                        Some(delay)
                    }
                    _ => None,
                }
            };
            match retry_in {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return outcome.result,
            }
        }
    }
}

/// A task ready to run, with the output-cache key to look up and store its outputs under
/// (when caching is on for it).
type Start = (Box<Job>, Option<String>);

/// The output-cache key of a task: its component's content, its resolved inputs and what it
/// is granted of the host (which can change what it computes).
fn output_cache_key(component: &LoadedComponent, inputs: &[(String, Value)], grants: &Grants) -> String {
    let host_env: Vec<(&String, Option<String>)> =
        grants.host_env.iter().map(|name| (name, std::env::var(name).ok())).collect();
    let material = serde_json::json!({
        "version": 1,
        "component": component.digest,
        "command": component.command,
        "inputs": inputs,
        "env": grants.env,
        "host_env": host_env,
        "dirs": grants.dirs,
    });
    blake3::hash(material.to_string().as_bytes()).to_hex().to_string()
}

/// A task that has started.
#[derive(Clone)]
struct Started {
    /// Its attempts, when it got as far as running (None when it failed before: load, input).
    progress: Option<Arc<std::sync::Mutex<Progress>>>,
    /// When it was handed to a worker (formatted only for a task that never got to run).
    started_at: std::time::SystemTime,
    final_status: Option<FinalStatusRecord>,
    /// Lines for the task's log from wasmpipe itself.
    logs: Vec<LogLine>,
}

/// The record of a task that ran.
fn task_record(
    id: &str,
    task: &PlanTask,
    attempts: Vec<Attempt>,
    result: &TaskResult,
    logs: Vec<LogLine>,
    final_status: Option<FinalStatusRecord>,
) -> TaskRecord {
    let (state, outputs, failure) = match result {
        Ok(values) => (TaskState::Succeeded, values.clone(), None),
        Err(f) if f.kind == FailureKind::Cancelled => (TaskState::Cancelled, IndexMap::new(), Some(f.clone())),
        Err(f) => (TaskState::Failed, IndexMap::new(), Some(f.clone())),
    };
    TaskRecord {
        id: id.to_string(),
        task: task.name.clone(),
        component: task.component.clone(),
        state,
        exit_handler: task.is_exit,
        cached: false,
        attempts,
        outputs,
        failure,
        skip: None,
        final_status,
        logs,
    }
}

/// The record of a task that never ran: skipped, or failed before it could start (a loop
/// whose items could not be had).
fn unrun_record(scheduler: &Scheduler, t: TaskInstIdx) -> TaskRecord {
    let task = scheduler.spec(t);
    let (state, failure, skip) = match scheduler.status(t) {
        TaskStatus::Failed(f) => (TaskState::Failed, Some(f.clone()), None),
        TaskStatus::Skipped(skip) => (TaskState::Skipped, None, Some(skip.clone())),
        _ => (TaskState::Skipped, None, None),
    };
    TaskRecord {
        id: scheduler.tree().tasks[t].id.clone(),
        task: task.name.clone(),
        component: task.component.clone(),
        state,
        exit_handler: task.is_exit,
        cached: false,
        attempts: Vec::new(),
        outputs: IndexMap::new(),
        failure,
        skip,
        final_status: None,
        logs: Vec::<LogLine>::new(),
    }
}

/// A new run id: the UTC time to the second and six hex digits (`20261124-181600-3fa9c2`).
fn new_run_id() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let salt = (nanos ^ std::process::id().rotate_left(13) ^ n.wrapping_mul(0x9E37_79B9)) & 0xff_ffff;
    format!("{}-{}-{salt:06x}", &digits[..8], &digits[8..14])
}

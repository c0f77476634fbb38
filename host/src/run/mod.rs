//! Running a pipeline: load and validate it ([`Runner::prepare_file`], in `prepare`), then run
//! it ([`Runner::run`]): the worker `pool` drives the scheduler and runs each ready task's
//! `job` (inputs bound by `bind`, attempts with retries in wasmtime), `stop` applies what
//! `cancel` reports (signals, the library's cancel, the deadline, the grace period), the
//! output `cache` serves cached tasks, and `records` and the run record say what happened.
//!
//! May use: `model`, `plan`, `wasm` and `record`; this is the layer that ties them together.
//! Its public face is the embedding API: [`Runner`], [`RunOptions`], [`Prepared`], [`Event`],
//! [`CancelHandle`] and [`Cache`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::model::component::{LoadError, Signature};
use crate::model::diag::Diagnostic;
use crate::model::load::SourceMap;
use crate::model::policy::Limits;
use crate::plan::{Params, Plan};
use crate::record::{CompileStats, RunRecord, TaskRecord, now};
use crate::wasm::engine::{self, EngineKind};
use crate::wasm::loader::Loader;
use task_store::TaskStore;

mod artifacts;
mod bind;
mod cache;
mod cancel;
mod finished;
mod internal;
mod job;
pub mod keep;
use cancel::Interrupts;
mod pool;
mod prepare;
mod quotas;
mod records;
pub mod resume;
mod single;
mod stop;
mod task_store;
mod threads;

use job::{Job, Started, TaskResult, prepare_task};
use prepare::TaskComponent;
use records::task_record;

pub use crate::model::policy::Quotas;
pub use crate::wasm::engine::{DEFAULT_POOL_CAPACITY, set_pool_capacity};
pub use crate::wasm::host_interfaces::{HostInterfaces, RunData};
pub use crate::wasm::sandbox::HostState as TaskState;
use bind::{export_outputs, pipeline_outputs};
pub use cache::{CACHE_DIR_ENV, Cache};
pub use cancel::{CancelHandle, CancelLevel};
pub use finished::FinishedRun;
pub use single::{TaskCall, TaskOutcome};
pub use task_store::TaskBrief;

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
    /// How many tasks may run at the same time; 0 (the default) for as many as the machine has
    /// CPUs ([`available_jobs`]).
    pub jobs: usize,
    /// Cache the outputs of tasks that make no choice of their own (`--cache`).
    pub cache: bool,
    /// Survive a power cut, not only the death of the process (`--durable`): the journal is
    /// `fdatasync`ed after each batch of lines (one sync for all the events of about a
    /// millisecond, never one per task), published artifacts are synced before their task's
    /// `task_ended` line, and the record is synced before it is renamed into place.
    pub durable: bool,
    /// Whether to write the record to `RUN_DIR/<run_id>/record.json` (true by default); an
    /// embedder that stores records itself may only take the one [`Runner::run`] returns.
    pub write_record: bool,
    /// For [`Runner::run_and_write`]: how many bytes of finished tasks' records (as the journal
    /// writes them) the run keeps in memory ([`DEFAULT_RECORDS_IN_MEMORY`] by default); the
    /// others are read back from the journal when the record is written, so that a long run's
    /// memory does not grow with its history. [`Runner::run`] keeps them all: it returns them.
    pub records_in_memory: usize,
    /// Go on with a run that was stopped before its end ([`resume::Resume`], from its
    /// journal) instead of starting a new one.
    pub resume: Option<Arc<resume::Resume>>,
    /// What the embedder's host interfaces get from this run ([`TaskState::run_data`]): its
    /// tenant, say. Every task of the run shares it; no other run sees it.
    pub run_data: Option<RunData>,
    /// Budgets the run's tasks share (memory, artifact bytes, log text): a tenant's share of
    /// the host. None by default.
    pub quotas: Quotas,
}

/// The grace period when none is given.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// [`RunOptions::records_in_memory`] when none is given: 32 MiB of journal lines, the records
/// of some 50,000 small tasks.
pub const DEFAULT_RECORDS_IN_MEMORY: usize = 32 << 20;

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
            jobs: 0,
            write_record: true,
            records_in_memory: DEFAULT_RECORDS_IN_MEMORY,
            cache: false,
            durable: false,
            resume: None,
            run_data: None,
            quotas: Quotas::default(),
        }
    }
}

/// What this build runs components on, for `wasmpipe --version`: the wasmtime version, and the
/// WIT package components implement (with the earlier ones it still runs).
pub fn engine_versions() -> String {
    use crate::wasm::wit::{EARLIER_PACKAGES, PACKAGE};
    format!(
        "wasmtime {}\nWIT package {PACKAGE} (components of {} run too)",
        wasmtime_environ::VERSION,
        EARLIER_PACKAGES.join(", ")
    )
}

/// A single-threaded tokio runtime with timers and I/O, as the CLI and wasmpipe's worker threads
/// use. Its I/O driver takes at most 64 events per turn (tokio's default, 1,024, allocates a
/// 12 KiB buffer that lands in an allocator region of its own: a fresh huge page zeroed, ~0.4 ms
/// of a short process; BENCHMARKS.md, startup). Tasks here have few I/O sources.
///
/// Its timers are checked after every task poll (`event_interval(1)`; tokio's default is 61):
/// a guest that spins yields every 10 ms epoch tick and is polled again at once, so with the
/// default a 200 ms timeout fired after 61 yields, about 600 ms.
pub fn small_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().max_io_events_per_tick(64).event_interval(1).build()
}

/// How many CPUs this process may use (`std::thread::available_parallelism`), the default of
/// [`RunOptions::jobs`]. Read once per process, and only by runs that need it: it reads the
/// cgroup's CPU quota from `/proc` and `/sys`, a visible share of a short process.
pub fn available_jobs() -> usize {
    static JOBS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *JOBS.get_or_init(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

/// Progress reported while a run goes on. More kinds may come: match with a `_` arm.
#[non_exhaustive]
pub enum Event<'a> {
    /// A cancellation, the deadline or an abort changed the course of the run.
    Interrupted(&'a str),
    /// The run began to be cancelled (a signal, the library's caller, or the deadline): body
    /// tasks stop, exit handlers run. Follows the `Interrupted` that says so.
    Cancelled {
        /// What cancelled it: `SIGINT`, `SIGTERM`, `deadline`, ...
        signal: &'a str,
    },
    /// A group with an exit task was entered: its exit task will run (rule 1).
    GroupEntered {
        /// The group instance's id.
        id: &'a str,
    },
    /// A loop was entered: its iterations hold `tasks` task instances, whose ids start with
    /// `id/` (`fan` → `fan/0/train`). A loop inside it reports its own when it is entered.
    LoopEntered {
        /// The loop instance's id (`fan`, or `outer/2/inner` inside another loop).
        id: &'a str,
        /// How many task instances its iterations hold, without those of inner loops.
        tasks: usize,
    },
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
    /// Why the pooling allocator is not used, when the host refused its reservation: for
    /// engines without fuel, and with.
    pooling_unavailable: [std::sync::OnceLock<Option<String>>; 2],
    /// Whether components load for the pooling allocator (see [`Runner::without_pooling`]).
    pooling: bool,
    /// The embedder's host interfaces ([`Runner::with_host_interfaces`]).
    host: HostInterfaces,
}

impl Prepared {
    /// The files the run reads: its pipeline files (sub-pipelines included) and the
    /// components that loaded.
    /// A `.wasm` component's digest is known from loading it (a `.wat` one's is its binary's).
    fn files(&self) -> Vec<(PathBuf, Option<String>)> {
        let scopes = self.plan.scopes.iter().map(|s| (&s.source.file, None));
        let components = self.tasks.iter().filter_map(|t| t.component.as_ref().ok()).map(|c| {
            let known = c.path.extension().is_some_and(|e| e == "wasm").then(|| c.digest.clone());
            (&c.path, known)
        });
        let mut files: Vec<(PathBuf, Option<String>)> = Vec::new();
        for (file, known) in scopes.chain(components) {
            if !files.iter().any(|(f, _)| f == file) {
                files.push((file.clone(), known));
            }
        }
        files
    }
}

impl Runner {
    /// A runner on the process-wide shared engines, with the compiled-component cache that
    /// `WASMPIPE_CACHE_DIR` names (by default `~/.cache/wasmpipe`; `off` for none).
    pub fn new() -> anyhow::Result<Runner> {
        Runner::with_cache(Cache::from_env())
    }

    /// A runner with compiled components cached in `disk` (None: compile every time).
    pub fn with_cache(disk: Option<Cache>) -> anyhow::Result<Runner> {
        Ok(Runner {
            loaders: Default::default(),
            disk,
            pooling_unavailable: Default::default(),
            pooling: true,
            host: HostInterfaces::new(),
        })
    }

    /// This runner offers `host`, the embedding application's own interfaces, to the tasks a
    /// pipeline grants them (`host: [acme:host/kv]`). A component that imports one its task is
    /// not granted fails to load for that task, naming the interface.
    ///
    /// ```ignore
    /// // In the embedder's crate: `bindgen!` over its WIT (`package acme:host; interface kv {...}`).
    /// wasmtime::component::bindgen!({ path: "wit/kv.wit", world: "plugin-host", async: false });
    /// struct Kv<'a>(&'a Tenant);
    /// impl acme::host::kv::Host for Kv<'_> { fn get(&mut self, key: String) -> Option<String> { self.0.get(&key) } }
    /// struct KvData;
    /// impl wasmtime::component::HasData for KvData { type Data<'a> = Kv<'a>; }
    /// let host = HostInterfaces::new().with("acme:host/kv", |linker| {
    ///     acme::host::kv::add_to_linker::<_, KvData>(linker, |state: &mut TaskState| {
    ///         Kv(state.run_data::<Tenant>().expect("every run is given its tenant"))
    ///     })
    /// });
    /// let runner = Runner::new()?.with_host_interfaces(host);
    /// let options = RunOptions { run_data: Some(Arc::new(tenant)), ..RunOptions::default() };
    /// ```
    pub fn with_host_interfaces(mut self, host: HostInterfaces) -> Runner {
        self.host = host;
        self.loaders = Default::default();
        self
    }

    /// This runner loads every component for the on-demand allocator, so the process never
    /// builds the pooling allocator's pool. For a process that prepares pipelines and runs few
    /// or no tasks (`wasmpipe validate` and `inspect`): the pool costs a short process a visible
    /// share of its time (building it, and wasmtime's reading of the CPU quota for each of its
    /// parts), and a component that fits the pool is also taken on demand. Tasks still run, each
    /// attempt allocating its instance on demand (a few microseconds slower per attempt).
    pub fn without_pooling(mut self) -> Runner {
        self.pooling = false;
        self
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
        let loader = self.loader_of(EngineKind { fuel: false, pooling: self.pooling_error(false).is_none() })?;
        Ok(loader.load(path).await.map(|c| c.signature.clone()))
    }

    /// Why pooling is off: the error the host gave when the pooling engine was created.
    /// (Only the engine of the kind a run uses is built: each pool costs a short process.)
    fn pooling_error(&self, fuel: bool) -> &Option<String> {
        self.pooling_unavailable[usize::from(fuel)].get_or_init(|| {
            if !self.pooling {
                return Some(
                    "this runner does not use the pooling allocator; tasks use the on-demand allocator".into(),
                );
            }
            engine::shared_engine(EngineKind { fuel, pooling: true })
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
        let loader = Arc::new(Loader::with_host(kind, self.disk.as_ref().map(Cache::compiled), self.host.clone())?);
        loaders.insert(kind, loader.clone());
        Ok(loader)
    }

    /// Runs a prepared pipeline to the end and writes its record; `observe` sees progress
    /// (from the caller's task, a few milliseconds behind the workers, in order).
    ///
    /// Tasks run on the caller's task and, when several are ready and `jobs` allows, on worker
    /// threads that wasmpipe keeps between runs (each with a single-threaded tokio runtime).
    /// The caller's runtime thread is busy while its own attempts run.
    ///
    /// The returned record holds every task's record, so the run keeps them all in memory
    /// until it ends, as it also does with no run directory (`write_record: false`: no journal,
    /// nothing to resume). For runs of very many tasks, [`Runner::run_and_write`] keeps the
    /// finished tasks' records in the journal instead.
    pub async fn run(
        &self,
        prepared: &Prepared,
        options: &RunOptions,
        observe: &mut (dyn FnMut(Event<'_>) + Send),
    ) -> RunRecord {
        let (finished, lock) = self.run_held(prepared, options, observe, options.write_record, usize::MAX).await;
        let record = finished.into_record();
        if options.write_record {
            let dir = options.run_dir.join(&record.run_id);
            match record.write_atomically(&dir, options.durable) {
                Ok(_) => lock.iter().for_each(|l| l.finish()),
                Err(e) => {
                    let dir = options.run_dir.join(&record.run_id);
                    eprintln!("wasmpipe: could not write the run record to {}: {e}", dir.display());
                }
            }
        }
        record
    }

    /// Like [`Runner::run`], then writes the record to `RUN_DIR/<run-id>/record.json` whatever
    /// `write_record` says, while the run still holds its lock (so that `wasmpipe runs` never
    /// sees it without both); returns the run and where its record went, or why it could not
    /// be written.
    ///
    /// Unlike [`Runner::run`], the run's memory does not grow with its history: past
    /// [`RunOptions::records_in_memory`], the record of each finished task is kept in the run's
    /// journal only, and `record.json` is written from it. A loop of a million tasks stays
    /// under 1 KB a task, the budget included (BENCHMARKS.md). Without a journal (its run
    /// directory could not be locked), records stay in memory.
    pub async fn run_and_write(
        &self,
        prepared: &Prepared,
        options: &RunOptions,
        observe: &mut (dyn FnMut(Event<'_>) + Send),
    ) -> (FinishedRun, std::io::Result<PathBuf>) {
        let (finished, lock) = self.run_held(prepared, options, observe, true, options.records_in_memory).await;
        let dir = options.run_dir.join(&finished.record().run_id);
        let written = finished.write_atomically(&dir, options.durable).map(|()| dir.join("record.json"));
        if written.is_ok() {
            lock.iter().for_each(|l| l.finish());
        }
        (finished, written)
    }

    /// Runs a prepared pipeline to the end; with `lock`, its run directory is made at the start
    /// and its lock held until the returned one is dropped; past `records_in_memory` bytes, the
    /// records of finished tasks that reached the journal are not kept in memory.
    async fn run_held(
        &self,
        prepared: &Prepared,
        options: &RunOptions,
        observe: &mut (dyn FnMut(Event<'_>) + Send),
        lock: bool,
        records_in_memory: usize,
    ) -> (FinishedRun, Option<Arc<crate::history::RunLock>>) {
        let resume = options.resume.as_deref();
        let run_id = resume.map_or_else(new_run_id, |r| r.run_id.clone());
        let plan = &prepared.plan;
        let started_at = resume.map_or_else(now, |r| r.started_at.clone());
        let deadline = options.deadline.or(plan.deadline);
        // A resumed run keeps its deadline absolute: the time it spent stopped counts, and one
        // resumed past its deadline goes straight to its exit handlers.
        let configured = deadline;
        let deadline = match resume {
            Some(r) => {
                let started = humantime::parse_rfc3339(&r.started_at).unwrap_or_else(|_| std::time::SystemTime::now());
                let spent = std::time::SystemTime::now().duration_since(started).unwrap_or_default();
                deadline.map(|d| d.saturating_sub(spent))
            }
            None => deadline,
        };
        let dir = options.run_dir.join(&run_id);
        // Held until the record is written: `wasmpipe runs` tells a running run from one that
        // was killed.
        // A resume holds the run's lock already; a new run takes it (a run whose lock cannot be
        // taken goes on without a journal).
        let held = match resume.and_then(|r| r.lock.clone()) {
            Some(held) => Some(held),
            None => lock.then(|| crate::history::lock(&dir).ok().map(Arc::new)).flatten(),
        };
        if resume.is_some() && held.is_some() {
            let _ = crate::journal::cut_bad_tail(&dir);
        }
        let journal = held.as_ref().and_then(|_| crate::journal::Journal::create(&dir, options.durable).ok());
        if let Some(journal) = &journal {
            let versions = [("wasmpipe", env!("CARGO_PKG_VERSION")), ("wasmtime", wasmtime_environ::VERSION)];
            let kept = match resume {
                Some(_) => keep::Kept::default(),
                None => keep::keep(&options.run_dir, &dir, &prepared.files()),
            };
            let start = crate::journal::RunStart {
                run_id: run_id.clone(),
                pipeline: plan.name.clone(),
                pipeline_file: Some(
                    std::path::absolute(&prepared.source.file)
                        .unwrap_or_else(|_| prepared.source.file.clone())
                        .display()
                        .to_string(),
                ),
                params: prepared.params.clone(),
                at: started_at.clone(),
                versions: versions.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                options: Some(crate::journal::StartOptions::of(options)),
                // A resumed run reads the copies its first start kept; it keeps none again.
                inputs: kept.files,
                inputs_root: (!kept.root.is_empty()).then_some(kept.root),
            };
            journal.note(&crate::journal::Note::RunStarted(&start));
        }
        // The journal sees every event before the caller's observer does (a task's end is
        // written by the pool, which keeps where its line is).
        let observe = &mut |event: Event<'_>| {
            if let Some(journal) = journal.as_ref() {
                use crate::journal::Note;
                let note = match &event {
                    Event::Interrupted(message) => Some(Note::Interrupted { message }),
                    Event::Cancelled { signal } => Some(Note::Cancelled { signal }),
                    Event::GroupEntered { id } => Some(Note::GroupEntered { id }),
                    Event::LoopEntered { id, tasks } => Some(Note::LoopEntered { id, tasks: *tasks }),
                    Event::TaskStarted(id) => Some(Note::TaskStarted { id, at: now() }),
                    Event::TaskFinished(_) => None,
                };
                if let Some(note) = note {
                    journal.note(&note);
                }
            }
            observe(event)
        };
        let mut interrupts = Interrupts::new(&options.cancel, deadline, options.grace);
        let mut ctx_options = options.clone();
        if ctx_options.jobs == 0 {
            ctx_options.jobs = available_jobs();
        }
        let ctx = RunCtx {
            prepared: Arc::new(prepared.clone()),
            options: ctx_options,
            run_id: Arc::from(run_id.as_str()),
            run_root: Arc::from(dir.as_path()),
            disk: self.disk.clone(),
            spent: Arc::new(quotas::Spent::new(&options.quotas)),
            // Messages name the deadline as configured, not what a resume had left of it.
            deadline: configured,
        };
        let store = TaskStore::new(records_in_memory);
        let pool::Ended { scheduler, outputs, records, stop } =
            pool::drive(ctx, &mut interrupts, observe, store, journal.as_ref()).await;
        // Every attempt has been dropped with its worker: remove what is left of staging.
        // The scheduler is done, unless it failed for good (a bug, `pool::state`): then the
        // tasks it left waiting are recorded as aborted.
        let _ = std::fs::remove_dir_all(dir.join("staging"));
        let pipeline_outputs =
            pipeline_outputs(prepared, scheduler.tree(), &outputs, &|child| scheduler.went_wrong(child));
        drop(outputs);
        let record = RunRecord {
            run_id: run_id.clone(),
            pipeline: plan.name.clone(),
            pipeline_file: resume
                .and_then(|r| r.pipeline_file.clone())
                .or_else(|| Some(prepared.source.file.display().to_string())),
            state: scheduler.run_state(),
            params: prepared.params.clone(),
            outputs: pipeline_outputs.values,
            missing_outputs: pipeline_outputs.missing,
            started_at,
            finished_at: now(),
            aborted: stop.aborted,
            cancel: stop.cancel,
            compile: prepared.compile,
            tasks: Vec::new(),
            templates: templates(plan),
        };
        if let Some(to) = &options.export {
            export_outputs(prepared, &record, &dir, to);
        }
        let lines = journal.and_then(|journal| {
            journal.note(&crate::journal::Note::RunFinished { state: record.state, at: &record.finished_at });
            journal.close()
        });
        (FinishedRun::new(record, records, scheduler, lines), held)
    }
}

/// The record's task templates: every task of the plan with the ids of what it depends on,
/// itself or through the groups it is in (a loop's items, a condition, a sub-pipeline's inputs).
fn templates(plan: &Plan) -> Vec<crate::record::TemplateRecord> {
    use crate::plan::Child;
    let id = |d: &Child| match *d {
        Child::Task(t) => plan.tasks[t].id.clone(),
        Child::Group(g) => plan.groups[g].id.clone(),
    };
    plan.tasks
        .iter()
        .map(|task| {
            let mut depends_on: Vec<String> =
                task.deps.iter().chain(task.alternatives.iter().flat_map(|a| &a.branches)).map(id).collect();
            let mut group = Some(task.group);
            while let Some(g) = group {
                let group_deps = [
                    plan.groups[g].looping.as_ref().map(|l| &l.deps),
                    plan.groups[g].branch.as_ref().map(|b| &b.deps),
                    plan.groups[g].sub.as_ref().map(|s| &s.deps),
                ];
                for dep in group_deps.into_iter().flatten().flatten() {
                    let dep = id(dep);
                    if !depends_on.contains(&dep) {
                        depends_on.push(dep);
                    }
                }
                group = plan.groups[g].parent;
            }
            crate::record::TemplateRecord {
                id: task.id.clone(),
                component: task.component.clone(),
                exit_handler: task.is_exit,
                depends_on,
            }
        })
        .collect()
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
    /// What the run has spent of its budgets.
    spent: Arc<quotas::Spent>,
    /// The run's deadline, from the options or the pipeline.
    deadline: Option<Duration>,
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

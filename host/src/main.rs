//! The `wasmpipe` command: a thin layer over the library (see `wasmpipe::run`).
//!
//! Exit codes: 0 the run succeeded, 1 it failed, 130 it was cancelled, 2 usage or validation
//! error (nothing ran).

mod progress;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use progress::{Progress, Stream};
use serde_json::json;
use wasmpipe::authoring::component_build;
use wasmpipe::model::component::{PortType, Signature};
use wasmpipe::model::diag::{Diagnostic, Diagnostics};
use wasmpipe::model::policy::Limits;
use wasmpipe::model::{ByteSize, HumanDuration};
use wasmpipe::record::{RunRecord, RunState, TaskRecord, TaskState};
use wasmpipe::run::{CACHE_DIR_ENV, Cache, CancelHandle, Event, RUN_DIR_ENV, RunOptions, Runner};

/// Run pipelines of WebAssembly components, with exit handlers that always run.
#[derive(Parser)]
#[command(name = "wasmpipe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a pipeline and write its run record.
    ///
    /// Exit status: 0 succeeded, 1 failed, 130 cancelled, 2 the pipeline is invalid (nothing ran).
    Run {
        /// The pipeline file (YAML or JSON).
        file: PathBuf,
        /// Set a parameter: `-p name=value`, parsed by the parameter's declared type
        /// (ints, floats and bools as written, lists and dicts as JSON). Repeatable.
        #[arg(short = 'p', long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        #[command(flatten)]
        files: FileArgs,
        /// `human` shows each task and its logs; `json` prints the run record on stdout
        /// (progress goes to stderr).
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
        /// Where run directories go: DIR/<run-id>/record.json.
        #[arg(long, value_name = "DIR", env = RUN_DIR_ENV, default_value = wasmpipe::run::DEFAULT_RUN_DIR)]
        run_dir: PathBuf,
        /// Timeout of each task attempt that sets none (`30s`, `2m`, `500ms`).
        #[arg(long, value_name = "DURATION", default_value = "5m")]
        timeout: HumanDuration,
        /// Memory limit of each task that sets none (`256MiB`, `1GiB`).
        #[arg(long, value_name = "SIZE", default_value = "512MiB")]
        memory: ByteSize,
        /// Fuel (about one unit per wasm instruction) of each task attempt that sets none.
        /// Unlimited by default; runs that use fuel run a little slower.
        #[arg(long, value_name = "UNITS")]
        fuel: Option<u64>,
        /// How long exit handlers may still run after Ctrl-C, SIGTERM or the deadline; a second
        /// signal, or the end of the grace period, stops them too.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        grace: HumanDuration,
        /// A deadline for the whole run (overrides the pipeline's `deadline`): at expiry running
        /// body tasks fail with `timeout` and the exit handlers run within the grace period.
        #[arg(long, value_name = "DURATION")]
        deadline: Option<HumanDuration>,
        /// Reuse the outputs of earlier successful runs of tasks with the same component and
        /// inputs (tasks and the pipeline may choose with `cache:`; exit tasks never are).
        #[arg(long)]
        cache: bool,
        /// How many tasks may run at the same time (default: the number of CPUs).
        #[arg(long, short = 'j', value_name = "N")]
        jobs: Option<usize>,
        /// Build the components whose sources changed first (their `build:`), as
        /// `wasmpipe build` does.
        #[arg(long)]
        build: bool,
    },
    /// Build the components of a pipeline that declare `build:` and whose sources changed
    /// since their last build (or whose file is missing); sub-pipelines' components too.
    ///
    /// Exit status: 0 all built or up to date, 2 a build failed.
    Build {
        /// The pipeline file.
        file: PathBuf,
    },
    /// Check a pipeline without running it: syntax, references, types, cycles, components.
    ///
    /// Exit status: 0 valid, 2 problems found (each printed with file, place and fix).
    Validate {
        /// The pipeline file.
        file: PathBuf,
        /// Parameter values to check, as for `run`.
        #[arg(short = 'p', long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// Artifact parameters to check, as for `run`.
        #[arg(short = 'a', long = "artifact", value_name = "NAME=PATH", value_parser = parse_artifact)]
        artifacts: Vec<(String, PathBuf)>,
        /// `human` or `json` (`{"errors": [...]}`).
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// Show a component's inputs and outputs, with their types.
    Inspect {
        /// The component (`.wasm`).
        component: PathBuf,
        /// `human` or `json`.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// Show or clear the compiled-component cache (`$WASMPIPE_CACHE_DIR`, else
    /// `~/.cache/wasmpipe`).
    Cache {
        /// `show` (the default) or `clear`.
        #[arg(value_enum, default_value_t = CacheAction::Show)]
        action: CacheAction,
    },
    /// Print a JSON Schema shipped in `schemas/`.
    Schema {
        /// Which one.
        #[arg(value_enum)]
        which: SchemaKind,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Human,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum CacheAction {
    /// Where the cache is, how many entries it holds and their size.
    Show,
    /// Remove every entry.
    Clear,
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemaKind {
    /// `schemas/pipeline.schema.json`
    Pipeline,
    /// `schemas/run-record.schema.json`
    RunRecord,
}

/// Builds the stale components of the pipeline in `file`, reporting on stderr; returns the exit
/// code to stop with if a build failed.
fn build_components(file: &Path, output: Output) -> Option<ExitCode> {
    let started = |name: &str, path: &Path| eprintln!("building {name} ({})", path.display());
    let done = |report: &component_build::Report| match report.outcome {
        component_build::Outcome::Built(took) => eprintln!("built {} in {:.1}s", report.name, took.as_secs_f64()),
        component_build::Outcome::UpToDate => eprintln!("{} is up to date", report.name),
    };
    match component_build::build_pipeline(file, started, done) {
        Ok(_) => None,
        Err(diagnostics) => Some(report_errors(&diagnostics, output)),
    }
}

/// The run's files: artifacts given to it, where its output artifacts go, and their limit.
#[derive(clap::Args)]
struct FileArgs {
    /// Give artifact parameter NAME a host file or directory: `-a data=numbers.csv`. Tasks see
    /// it read-only. Repeatable.
    #[arg(short = 'a', long = "artifact", value_name = "NAME=PATH", value_parser = parse_artifact)]
    artifacts: Vec<(String, PathBuf)>,
    /// Copy the pipeline's output artifacts to DIR/<output> when the run ends.
    #[arg(long, value_name = "DIR")]
    export: Option<PathBuf>,
    /// The most bytes the output artifacts of one task attempt may hold, for tasks that set no
    /// `artifact_limit`; more fails the task with kind `output_limit`.
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    artifact_limit: ByteSize,
}

fn parse_artifact(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, path)) if !name.trim().is_empty() && !path.is_empty() => {
            Ok((name.trim().to_string(), PathBuf::from(path)))
        }
        _ => Err(format!("`{text}` is not NAME=PATH (for example `-a data=numbers.csv`)")),
    }
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not NAME=VALUE (for example `-p message=hello`)")),
    }
}

/// mimalloc: per-thread heaps that do not grow and shrink the process's mappings, so that
/// workers do not stall each other on the kernel's memory-map lock (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Tasks run on the run's worker threads (each with a runtime of its own); this runtime only
    // prepares the run, handles signals and prints progress, so one thread is enough.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("wasmpipe: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let command = runtime.block_on(async { tokio::spawn(run_command(cli.command)).await });
    let result = match command {
        Ok(result) => result,
        Err(e) => Err(anyhow::anyhow!("the run stopped unexpectedly: {e}")),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wasmpipe: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run_command(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run {
            file,
            params,
            files,
            output,
            run_dir,
            timeout,
            memory,
            fuel,
            grace,
            deadline,
            cache,
            jobs,
            build,
        } => {
            if build && let Some(code) = build_components(&file, output) {
                return Ok(code);
            }
            let limits = Limits {
                timeout: timeout.0,
                memory: memory.0 as usize,
                fuel,
                artifacts: files.artifact_limit.0,
                ..Limits::default()
            };
            let cancel = CancelHandle::new();
            listen_for_signals(cancel.clone())?;
            let options = RunOptions {
                params,
                artifacts: files.artifacts,
                export: files.export,
                run_dir: run_dir.clone(),
                limits,
                deadline: deadline.map(|d| d.0),
                grace: grace.0,
                cancel,
                jobs: jobs.unwrap_or(RunOptions::default().jobs).max(1),
                write_record: true,
                cache,
            };
            let runner = Runner::new()?;
            let prepared = match runner.prepare_file(&file, &options).await {
                Ok(p) => p,
                Err(diags) => return Ok(report_errors(&diags, output)),
            };
            for d in &prepared.load_failures {
                eprintln!("warning: {d}");
            }
            let progress = Progress::start();
            let mut observe = |event: Event<'_>| show_progress(&progress, event, output);
            let record = runner.run(&prepared, &options, &mut observe).await;
            progress.finish();
            if output == Output::Json {
                println!("{}", serde_json::to_string_pretty(&record)?);
            } else {
                print_summary(&record, &run_dir);
            }
            Ok(exit_code(record.state))
        }
        Command::Validate { file, params, artifacts, output } => {
            let runner = Runner::new()?;
            let options = RunOptions { params, artifacts, ..RunOptions::default() };
            let diags = match runner.prepare_file(&file, &options).await {
                Ok(prepared) => Diagnostics { errors: prepared.load_failures },
                Err(diags) => diags,
            };
            if diags.errors.is_empty() {
                match output {
                    Output::Json => println!("{}", json!({"errors": []})),
                    Output::Human => println!("{}: valid", file.display()),
                }
                return Ok(ExitCode::SUCCESS);
            }
            Ok(report_errors(&diags, output))
        }
        Command::Build { file } => Ok(build_components(&file, Output::Human).unwrap_or(ExitCode::SUCCESS)),
        Command::Inspect { component, output } => {
            let runner = Runner::new()?;
            match runner.loader()?.load(&component).await {
                Ok(c) => {
                    match output {
                        Output::Json => println!("{}", serde_json::to_string_pretty(&signature_json(&c.signature))?),
                        Output::Human => print_signature(&component, &c.signature),
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
        Command::Cache { action } => {
            let Some(cache) = Cache::from_env() else {
                println!("the compiled-component cache is off ({CACHE_DIR_ENV}=off)");
                return Ok(ExitCode::SUCCESS);
            };
            match action {
                CacheAction::Show => {
                    let (entries, bytes) = cache.usage()?;
                    let (outputs, output_bytes) = cache.outputs_usage()?;
                    let (artifacts, artifact_bytes) = cache.artifacts_usage()?;
                    println!(
                        "{}: {entries} compiled component(s), {} KiB; {outputs} cached task output(s), {} KiB; {artifacts} cached artifact(s), {} KiB",
                        cache.dir().display(),
                        bytes.div_ceil(1024),
                        output_bytes.div_ceil(1024),
                        artifact_bytes.div_ceil(1024)
                    );
                }
                CacheAction::Clear => {
                    let removed = cache.clear()?;
                    println!("{}: removed {removed} entries", cache.dir().display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { which } => {
            let schema = match which {
                SchemaKind::Pipeline => wasmpipe::model::schema(),
                SchemaKind::RunRecord => wasmpipe::record::schema(),
            };
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn exit_code(state: RunState) -> ExitCode {
    match state {
        RunState::Succeeded => ExitCode::SUCCESS,
        RunState::Failed => ExitCode::from(1),
        RunState::Cancelled => ExitCode::from(130),
    }
}

fn report_errors(diags: &Diagnostics, output: Output) -> ExitCode {
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(diags).unwrap_or_default()),
        Output::Human => {
            for d in &diags.errors {
                eprintln!("error: {d}");
            }
            eprintln!("{} problem(s) found; nothing ran.", diags.errors.len());
        }
    }
    ExitCode::from(2)
}

/// Human progress: each finished task with its state and logs, on stdout (stderr with `--output json`).
/// Handles SIGINT and SIGTERM by cancelling the run (the second signal aborts it).
fn listen_for_signals(cancel: CancelHandle) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            cancel.cancel(name);
        }
    });
    Ok(())
}

/// Progress: task starts and interruptions on stderr; each finished task with its state and
/// logs on stdout (stderr with `--output json`).
fn show_progress(progress: &Progress, event: Event<'_>, output: Output) {
    let task = match event {
        Event::TaskStarted(id) => return progress.write(Stream::Stderr, &format!("[start]   {id}\n")),
        Event::Interrupted(message) => return progress.write(Stream::Stderr, &format!("wasmpipe: {message}\n")),
        Event::TaskFinished(task) => task,
    };
    let stream = if output == Output::Json { Stream::Stderr } else { Stream::Stdout };
    progress.write(stream, &task_lines(task));
}

fn task_lines(task: &TaskRecord) -> String {
    let role = if task.exit_handler { " (exit handler)" } else { "" };
    let mut text = match (&task.state, &task.failure, &task.skip) {
        (TaskState::Succeeded, _, _) if task.cached => format!("[cached]  {}{role}\n", task.id),
        (TaskState::Succeeded, _, _) => format!("[ok]      {}{role}\n", task.id),
        (_, Some(f), _) => {
            let code = f.trap_code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            format!("[{}]  {}{role}: {}{code}: {}\n", state_word(task.state), task.id, snake(&f.kind), f.message)
        }
        (_, None, Some(s)) => format!("[skipped] {}{role}: {} (cause: {})\n", task.id, snake(&s.reason), s.cause),
        _ => format!("[{}] {}{role}\n", state_word(task.state), task.id),
    };
    for line in &task.logs {
        let source = if line.source == "stdout" { String::new() } else { format!("{}: ", line.source) };
        text.push_str(&format!("          | {source}{}\n", line.text));
    }
    text
}

/// The snake_case name serde gives an enum value (`memory_limit`).
fn snake(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

fn state_word(state: TaskState) -> &'static str {
    match state {
        TaskState::Succeeded => "ok",
        TaskState::Failed => "failed",
        TaskState::Skipped => "skipped",
        TaskState::Cancelled => "cancelled",
    }
}

fn print_summary(record: &RunRecord, run_dir: &Path) {
    for task in record.tasks.iter().filter(|t| t.state == TaskState::Skipped) {
        print!("{}", task_lines(task));
    }
    let failed = record.tasks.iter().filter(|t| t.state == TaskState::Failed).count();
    let state = match record.state {
        RunState::Succeeded => "succeeded",
        RunState::Failed => "failed",
        RunState::Cancelled => "cancelled",
    };
    println!(
        "run {} {state}: {} task(s), {failed} failed; components: {} compiled, {} from cache; record: {}",
        record.run_id,
        record.tasks.len(),
        record.compile.compiled,
        record.compile.from_cache,
        run_dir.join(&record.run_id).join("record.json").display()
    );
}

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

fn print_signature(path: &Path, sig: &Signature) {
    println!("{} ({})", sig.name, path.display());
    if !sig.description.is_empty() {
        println!("  {}", sig.description.replace('\n', "\n  "));
    }
    println!("inputs:");
    if sig.inputs.is_empty() {
        println!("  (none)");
    }
    for i in &sig.inputs {
        let note = match (&i.ty, i.required, &i.default) {
            (PortType::FinalStatus, _, _) => " (filled by wasmpipe for exit tasks)".to_string(),
            (_, true, _) => " (required)".to_string(),
            (_, false, Some(d)) => format!(" (default {d})"),
            (_, false, None) => " (optional)".to_string(),
        };
        println!("  {}: {}{note}", i.name, i.ty);
    }
    println!("outputs:");
    if sig.outputs.is_empty() {
        println!("  (none)");
    }
    for o in &sig.outputs {
        println!("  {}: {}", o.name, o.ty);
    }
}

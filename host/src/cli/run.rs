//! `wasmpipe run`: the run's options from the flags, progress while it runs, the record or a
//! summary at the end, and the exit code of the run's state.

use std::path::Path;
use std::process::ExitCode;

use wasmpipe::model::diag::Diagnostic;
use wasmpipe::model::policy::Limits;
use wasmpipe::record::{RunState, TaskState};
use wasmpipe::run::{
    CancelHandle, Event, FinishedRun, Prepared, Quotas, RunOptions, Runner, available_jobs, set_pool_capacity,
};

use super::args::{Output, RunArgs};
use super::build::build_components;
use super::output::{print_record, report_errors, run_state_word, task_lines};
use super::progress::{Progress, Stream};
use super::signals::listen_for_signals;

/// Runs the pipeline (building its components first with `--build`); Ctrl-C, SIGTERM, SIGHUP
/// and SIGQUIT cancel the run, from the start. Exit code 2 when nothing ran (an unusable run
/// directory included), 3 when the run ended but its record could not be written, else that of
/// the run's state.
pub async fn run_pipeline(args: RunArgs) -> anyhow::Result<ExitCode> {
    let cancel = CancelHandle::new();
    listen_for_signals(cancel.clone())?;
    if args.build
        && let Some(code) = build_components(&args.file, args.output)
    {
        return Ok(code);
    }
    let (file, output, quiet) = (args.file.clone(), args.output, args.quiet);
    let options = run_options(args, cancel);
    run_file(&file, options, output, quiet).await
}

/// Runs the pipeline in `file` with `options` (a new run, or one resumed), writing progress
/// and the record or summary; the exit code as for [`run_pipeline`].
pub async fn run_file(file: &Path, mut options: RunOptions, output: Output, quiet: bool) -> anyhow::Result<ExitCode> {
    if let Some(size) = std::env::var_os(RECORD_MEMORY_ENV) {
        // 0 is a size here: keep no record in memory.
        let size = match size.to_string_lossy().trim() {
            "0" => Ok(wasmpipe::model::ByteSize(0)),
            text => text.parse::<wasmpipe::model::ByteSize>(),
        };
        let size = size.map_err(|e| {
            anyhow::anyhow!("{RECORD_MEMORY_ENV}: {e} (how much memory finished tasks' records may take, e.g. `64MiB`)")
        })?;
        options.records_in_memory = usize::try_from(size.0).unwrap_or(usize::MAX);
    }
    // One run per process: the pool serves its `--jobs` attempts at once, and no more.
    set_pool_capacity(options.jobs).map_err(anyhow::Error::msg)?;
    let runner = Runner::new()?;
    let prepared = match runner.prepare_file(file, &options).await {
        Ok(p) => p,
        Err(diags) => return Ok(report_errors(&diags, output)),
    };
    // Checked once the pipeline is known valid (an invalid one leaves no run directory behind)
    // and before any task runs.
    if let Err(e) = usable_run_dir(&options.run_dir) {
        return Ok(report_errors(&e.into(), output));
    }
    for d in &prepared.load_failures {
        eprintln!("warning: {d}");
    }
    let (finished, written) = run_with_progress(&runner, &prepared, &options, output, quiet).await;
    print_record(&finished, output, &options.run_dir, quiet)?;
    let record = finished.record();
    if let Err(e) = written {
        eprintln!(
            "wasmpipe: the run {} but its record could not be written to {}: {e}",
            state_word(record.state),
            options.run_dir.join(&record.run_id).display()
        );
        return Ok(ExitCode::from(3));
    }
    Ok(exit_code(record.state))
}

/// The environment variable that sets [`RunOptions::records_in_memory`] (a size, like `64MiB`):
/// how much of finished tasks' records a run keeps in memory before it reads them back from its
/// journal.
pub const RECORD_MEMORY_ENV: &str = "WASMPIPE_RECORD_MEMORY";

/// Checks before anything runs that the run directory can hold runs: it exists or can be made,
/// and a file can be written in it.
fn usable_run_dir(run_dir: &Path) -> Result<(), Diagnostic> {
    let probe = run_dir.join(format!(".wasmpipe-probe-{}", std::process::id()));
    let checked = std::fs::create_dir_all(run_dir)
        .and_then(|()| std::fs::write(&probe, b""))
        .and_then(|()| std::fs::remove_file(&probe));
    checked.map_err(|e| Diagnostic {
        file: run_dir.display().to_string(),
        path: String::new(),
        line: None,
        message: format!(
            "the run directory `{}` cannot hold runs ({e}); choose another with `--run-dir DIR` or `WASMPIPE_RUN_DIR`",
            run_dir.display()
        ),
    })
}

/// How a run ended, for a sentence: "the run succeeded", "the run was cancelled".
fn state_word(state: RunState) -> &'static str {
    match state {
        RunState::Cancelled => "was cancelled",
        other => run_state_word(other),
    }
}

/// The run's options from its flags; `cancel` stops it.
fn run_options(args: RunArgs, cancel: CancelHandle) -> RunOptions {
    let budgets = &args.budgets;
    let quotas = Quotas {
        memory: budgets.memory_budget.map(|b| b.0),
        artifacts: budgets.artifact_budget.map(|b| b.0),
        logs: budgets.log_budget.map(|b| b.0),
    };
    RunOptions {
        limits: limits(&args),
        params: args.params,
        artifacts: args.files.artifacts,
        export: args.files.export,
        run_dir: args.run_dir,
        deadline: args.deadline.map(|d| d.0),
        grace: args.grace.0,
        cancel,
        jobs: args.jobs.unwrap_or_else(available_jobs).max(1),
        // Written by `run_and_write`: `run_pipeline` exits 3 when it cannot be.
        write_record: false,
        records_in_memory: wasmpipe::run::DEFAULT_RECORDS_IN_MEMORY,
        cache: args.cache,
        durable: args.durable,
        resume: None,
        run_data: None,
        quotas,
    }
}

/// The limits of tasks that set none themselves: `--timeout`, `--memory`, `--fuel`,
/// `--artifact-limit`, `--value-limit` and `--loop-item-limit`.
fn limits(args: &RunArgs) -> Limits {
    Limits {
        timeout: args.timeout.0,
        memory: args.memory.0 as usize,
        fuel: args.fuel,
        artifacts: args.files.artifact_limit.0,
        values: args.files.value_limit.0,
        loop_items: args.files.loop_item_limit,
        ..Limits::default()
    }
}

/// Runs the prepared pipeline, writing progress lines as it goes, and writes its record;
/// returns once every line is written, with the record and where it went (or why it could not).
async fn run_with_progress(
    runner: &Runner,
    prepared: &Prepared,
    options: &RunOptions,
    output: Output,
    quiet: bool,
) -> (FinishedRun, std::io::Result<std::path::PathBuf>) {
    let live = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()) && !super::color::dumb_terminal();
    let progress = Progress::start(live);
    let mut observe = |event: Event<'_>| show_progress(&progress, event, output, quiet);
    let ran = runner.run_and_write(prepared, options, &mut observe).await;
    progress.finish();
    ran
}

/// Progress: task starts and interruptions on stderr; each finished task with its state and
/// logs on stdout (stderr with `--output json`). `quiet`: interruptions only.
fn show_progress(progress: &Progress, event: Event<'_>, output: Output, quiet: bool) {
    let task = match event {
        Event::Interrupted(message) => return progress.write(Stream::Stderr, &format!("wasmpipe: {message}\n")),
        _ if quiet => return,
        // With a status area, running tasks show there instead of as `[start]` lines.
        Event::TaskStarted(id) if progress.is_live() => return progress.started(id),
        Event::TaskStarted(id) => return progress.write(Stream::Stderr, &format!("[start]   {id}\n")),
        Event::LoopEntered { id, tasks } => return progress.entered_loop(id, tasks),
        Event::TaskFinished(task) => task,
        _ => return,
    };
    progress.finished(&task.id, task.state == TaskState::Succeeded, task.state == TaskState::Failed);
    let stream = if output == Output::Json { Stream::Stderr } else { Stream::Stdout };
    progress.write(stream, &task_lines(task));
}

/// 0 the run succeeded, 1 it failed, 130 it was cancelled.
fn exit_code(state: RunState) -> ExitCode {
    match state {
        RunState::Succeeded => ExitCode::SUCCESS,
        RunState::Failed => ExitCode::from(1),
        RunState::Cancelled => ExitCode::from(130),
    }
}

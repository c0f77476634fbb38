//! The `wasmpipe` command: a thin layer over the library (see `wasmpipe::run`). This file starts
//! the async runtime and hands each subcommand to its module in [`cli`].
//!
//! Exit codes: 0 the run succeeded, 1 it failed, 130 it was cancelled, 2 usage or validation
//! error (nothing ran), 3 the run ended but its record could not be written.

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use cli::args::{Cli, Command};

/// mimalloc: per-thread heaps that do not grow and shrink the process's mappings, so that
/// workers do not stall each other on the kernel's memory-map lock (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Parses the command line and runs the command on a single-threaded runtime; an error the
/// command returns is printed on stderr and exits with 2.
fn main() -> ExitCode {
    let cli = Cli::parse();
    // Task lines go to stdout, or to stderr beside a JSON record on stdout.
    let lines_to_stderr = matches!(&cli.command, Command::Run(args) if args.output == cli::args::Output::Json);
    let terminal = if lines_to_stderr { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() };
    cli::color::set(cli.color, terminal);
    // Tasks run on the run's worker threads (each with a runtime of its own); this runtime only
    // prepares the run, handles signals and prints progress, so one thread is enough.
    let runtime = match wasmpipe::run::small_runtime() {
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

/// Runs one subcommand and returns its exit code.
async fn run_command(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => cli::run::run_pipeline(*args).await,
        Command::Build { file } => Ok(cli::build::build(&file)),
        Command::Validate { file, params, artifacts, output } => {
            cli::validate::validate(&file, params, artifacts, output).await
        }
        Command::Inspect { component, output } => cli::inspect::inspect(&component, output).await,
        Command::Cache { action } => cli::cache::cache(action),
        Command::Schema { which } => cli::schema::print_schema(which),
        Command::Completions { shell } => Ok(cli::completions::print(shell)),
        Command::TaskRun(args) => cli::task_run::task_run(*args).await,
        Command::Compile { file, target, out, image, components_dir, copy_components } => {
            cli::compile::compile(&file, target, &out, image, components_dir, copy_components.as_deref()).await
        }
        Command::Graph { file, format, out } => cli::graph::graph(&file, format, out.as_deref()),
        Command::Resume { run, run_dir, output, quiet } => cli::resume::resume(&run, &run_dir, output, quiet).await,
        Command::Runs { action, run_dir } => cli::runs::runs(action, &run_dir),
        Command::Report { run, run_dir, out } => cli::report::report(&run, &run_dir, out.as_deref()),
    }
}

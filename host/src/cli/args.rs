//! The command line: the subcommands and flags of `wasmpipe`, as clap parses them. Their doc
//! comments are the help texts.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use wasmpipe::model::{ByteSize, HumanDuration};
use wasmpipe::run::RUN_DIR_ENV;

/// Run pipelines of WebAssembly components, with exit handlers that always run.
#[derive(Parser)]
#[command(name = "wasmpipe", version, long_version = long_version(), about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Color states in the lines printed: `auto` (on a terminal, unless `NO_COLOR` is set),
    /// `always` or `never`.
    #[arg(long, value_enum, global = true, default_value_t = super::color::ColorChoice::Auto)]
    pub color: super::color::ColorChoice,
}

/// `wasmpipe task-run`'s arguments (written by `wasmpipe compile`). Two modes: KFP's
/// (`--executor-input`) and Argo's (`--outputs-dir`, with `--input` and `--final-status`).
#[derive(clap::Args)]
pub struct TaskRunArgs {
    /// KFP's executor input, as JSON (`{{$}}` in the container's arguments).
    #[arg(
        long,
        value_name = "JSON",
        required_unless_present = "outputs_dir",
        conflicts_with_all = ["outputs_dir", "inputs", "final_status", "artifacts", "artifact_outputs"]
    )]
    pub executor_input: Option<String>,
    /// Argo's mode: write each value output to DIR/NAME (a string as it is, any other value as
    /// JSON), where the template's `valueFrom.path` reads it.
    #[arg(long, value_name = "DIR")]
    pub outputs_dir: Option<PathBuf>,
    /// An input value, as text: a string as it is, an int, float or bool by its usual
    /// spelling, a list or dict as JSON (by the type the component declares). Repeatable.
    #[arg(long = "input", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub inputs: Vec<(String, String)>,
    /// Argo: an input artifact, where Argo put it (the template's `inputs.artifacts[].path`):
    /// `NAME=PATH`, a file or a directory. Its metadata is `{}` (Argo keeps none). Repeatable.
    #[arg(long = "artifact", value_name = "NAME=PATH", value_parser = parse_artifact, requires = "outputs_dir")]
    pub artifacts: Vec<(String, PathBuf)>,
    /// Argo: where to place output artifact NAME when the task succeeds (the template's
    /// `outputs.artifacts[].path`, which Argo uploads to its artifact repository):
    /// `NAME=PATH`. Repeatable.
    #[arg(long = "artifact-output", value_name = "NAME=PATH", value_parser = parse_artifact, requires = "outputs_dir")]
    pub artifact_outputs: Vec<(String, PathBuf)>,
    /// For an exit task: the body's Argo phase (`{{tasks.GROUP.status}}`: `Succeeded`,
    /// `Failed` or `Error`), given to its `final-status` input as wasmpipe's final status.
    #[arg(long, value_name = "PHASE")]
    pub final_status: Option<String>,
    /// The exit-handler group the final status is of (its `group`).
    #[arg(long, value_name = "NAME", requires = "final_status")]
    pub group: Option<String>,
    /// The run id the guest sees (Argo: `{{workflow.name}}`; KFP: `$KFP_RUN_ID`).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// The task id the guest sees (its wasmpipe id, `group/task`; KFP: `$KFP_POD_NAME`).
    #[arg(long, value_name = "ID")]
    pub task_id: Option<String>,
    /// Argo's retry number (`{{retries}}`: 0 for the first attempt); the guest sees attempt
    /// N + 1.
    #[arg(long, value_name = "N")]
    pub retry: Option<u32>,
    /// The task's component.
    #[arg(long, value_name = "FILE")]
    pub component: PathBuf,
    /// The component's content digest the pipeline was compiled with (`blake3:<hex>`): a
    /// different file is refused.
    #[arg(long, value_name = "DIGEST")]
    pub digest: Option<String>,
    /// The attempt's timeout.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<HumanDuration>,
    /// The attempt's memory limit.
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<ByteSize>,
    /// The attempt's fuel.
    #[arg(long, value_name = "UNITS")]
    pub fuel: Option<u64>,
    /// An environment variable the task sees: `NAME=VALUE`. Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub env: Vec<(String, String)>,
    /// KFP: the pipeline root (`{{$.pipeline_root}}`). A failed task leaves its failure there
    /// (under `wasmpipe/RUN_ID/`) for the exit tasks of its groups, which read them into their
    /// final status; the attempts of a retried task are counted there.
    #[arg(long, value_name = "URI", requires = "executor_input")]
    pub pipeline_root: Option<String>,
    /// KFP: this task's execution (`{{$.pipeline_task_uuid}}`): on KFP's backend, what tells
    /// a task's instances apart under the pipeline root.
    #[arg(long, value_name = "ID", requires = "pipeline_root")]
    pub instance: Option<String>,
    /// KFP: the DAGs that hold the task, innermost last (comma-separated component names).
    #[arg(long, value_name = "DAGS", value_delimiter = ',', requires = "pipeline_root")]
    pub groups: Vec<String>,
    /// For a WASI command component: how it runs and its interface, as the pipeline declares
    /// them (JSON, as `wasmpipe compile` writes it).
    #[arg(long, value_name = "JSON")]
    pub command: Option<String>,
    /// KFP: for an exit task, the DAG of the body whose failures its final status lists.
    #[arg(long, value_name = "DAG", requires = "pipeline_root")]
    pub exit_of: Option<String>,
}

/// The engines `wasmpipe compile` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CompileTarget {
    /// Kubeflow Pipelines' IR (`PipelineSpec`, schema 2.1.0).
    Kfp,
    /// An Argo Workflows `Workflow` (`argoproj.io/v1alpha1`).
    Argo,
}

/// The subcommands: `run` and the ones that prepare or describe what it runs.
#[derive(Subcommand)]
pub enum Command {
    /// Run a pipeline and write its run record.
    ///
    /// Exit status: 0 succeeded, 1 failed, 130 cancelled, 2 the pipeline is invalid (nothing ran).
    Run(Box<RunArgs>),
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
    /// Draw a pipeline as a graph: groups as clusters (exit handlers with their exit task,
    /// conditions, loops, sub-pipelines), an edge from what a task reads or waits for.
    ///
    /// `dot -Tsvg` renders the DOT; the Mermaid goes in Markdown (a ```mermaid block).
    /// Run one task: the entrypoint of the containers `compile` writes. From Kubeflow
    /// Pipelines' executor input (`--executor-input`), writing the outputs where KFP reads
    /// them; or, for Argo, from `--input` values, writing each output to `--outputs-dir`.
    ///
    /// Exit status: 0 the task succeeded, 1 it failed (its failure on stderr, as JSON; with
    /// `--outputs-dir`, only a failure wasmpipe retries), 2 bad arguments (with
    /// `--outputs-dir`, also a failure it does not retry: `load`, `input`, `cancelled`,
    /// `internal`).
    TaskRun(Box<TaskRunArgs>),
    /// Compile a pipeline for another engine: `--target kfp` writes Kubeflow Pipelines' IR
    /// (submit it with the KFP UI, the `kfp` client or Vertex AI), `--target argo` an Argo
    /// Workflows `Workflow` (`argo submit`), each task a container running `wasmpipe
    /// task-run` over its component in `--image`. What the engine cannot express is refused,
    /// each with its place.
    ///
    /// Exit status: 0 written, 2 refused or unreadable.
    Compile {
        /// The pipeline file.
        file: PathBuf,
        /// The engine.
        #[arg(long, value_enum)]
        target: CompileTarget,
        /// Write to this file (YAML, or JSON when it ends in `.json`).
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// The runner image the tasks run in (`wasmpipe` and the components).
        #[arg(long, value_name = "IMAGE", default_value = "wasmpipe-runner:latest")]
        image: String,
        /// Where the components are in the image.
        #[arg(long, value_name = "DIR", default_value = "/components")]
        components_dir: String,
        /// Also copy the components into DIR, by the file names the IR gives them (the
        /// runner image's `components/`).
        #[arg(long, value_name = "DIR")]
        copy_components: Option<PathBuf>,
    },
    Graph {
        /// The pipeline file.
        file: PathBuf,
        /// `dot` (Graphviz) or `mermaid`.
        #[arg(long, value_enum, default_value_t = GraphFormatArg::Dot)]
        format: GraphFormatArg,
        /// Write the graph to this file instead of stdout.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Go on with a run that was stopped before its end (killed, or the machine stopped), from
    /// its journal: tasks that ended are not run again, the rest runs as it would have, with
    /// the run's parameters and options.
    ///
    /// Exit status: as `run`'s; 2 when the run cannot be resumed (it ended, it is running, it
    /// left no journal, or an artifact it published is missing or changed).
    Resume {
        /// The run: its id, `latest` or its directory.
        run: String,
        /// Where run directories are.
        #[arg(long, value_name = "DIR", env = RUN_DIR_ENV, default_value = wasmpipe::run::DEFAULT_RUN_DIR)]
        run_dir: PathBuf,
        /// `human` or `json`, as for `run`.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
        /// Only the summary at the end, as for `run`.
        #[arg(short, long)]
        quiet: bool,
    },
    /// Look back on runs: list them, show one, print its logs, remove old ones.
    ///
    /// Exit status: 0 done, 2 a run that is not there (or is running, for `rm`).
    Runs {
        /// What to do.
        #[command(subcommand)]
        action: RunsAction,
        /// Where run directories are.
        #[arg(long, global = true, value_name = "DIR", env = RUN_DIR_ENV, default_value = wasmpipe::run::DEFAULT_RUN_DIR)]
        run_dir: PathBuf,
    },
    /// Draw a run as one self-contained HTML page (no network needed to view it): its summary,
    /// failures and exit handlers, its graph with states in color, and a timeline of attempts
    /// whose rows open on each task's details.
    ///
    /// Exit status: 0 written, 2 the run or its record cannot be read.
    Report {
        /// A run id (from the run directory), `latest`, a run's directory or a `record.json`.
        run: String,
        /// Where run directories are, for a run id.
        #[arg(long, value_name = "DIR", env = RUN_DIR_ENV, default_value = wasmpipe::run::DEFAULT_RUN_DIR)]
        run_dir: PathBuf,
        /// The page to write (`-` for stdout); by default `report.html` beside the record.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print a shell completion script: `source <(wasmpipe completions bash)`, or save it
    /// where your shell looks (e.g. `wasmpipe completions fish > ~/.config/fish/completions/wasmpipe.fish`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The flags of `wasmpipe run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// The pipeline file (YAML or JSON).
    pub file: PathBuf,
    /// Set a parameter: `-p name=value`, parsed by the parameter's declared type
    /// (ints, floats and bools as written, lists and dicts as JSON). Repeatable.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    #[command(flatten)]
    pub files: FileArgs,
    /// `human` shows each task and its logs; `json` prints the run record on stdout
    /// (progress goes to stderr).
    #[arg(long, value_enum, default_value_t = Output::Human)]
    pub output: Output,
    /// Print no progress and no task lines: only the summary at the end (with `--output
    /// json`, only the record). Interruptions are still reported.
    #[arg(short, long)]
    pub quiet: bool,
    /// Where run directories go: DIR/<run-id>/record.json.
    #[arg(long, value_name = "DIR", env = RUN_DIR_ENV, default_value = wasmpipe::run::DEFAULT_RUN_DIR)]
    pub run_dir: PathBuf,
    /// Timeout of each task attempt that sets none (`30s`, `2m`, `500ms`).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: HumanDuration,
    /// Memory limit of each task that sets none (`256MiB`, `1GiB`).
    #[arg(long, value_name = "SIZE", default_value = "512MiB")]
    pub memory: ByteSize,
    /// Fuel (about one unit per wasm instruction) of each task attempt that sets none.
    /// Unlimited by default; runs that use fuel run a little slower.
    #[arg(long, value_name = "UNITS")]
    pub fuel: Option<u64>,
    /// How long exit handlers may still run after Ctrl-C, SIGTERM or the deadline; a second
    /// signal, or the end of the grace period, stops them too.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub grace: HumanDuration,
    /// A deadline for the whole run (overrides the pipeline's `deadline`): at expiry running
    /// body tasks fail with `timeout` and the exit handlers run within the grace period.
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<HumanDuration>,
    /// Reuse the outputs of earlier successful runs of tasks with the same component and
    /// inputs (tasks and the pipeline may choose with `cache:`; exit tasks never are).
    #[arg(long)]
    pub cache: bool,
    /// Make the run survive a power cut too, not only the death of the process: its journal is
    /// synced to disk after each batch of events (about every millisecond), published
    /// artifacts before their task counts as ended, and the record before it is renamed into
    /// place. Costs a sync per batch: see BENCHMARKS.md.
    #[arg(long)]
    pub durable: bool,
    /// How many tasks may run at the same time (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Build the components whose sources changed first (their `build:`), as
    /// `wasmpipe build` does.
    #[arg(long)]
    pub build: bool,
    #[command(flatten)]
    pub budgets: BudgetArgs,
}

/// Budgets the run's tasks share (none by default).
#[derive(clap::Args)]
pub struct BudgetArgs {
    /// Memory the run's running tasks may hold at once, by their memory limits: a task waits
    /// until its limit fits beside those running (`2GiB`). Also caps each task's default.
    #[arg(long, value_name = "SIZE")]
    pub memory_budget: Option<ByteSize>,
    /// Bytes of output artifacts the run may keep: a task with output artifacts waits until
    /// its `artifact_limit` fits in what is left. Also caps each task's default.
    #[arg(long, value_name = "SIZE")]
    pub artifact_budget: Option<ByteSize>,
    /// Bytes of log text the run's record keeps; later lines are dropped and counted.
    #[arg(long, value_name = "SIZE")]
    pub log_budget: Option<ByteSize>,
}

/// The run's files: artifacts given to it, where its output artifacts go, and their limit.
#[derive(clap::Args)]
pub struct FileArgs {
    /// Give artifact parameter NAME a host file or directory: `-a data=numbers.csv`. Tasks see
    /// it read-only. Repeatable.
    #[arg(short = 'a', long = "artifact", value_name = "NAME=PATH", value_parser = parse_artifact)]
    pub artifacts: Vec<(String, PathBuf)>,
    /// Copy the pipeline's output artifacts to DIR/<output> when the run ends.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// The most bytes the output artifacts of one task attempt may hold, for tasks that set no
    /// `artifact_limit`; more fails the task with kind `output_limit`.
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    pub artifact_limit: ByteSize,
    /// The most bytes (as JSON text) the value outputs and artifact metadata of one task
    /// attempt may hold, and a fan-in a task reads, for tasks that set no `value_limit`; more
    /// fails the task with kind `output_limit`.
    #[arg(long, value_name = "SIZE", default_value = "64MiB")]
    pub value_limit: ByteSize,
    /// The most items a task's output may give a loop that iterates over it, for tasks that
    /// set no `loop_item_limit`; more fails the task with kind `output_limit`.
    #[arg(long, value_name = "N", default_value = "1000000")]
    pub loop_item_limit: u64,
}

/// How a command prints its result: for people, or as JSON. (Its values have no doc comments,
/// which clap would show in `--help`.)
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Human,
    Json,
}

/// What `wasmpipe cache` does.
#[derive(Clone, Copy, ValueEnum)]
pub enum CacheAction {
    /// Where the cache is, how many entries it holds and their size.
    Show,
    /// Remove every entry.
    Clear,
}

/// What `wasmpipe runs` does. RUN is a run id, `latest`, a run's directory or its record.
#[derive(Subcommand)]
pub enum RunsAction {
    /// The runs, oldest first: id, pipeline, state (`running` while a process runs it,
    /// `incomplete` when it was killed before its end), start, duration and tasks by state.
    List {
        /// `human` or `json`.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// A run's summary, as at the end of `wasmpipe run` (`--output json`: its record).
    Show {
        /// The run.
        run: String,
        /// `human` or `json`.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// What a run's tasks printed and logged, task by task, each line with when it was written.
    Logs {
        /// The run.
        run: String,
        /// Only this task, or the tasks of this group (`fan/3`, `cleanup`).
        task: Option<String>,
        /// `human` or `json` (`[{task, source, text}]`).
        #[arg(long, value_enum, default_value_t = Output::Human)]
        output: Output,
    },
    /// Remove runs, with their artifacts; never one that is running.
    Rm {
        /// The runs.
        #[arg(required = true)]
        runs: Vec<String>,
    },
    /// Remove old runs, with their artifacts: all but the newest N (`--keep N`), or those that
    /// started more than a duration ago (`--older-than 7d`); never one that is running.
    Prune {
        /// Keep the newest N runs.
        #[arg(long, value_name = "N", required_unless_present = "older_than")]
        keep: Option<usize>,
        /// Remove the runs that started longer ago than this (`12h`, `7d`).
        #[arg(long, value_name = "DURATION")]
        older_than: Option<HumanDuration>,
        /// Say what would be removed, and remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Which schema `wasmpipe schema` prints.
#[derive(Clone, Copy, ValueEnum)]
pub enum SchemaKind {
    /// `schemas/pipeline.schema.json`
    Pipeline,
    /// `schemas/run-record.schema.json`
    RunRecord,
}

/// Parses `-a NAME=PATH`.
fn parse_artifact(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, path)) if !name.trim().is_empty() && !path.is_empty() => {
            Ok((name.trim().to_string(), PathBuf::from(path)))
        }
        _ => Err(format!("`{text}` is not NAME=PATH (for example `-a data=numbers.csv`)")),
    }
}

/// Parses `-p NAME=VALUE` (the value is parsed later, by the parameter's declared type).
fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.to_string())),
        _ => Err(format!("`{text}` is not NAME=VALUE (for example `-p message=hello`)")),
    }
}

/// `wasmpipe --version`: this version, the wasmtime it runs on and the WIT package of its
/// components (`-V` prints the first line only).
fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| format!("{}\n{}", env!("CARGO_PKG_VERSION"), wasmpipe::run::engine_versions()))
}

/// The formats of `wasmpipe graph`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormatArg {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

//! How tasks, groups and runs end: states, failure kinds, skip reasons, log lines and the final
//! status an exit task receives. The shared vocabulary of the scheduler, the executor and the
//! run record (`record` re-exports these types; their serialised names are a stable contract).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The state of a run or a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Everything that ran succeeded.
    Succeeded,
    /// A task or an exit task failed.
    Failed,
    /// A cancellation arrived before the run finished.
    Cancelled,
}

/// The final state of one task instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    /// Its last attempt returned outputs.
    Succeeded,
    /// Its last attempt failed; see `failure`.
    Failed,
    /// It never ran; see `skip`.
    Skipped,
    /// A cancellation interrupted it.
    Cancelled,
}

/// Why a task failed (`docs/semantics.md`, rule 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The component returned an error.
    Error,
    /// The guest trapped; see `trap_code`.
    Trap,
    /// The task ran past its timeout.
    Timeout,
    /// The task hit its memory limit.
    MemoryLimit,
    /// The task used up its fuel.
    FuelExhausted,
    /// An output exceeded its size limit.
    OutputLimit,
    /// The component could not be loaded, compiled, linked or instantiated.
    Load,
    /// An input value was missing or ill-typed at run time.
    Input,
    /// A cancellation interrupted the task.
    Cancelled,
    /// wasmpipe itself failed while it handled the task (a bug in the host, never the
    /// component's doing); the message says where. The run goes on.
    Internal,
    /// The run stopped (its process was killed, or its machine stopped) while this attempt ran;
    /// `wasmpipe resume` ran the task again. Only ever an attempt's kind, never a task's.
    Interrupted,
}

impl FailureKind {
    /// Whether a failure of this kind is worth another attempt (`retries`): all but a
    /// component that cannot load, an input that cannot be produced, a cancellation, and a
    /// failure of wasmpipe itself, which would fail again the same way (rule 11).
    pub fn retried(self) -> bool {
        !matches!(self, FailureKind::Load | FailureKind::Input | FailureKind::Cancelled | FailureKind::Internal)
    }
}

/// Why a task never ran (`docs/semantics.md`, rule 11). Skipping is not a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A task or group it depends on failed or was skipped.
    UpstreamFailed,
    /// Its branch was not taken.
    ConditionFalse,
    /// Another task of its group failed first.
    FailFast,
    /// The run was cancelled before it started.
    Cancelled,
    /// The grace period ran out before it started.
    GraceExpired,
    /// A second signal aborted the run before it started.
    Aborted,
    /// Its group was never entered.
    NotEntered,
}

/// How a task failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    /// The failure kind.
    pub kind: FailureKind,
    /// What went wrong.
    pub message: String,
    /// For a trap: the snake_case name of wasmtime's `Trap` variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trap_code: Option<String>,
}

impl Failure {
    /// A failure without a trap code.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure { kind, message: message.into(), trap_code: None }
    }
}

/// Why a task was skipped, and what caused it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Skip {
    /// The reason.
    pub reason: SkipReason,
    /// The id of the task or group responsible.
    pub cause: String,
}

/// One line a task wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LogLine {
    /// Where it came from: `stdout`, `stderr`, or the level of a `log` call (`debug`, `info`,
    /// `warn`, `error`).
    pub source: String,
    /// The text.
    pub text: String,
    /// When it was written (RFC 3339, microseconds): the `log` call, or the write that began
    /// the line (none in records of an older wasmpipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// A failed or cancelled task as an exit task sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskFailureRecord {
    /// The task's id.
    pub task: String,
    /// Its failure kind.
    pub kind: FailureKind,
    /// Its failure message.
    pub message: String,
    /// Its trap code, for a trap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trap_code: Option<String>,
    /// Whether its result came from the cache.
    pub cached: bool,
    /// Whether it is an (inner) exit task.
    pub exit_handler: bool,
}

/// The final status an exit task received (`docs/semantics.md`, rule 5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FinalStatusRecord {
    /// The body's state.
    pub state: RunState,
    /// The run's id.
    pub run_id: String,
    /// The exit-handler group's name.
    pub group: String,
    /// Every failed or cancelled task of the body, inner exit tasks included.
    pub failures: Vec<TaskFailureRecord>,
}

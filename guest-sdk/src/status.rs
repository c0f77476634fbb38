//! Names for the final-status enums, as the run record spells them (`failed`, `memory_limit`).

use crate::{FailureKind, State};

impl State {
    /// `succeeded`, `failed` or `cancelled`.
    pub fn name(&self) -> &'static str {
        match self {
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
        }
    }
}

impl FailureKind {
    /// The kind's name in the run record (`error`, `trap`, `memory_limit`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            FailureKind::Error => "error",
            FailureKind::Trap => "trap",
            FailureKind::Timeout => "timeout",
            FailureKind::MemoryLimit => "memory_limit",
            FailureKind::FuelExhausted => "fuel_exhausted",
            FailureKind::OutputLimit => "output_limit",
            FailureKind::Load => "load",
            FailureKind::Input => "input",
            FailureKind::Cancelled => "cancelled",
            FailureKind::Internal => "internal",
        }
    }
}

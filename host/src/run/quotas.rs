//! Budgets an embedder sets on one run ([`Quotas`], a tenant's share of the host): memory and
//! artifact bytes shared by the run's tasks, and the log text its record keeps.
//!
//! Memory and artifact budgets are admission limits: a task starts only when its own limit
//! fits in what the tasks running now have not reserved, so whichever task comes first never
//! fails for another's use, and the tasks' outcomes do not depend on timing. A task's limit is
//! at most the budget (a default larger than the budget is lowered to it; a limit the task sets
//! itself above it is a validation error). The log budget only drops lines from the record.

use std::sync::atomic::{AtomicU64, Ordering};

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::ByteSize;
use crate::model::artifact::ArtifactRef;
use crate::model::component::PortType;
use crate::model::policy::{Limits, Quotas};
use crate::plan::validate::Report;
use crate::plan::{Plan, PlanTask};
use crate::record::{LogLine, now};
use crate::run::RunOptions;
use crate::wasm::loader::LoadedComponent;

/// What a task holds of the run's budgets while it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Reservation {
    pub(super) memory: u64,
    pub(super) artifacts: u64,
}

impl std::ops::Add for Reservation {
    type Output = Reservation;
    fn add(self, other: Reservation) -> Reservation {
        Reservation {
            memory: self.memory.saturating_add(other.memory),
            artifacts: self.artifacts.saturating_add(other.artifacts),
        }
    }
}

/// The limits task `task` runs under: its own, else the run's defaults, with the defaults
/// lowered to the run's budgets.
pub(super) fn task_limits(task: &PlanTask, options: &RunOptions) -> Limits {
    let mut limits = task.limits.over(&options.limits);
    if let Some(budget) = options.quotas.memory
        && task.limits.memory.is_none()
    {
        limits.memory = limits.memory.min(usize::try_from(budget).unwrap_or(usize::MAX));
    }
    if let Some(budget) = options.quotas.artifacts
        && task.limits.artifacts.is_none()
    {
        limits.artifacts = limits.artifacts.min(budget);
    }
    limits
}

/// What task `task`, whose component is `component`, reserves while it runs: its memory limit
/// under a memory budget; its artifact limit under an artifact budget, when it has output
/// artifacts.
pub(super) fn reservation(task: &PlanTask, component: Option<&LoadedComponent>, options: &RunOptions) -> Reservation {
    let quotas = &options.quotas;
    if quotas.memory.is_none() && quotas.artifacts.is_none() {
        return Reservation::default();
    }
    let limits = task_limits(task, options);
    let makes_artifacts =
        component.is_some_and(|c| c.signature.outputs.iter().any(|o| matches!(o.ty, PortType::Artifact { .. })));
    Reservation {
        memory: if quotas.memory.is_some() { limits.memory as u64 } else { 0 },
        artifacts: if quotas.artifacts.is_some() && makes_artifacts { limits.artifacts } else { 0 },
    }
}

/// Whether a task needing `need` may start beside the running tasks' `reserved`, the run's
/// finished tasks having kept `kept` artifact bytes. With nothing running it always may: then
/// nothing will free room for it.
pub(super) fn admits(quotas: &Quotas, reserved: Reservation, need: Reservation, kept: u64) -> bool {
    if reserved == Reservation::default() {
        return true;
    }
    let fits =
        |budget: Option<u64>, used: u64, need: u64| budget.is_none_or(|b| need == 0 || used.saturating_add(need) <= b);
    fits(quotas.memory, reserved.memory, need.memory)
        && fits(quotas.artifacts, reserved.artifacts.saturating_add(kept), need.artifacts)
}

/// Validation errors for tasks that set a limit of their own above the run's budget: such a
/// task could never start (memory) or never keep what its limit allows (artifacts).
pub(super) fn check(plan: &Plan, options: &RunOptions, report: &mut Report) {
    let quotas = &options.quotas;
    for task in &plan.tasks {
        let source = &plan.scopes[task.scope].source;
        let over = [
            ("memory", task.limits.memory, quotas.memory),
            ("artifact_limit", task.limits.artifacts, quotas.artifacts),
        ];
        for (field, limit, budget) in over {
            if let (Some(limit), Some(budget)) = (limit, budget)
                && limit > budget
            {
                report.errors.push(source.error(
                    &format!("{}.{field}", task.doc_path),
                    format!(
                        "task `{}` sets `{field}` to {}, more than this run's {} budget of {}; lower it to the budget or less",
                        task.name,
                        ByteSize(limit),
                        if field == "memory" { "memory" } else { "artifact" },
                        ByteSize(budget)
                    ),
                ));
            }
        }
    }
}

/// The budgets a run spends as it goes: log text left, artifact bytes kept.
#[derive(Debug)]
pub(super) struct Spent {
    logs_left: Option<AtomicU64>,
    artifacts_kept: AtomicU64,
}

impl Spent {
    /// Nothing spent yet of `quotas`.
    pub(super) fn new(quotas: &Quotas) -> Spent {
        Spent { logs_left: quotas.logs.map(AtomicU64::new), artifacts_kept: AtomicU64::new(0) }
    }

    /// Artifact bytes kept by the run's finished tasks.
    pub(super) fn artifacts_kept(&self) -> u64 {
        self.artifacts_kept.load(Ordering::Relaxed)
    }

    /// Counts the output artifacts among `outputs`, those of a task that succeeded.
    pub(super) fn keep_artifacts_of(&self, outputs: &IndexMap<String, Value>) {
        let bytes = outputs.values().filter_map(|v| ArtifactRef::from_value(v).ok()).map(|a| a.size).sum();
        self.artifacts_kept.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Keeps the lines of `logs` that fit in the log budget left; when some do not, drops them
    /// and adds one line that counts them.
    pub(super) fn keep_logs(&self, logs: &mut Vec<LogLine>) {
        let Some(left) = &self.logs_left else { return };
        let mut kept = 0;
        for line in logs.iter() {
            let size = line.text.len() as u64;
            let taken = left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(size));
            if taken.is_err() {
                // The budget is spent for good: later lines of any task are dropped too.
                left.store(0, Ordering::Relaxed);
                break;
            }
            kept += 1;
        }
        let dropped = logs.len() - kept;
        if dropped > 0 {
            logs.truncate(kept);
            logs.push(LogLine {
                source: "wasmpipe".into(),
                text: format!("{dropped} line(s) of this attempt dropped: the run's log budget is spent"),
                at: Some(now()),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn a_task_is_admitted_when_its_reservation_fits_or_nothing_runs() {
        let quotas = Quotas { memory: Some(100 * MIB), artifacts: Some(10 * MIB), logs: None };
        let r = |memory, artifacts| Reservation { memory: memory * MIB, artifacts: artifacts * MIB };
        assert!(admits(&quotas, r(0, 0), r(100, 10), 0));
        assert!(admits(&quotas, r(0, 0), r(100, 10), 9 * MIB), "nothing runs: it runs with what is left");
        assert!(admits(&quotas, r(60, 0), r(40, 0), 0));
        assert!(!admits(&quotas, r(60, 0), r(41, 0), 0));
        assert!(admits(&quotas, r(60, 5), r(10, 0), 9 * MIB), "a task without artifacts needs no artifact room");
        assert!(!admits(&quotas, r(10, 5), r(10, 5), 1), "kept bytes count");
        assert!(admits(&Quotas::default(), r(60, 5), r(1 << 20, 1 << 20), u64::MAX));
    }

    #[test]
    fn the_log_budget_keeps_whole_lines_until_spent() {
        let spent = Spent::new(&Quotas { logs: Some(10), ..Quotas::default() });
        let line = |text: &str| LogLine { source: "stdout".into(), text: text.into(), at: None };
        let mut logs = vec![line("1234"), line("5678"), line("abc"), line("d")];
        spent.keep_logs(&mut logs);
        let texts: Vec<&str> = logs.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(&texts[..2], ["1234", "5678"]);
        assert_eq!(texts[2], "2 line(s) of this attempt dropped: the run's log budget is spent");
        let mut later = vec![line("x")];
        spent.keep_logs(&mut later);
        assert_eq!(later.len(), 1, "a spent budget drops every later line");
        assert_eq!(later[0].source, "wasmpipe");
    }
}

//! What a task's container template carries besides its inputs and outputs: the retry
//! backoff as Argo's (`retryStrategy.backoff`) and the memoization key (`memoize.key`).

use serde_json::{Value, json};

use super::Exporter;
use crate::export::ComponentInfo;
use crate::model::{Backoff, Task};

/// A duration as Argo parses it (Go's form): whole seconds, else milliseconds.
pub(super) fn duration(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

/// The memoization key of a task: the SHA-256 (Argo's `sprig.sha256sum`) of what wasmpipe's
/// cache key covers and Argo can see: the component's digest and the task's `env` (in a BLAKE3
/// digest computed here), and the input parameters' values as Argo's `toJson` writes them. A
/// key Argo takes (`[a-zA-Z0-9][-a-zA-Z0-9]*`) whatever the values hold.
pub(super) fn memo_key(info: &ComponentInfo, task: &Task, has_inputs: bool) -> String {
    let env = serde_json::to_string(&task.env).unwrap_or_default();
    let fixed = blake3::hash(format!("{}\n{env}", info.digest).as_bytes()).to_hex().to_string();
    if has_inputs { format!("{{{{=sprig.sha256sum('{fixed}' + toJson(inputs.parameters))}}}}") } else { fixed }
}

impl Exporter<'_> {
    /// A backoff as Argo's: `duration` the first wait, `factor` (a whole number in Argo),
    /// `cap` the longest wait; None (refused at `at`) when the factor is not whole.
    pub(super) fn backoff(&mut self, backoff: &Backoff, at: &str) -> Option<Value> {
        let factor = if backoff.factor.is_finite() && backoff.factor >= 1.0 { backoff.factor } else { 1.0 };
        if factor.fract() != 0.0 {
            self.refuse(
                &format!("{at}.factor"),
                format!("Argo's backoff factor is a whole number, not {}: use one", backoff.factor),
            );
            return None;
        }
        Some(json!({"duration": duration(backoff.initial.0), "factor": factor as u64, "cap": duration(backoff.max.0)}))
    }
}

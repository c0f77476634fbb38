//! What a task is granted of the host (`docs/semantics.md`, rule 12, the run's inputs): `dirs`
//! with absolute guest paths and host directories that exist, `host_env` variables that are set.

use super::Checker;
use crate::model::component::Signature;
use crate::plan::TaskIdx;

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks what task `t` is granted of the host: absolute guest paths, host directories that
    /// exist, host variables that are set.
    pub(super) fn grants(&mut self, t: TaskIdx) {
        let task = &self.plan.tasks[t];
        let path = &task.doc_path;
        for (guest, host) in &task.grants.dirs {
            if !guest.starts_with('/') {
                self.error(
                    task.scope,
                    &format!("{path}.dirs"),
                    format!("guest path `{guest}` must be absolute, like `/data`"),
                );
            }
            if !host.is_dir() {
                self.error(
                    task.scope,
                    &format!("{path}.dirs.{guest}"),
                    format!("host directory `{}` (for `{guest}`) does not exist or is not a directory", host.display()),
                );
            }
        }
        for name in &task.grants.host_env {
            if std::env::var_os(name).is_none() {
                self.error(
                    task.scope,
                    &format!("{path}.host_env"),
                    format!("task `{}` passes through host variable `{name}`, which is not set; set it or remove it from `host_env`", task.name),
                );
            }
        }
    }
}

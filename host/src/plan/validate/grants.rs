//! What a task is granted of the host (`docs/semantics.md`, rule 12, the run's inputs): `dirs`
//! with absolute guest paths and host directories that exist, `host_env` variables that are set,
//! `env` and `host_env` names a WASI context accepts (no `=`, no NUL) and values without NUL,
//! `network.allow` entries of the form `host:port`.

use super::Checker;
use crate::model::component::Signature;
use crate::model::policy::{HostPort, limit_problems, valid_env_name};
use crate::plan::TaskIdx;

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks what task `t` is granted of the host: absolute guest paths, host directories that
    /// exist, host variables that are set.
    pub(super) fn grants(&mut self, t: TaskIdx) {
        self.task_limits(t);
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
        for (name, value) in &task.grants.env {
            if !valid_env_name(name) || value.contains('\0') {
                self.error(
                    task.scope,
                    &format!("{path}.env"),
                    format!("`{}` of task `{}` cannot be an environment variable: a name is not empty and has no `=` or NUL, a value has no NUL", name.escape_debug(), task.name),
                );
            }
        }
        for (i, entry) in task.grants.network.iter().enumerate() {
            if let Err(e) = HostPort::parse(entry) {
                self.error(task.scope, &format!("{path}.network.allow[{i}]"), format!("task `{}`: {e}", task.name));
            }
        }
        for name in &task.grants.host_env {
            if !valid_env_name(name) {
                self.error(
                    task.scope,
                    &format!("{path}.host_env"),
                    format!("`{}` in `host_env` of task `{}` is not an environment variable name: a name is not empty and has no `=` or NUL", name.escape_debug(), task.name),
                );
            } else if std::env::var_os(name).is_none() {
                self.error(
                    task.scope,
                    &format!("{path}.host_env"),
                    format!("task `{}` passes through host variable `{name}`, which is not set; set it or remove it from `host_env`", task.name),
                );
            }
        }
    }

    /// Checks the limits task `t` sets for itself: a timeout the host can enforce, a memory limit
    /// a component can run in, some fuel.
    fn task_limits(&mut self, t: TaskIdx) {
        let task = &self.plan.tasks[t];
        let limits = &task.limits;
        for (field, message) in limit_problems(limits.timeout, limits.memory, limits.fuel) {
            self.error(task.scope, &format!("{}.{field}", task.doc_path), format!("task `{}`: {message}", task.name));
        }
    }
}

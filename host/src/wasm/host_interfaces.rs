//! Host interfaces an embedding application gives its components (Extism's host functions, in
//! the component model): WIT interfaces such as `acme:host/kv` that the application
//! implements in Rust (wasmtime's `bindgen!` in its own crate) and adds to the linker here. A
//! task calls only those its pipeline grants it (`host: [acme:host/kv]`); a component that
//! imports one its task is not granted does not load for that task.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::sandbox::HostState;
pub use super::sandbox::RunData;

/// Adds one interface's functions to a linker.
type AddFn = dyn Fn(&mut Linker<HostState>) -> wasmtime::Result<()> + Send + Sync;

/// The host interfaces a runner offers, each with the function that links it.
#[derive(Clone, Default)]
pub struct HostInterfaces {
    interfaces: Vec<(String, Arc<AddFn>)>,
}

impl std::fmt::Debug for HostInterfaces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl HostInterfaces {
    /// No host interfaces.
    pub fn new() -> HostInterfaces {
        HostInterfaces::default()
    }

    /// Offers interface `name` (`namespace:package/interface`, as components import it, without
    /// a version), linked by `add`: typically the `add_to_linker` that wasmtime's `bindgen!`
    /// made, with a getter that reaches the implementation from a task's [`HostState`] (see
    /// [`HostState::run_data`] for the run's own state, such as its tenant).
    pub fn with(
        mut self,
        name: &str,
        add: impl Fn(&mut Linker<HostState>) -> wasmtime::Result<()> + Send + Sync + 'static,
    ) -> HostInterfaces {
        self.interfaces.push((name.to_string(), Arc::new(add)));
        self
    }

    /// The names of the interfaces offered, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.interfaces.iter().map(|(name, _)| name.as_str())
    }

    /// Whether interface `name` is offered.
    pub fn offers(&self, name: &str) -> bool {
        self.names().any(|n| n == name)
    }

    /// Adds every interface to `linker`.
    pub(crate) fn add_to(&self, linker: &mut Linker<HostState>) -> anyhow::Result<()> {
        for (name, add) in &self.interfaces {
            add(linker).map_err(|e| anyhow::anyhow!("cannot link host interface `{name}`: {e:?}"))?;
        }
        Ok(())
    }

    /// Of the interfaces a component imports (`imports`, as the component names them, with
    /// versions), the first that is not WASI's or wasmpipe's own and that `granted` does not
    /// list. Any such import needs a grant, not only those named to [`HostInterfaces::with`]:
    /// an `add` function may link more than its own interface (a world's `add_to_linker`), and
    /// the linker is shared by every task. Without host interfaces there is nothing to check:
    /// an import wasmpipe does not provide fails to link.
    pub(crate) fn ungranted<'a>(&self, imports: &'a [String], granted: &[String]) -> Option<&'a str> {
        if self.interfaces.is_empty() {
            return None;
        }
        imports.iter().map(String::as_str).find(|import| {
            let name = unversioned(import);
            !is_builtin(name) && !granted.iter().any(|g| g == name)
        })
    }
}

/// Whether an import is WASI's or wasmpipe's own (every task may import those).
fn is_builtin(name: &str) -> bool {
    name.starts_with("wasi:") || name.starts_with("wasmpipe:")
}

/// An import's name without its version: `acme:host/kv@0.1.0` → `acme:host/kv`.
pub(crate) fn unversioned(import: &str) -> &str {
    import.split_once('@').map_or(import, |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_is_ungranted_only_when_offered_and_not_granted() {
        let host = HostInterfaces::new().with("acme:host/kv", |_| Ok(())).with("acme:host/log", |_| Ok(()));
        let imports = vec!["wasi:cli/stdout@0.2.0".to_string(), "acme:host/kv@0.1.0".to_string()];
        assert_eq!(host.ungranted(&imports, &[]), Some("acme:host/kv@0.1.0"));
        assert_eq!(host.ungranted(&imports, &["acme:host/kv".into()]), None);
        assert_eq!(host.ungranted(&imports, &["acme:host/log".into()]), Some("acme:host/kv@0.1.0"));
        // An interface an `add` function links besides its own needs a grant too.
        let extra = vec!["acme:host/secrets@0.1.0".to_string()];
        assert_eq!(host.ungranted(&extra, &["acme:host/kv".into()]), Some("acme:host/secrets@0.1.0"));
        assert_eq!(HostInterfaces::new().ungranted(&extra, &[]), None, "nothing offered: linking fails instead");
        assert_eq!(format!("{host:?}"), r#"["acme:host/kv", "acme:host/log"]"#);
    }
}

//! The key-value store each tenant has, and the host interface (`acme:host/kv`, in
//! `wit/kv.wit`) through which its plugins reach it: wasmtime's `bindgen!` makes the trait,
//! and the implementation finds the tenant of the run in the task's store
//! (`TaskState::run_data`, set from `RunOptions::run_data`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use wasmpipe::run::{HostInterfaces, TaskState};

wasmtime::component::bindgen!({
    path: "wit",
    world: "plugin",
    imports: { default: trappable },
});

use acme::host::kv;

/// The interface's name, as a pipeline grants it (`host: [acme:host/kv]`).
pub const KV: &str = "acme:host/kv";

/// The most keys a tenant's store holds, the most bytes of a key or a value, and the most bytes
/// of keys and values in all: a plugin that writes past them fails (its task traps with the
/// message), the store stays as it was.
pub const MAX_KEYS: usize = 10_000;
/// See [`MAX_KEYS`].
pub const MAX_ENTRY_BYTES: usize = 64 << 10;
/// See [`MAX_KEYS`].
pub const MAX_STORE_BYTES: usize = 16 << 20;

/// One tenant's store.
#[derive(Debug, Default)]
pub struct Store {
    entries: Mutex<BTreeMap<String, String>>,
}

impl Store {
    /// Everything in the store, in key order.
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The implementation of `acme:host/kv` for one task: its run's tenant's store.
struct Kv<'a>(&'a Store);

impl kv::Host for Kv<'_> {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.0.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key).cloned())
    }

    fn set(&mut self, key: String, value: String) -> wasmtime::Result<()> {
        if key.len() > MAX_ENTRY_BYTES || value.len() > MAX_ENTRY_BYTES {
            wasmtime::bail!("kv.set: a key or value is over {MAX_ENTRY_BYTES} bytes (key `{:.40}`)", key);
        }
        let mut entries = self.0.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_KEYS && !entries.contains_key(&key) {
            wasmtime::bail!("kv.set: the tenant's store is full ({MAX_KEYS} keys)");
        }
        let old = entries.get(&key).map_or(0, |v| key.len() + v.len());
        let bytes: usize = entries.iter().map(|(k, v)| k.len() + v.len()).sum();
        if bytes - old + key.len() + value.len() > MAX_STORE_BYTES {
            wasmtime::bail!("kv.set: the tenant's store would hold over {MAX_STORE_BYTES} bytes");
        }
        entries.insert(key, value);
        Ok(())
    }
}

struct KvData;

impl wasmtime::component::HasData for KvData {
    type Data<'a> = Kv<'a>;
}

/// The host interfaces the service offers its plugins: the tenant's store. Every run hands its
/// tenant's [`Store`] as its `run_data` (an `Arc<Store>`).
pub fn host_interfaces() -> HostInterfaces {
    HostInterfaces::new().with(KV, |linker| {
        kv::add_to_linker::<_, KvData>(linker, |state: &mut TaskState| {
            Kv(state.run_data::<Store>().expect("every run of the service hands its tenant's store"))
        })
    })
}

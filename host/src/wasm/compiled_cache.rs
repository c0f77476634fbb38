//! The compiled-component cache on disk: compiling a component with Cranelift takes tens of
//! milliseconds, loading its compiled form takes tens of microseconds, so a second run of a
//! pipeline compiles nothing.
//!
//! An entry is keyed by the component's content hash (blake3) and the engine's
//! precompile-compatibility hash, which covers the wasmtime version and every engine setting
//! that affects compiled code; entries of another version or configuration are never loaded.
//! Compiled entries are mapped into memory, not read. Beside each one, the component's
//! signature (what its `describe` returned, checked) is kept for each kind of engine it was
//! described on, so a warm load instantiates nothing; a signature entry names the wasmpipe
//! version that wrote it, and one of another version is described again.
//! Entries are written to a temporary file and renamed into place, so runs that share the cache
//! never see half an entry. A corrupt entry is compiled (or described) again and replaced.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wasmtime::component::Component;
use wasmtime::{Engine, Module};

use super::engine::EngineKind;
use crate::model::component::Signature;

/// Compiled components in the `compiled/` directory of a cache directory.
#[derive(Clone, Debug)]
pub struct CompiledCache {
    dir: PathBuf,
}

/// Where a component came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// Compiled now (and stored in the cache, when there is one).
    Compiled,
    /// Loaded from the cache.
    Cached,
}

impl CompiledCache {
    /// The compiled components of the cache directory `dir`.
    pub(crate) fn new(dir: &Path) -> CompiledCache {
        CompiledCache { dir: dir.to_path_buf() }
    }

    fn compiled_dir(&self) -> PathBuf {
        self.dir.join("compiled")
    }

    /// The entry of the component whose bytes hash to `digest` (blake3, hex) compiled by
    /// `engine`, without extension.
    fn stem(&self, engine: &Engine, digest: &str) -> PathBuf {
        let mut engine_hash = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut engine_hash);
        self.compiled_dir().join(format!("{digest}-{:016x}", engine_hash.finish()))
    }

    /// The compiled entry of `digest` for `engine`.
    fn entry(&self, engine: &Engine, digest: &str) -> PathBuf {
        self.stem(engine, digest).with_extension("cwasm")
    }

    /// The signature entry of `digest` described on an engine of `kind`: the pooling allocator
    /// may refuse what the on-demand one takes, so each kind has its own.
    fn signature_entry(&self, engine: &Engine, digest: &str, kind: EngineKind) -> PathBuf {
        let alloc = if kind.pooling { "pooling" } else { "on-demand" };
        self.stem(engine, digest).with_extension(format!("{alloc}.signature.json"))
    }

    /// Loads the compiled form of `bytes` (a component, or a core module for `T = Module`),
    /// whose blake3 hash is `digest`, for `engine`, or compiles it and stores it. Failing to
    /// write the cache is not an error: the compiled code is still returned.
    pub(crate) fn load_or_compile<T: Compiled>(
        &self,
        engine: &Engine,
        bytes: &[u8],
        digest: &str,
    ) -> wasmtime::Result<(T, Origin)> {
        let entry = self.entry(engine, digest);
        if entry.exists() {
            // SAFETY: the entry was written by `serialize` of an engine with the same
            // compatibility hash (its name says so), through an atomic rename; wasmtime also
            // checks the header and refuses files of another version or configuration. A
            // component's bytes never equal a module's (their headers differ), so a key never
            // names the other kind.
            if let Ok(compiled) = unsafe { T::deserialize_file(engine, &entry) } {
                return Ok((compiled, Origin::Cached));
            }
        }
        let compiled = T::new(engine, bytes)?;
        if let Ok(serialized) = compiled.serialize() {
            let _ = write_atomically(&entry, &serialized);
        }
        Ok((compiled, Origin::Compiled))
    }

    /// The signature stored for the component `digest` described on `engine` of `kind`, if
    /// this version of wasmpipe stored one. For the on-demand allocator, one described in the
    /// pool does too: what the pool takes, the on-demand allocator takes.
    pub(crate) fn signature(&self, engine: &Engine, digest: &str, kind: EngineKind) -> Option<Signature> {
        let read = |kind: EngineKind| -> Option<Signature> {
            let bytes = std::fs::read(self.signature_entry(engine, digest, kind)).ok()?;
            let entry: SignatureEntry = serde_json::from_slice(&bytes).ok()?;
            (entry.wasmpipe == env!("CARGO_PKG_VERSION")).then_some(entry.signature)
        };
        read(kind).or_else(|| if kind.pooling { None } else { read(EngineKind { pooling: true, ..kind }) })
    }

    /// Stores the signature of the component `digest` described on `engine` of `kind`. Failing
    /// to write is not an error: the next load describes the component again.
    pub(crate) fn store_signature(&self, engine: &Engine, digest: &str, kind: EngineKind, signature: &Signature) {
        let entry = SignatureEntry { wasmpipe: env!("CARGO_PKG_VERSION").into(), signature: signature.clone() };
        if let Ok(bytes) = serde_json::to_vec(&entry) {
            let _ = write_atomically(&self.signature_entry(engine, digest, kind), &bytes);
        }
    }

    /// The number of compiled-component entries and their total size in bytes.
    pub(crate) fn usage(&self) -> std::io::Result<(usize, u64)> {
        usage_of(&self.compiled_dir(), "cwasm")
    }

    /// Removes every compiled component; returns how many there were.
    pub(crate) fn clear(&self) -> std::io::Result<usize> {
        let count = self.usage()?.0;
        match std::fs::remove_dir_all(self.compiled_dir()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(count),
        }
    }
}

/// A signature entry: the signature, and the version of wasmpipe that checked it (another
/// version may check differently).
#[derive(Serialize, Deserialize)]
struct SignatureEntry {
    wasmpipe: String,
    signature: Signature,
}

/// Compiled code the cache can hold: a component or a core module.
pub(crate) trait Compiled: Sized {
    /// Compiles `bytes`.
    fn new(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self>;
    /// Loads a serialized compiled form.
    ///
    /// # Safety
    /// `path` must hold what `serialize` wrote for an engine of the same configuration.
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self>;
    /// The serialized compiled form.
    fn serialize(&self) -> wasmtime::Result<Vec<u8>>;
}

impl Compiled for Component {
    fn new(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Component::new(engine, bytes)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: passed on from the caller.
        unsafe { Component::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Component::serialize(self)
    }
}

impl Compiled for Module {
    fn new(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Self> {
        Module::new(engine, bytes)
    }
    unsafe fn deserialize_file(engine: &Engine, path: &Path) -> wasmtime::Result<Self> {
        // SAFETY: passed on from the caller.
        unsafe { Module::deserialize_file(engine, path) }
    }
    fn serialize(&self) -> wasmtime::Result<Vec<u8>> {
        Module::serialize(self)
    }
}

/// The number of files with extension `ext` in `dir`, and their total size.
pub(crate) fn usage_of(dir: &Path, ext: &str) -> std::io::Result<(usize, u64)> {
    let mut count = 0;
    let mut bytes = 0;
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries.flatten() {
                if entry.path().extension().is_some_and(|e| e == ext) {
                    count += 1;
                    bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
                }
            }
            Ok((count, bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0, 0)),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` through a temporary file unique to this process and thread in the
/// same directory, synced, then renamed, so a reader sees the whole file or none.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("entries live in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.{:?}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id(),
        std::thread::current().id()
    ));
    let written = std::fs::File::create(&tmp).and_then(|mut file| {
        std::io::Write::write_all(&mut file, bytes)?;
        // On disk before it gets its name: a crash never leaves a named, half-written entry.
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAT: &str = r#"(component (core module (func (export "f"))))"#;

    #[test]
    fn the_second_load_comes_from_the_cache_and_a_corrupt_entry_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompiledCache::new(dir.path());
        let engine = Engine::default();
        let bytes = WAT.as_bytes();
        let digest = blake3::hash(bytes).to_hex().to_string();
        let load = |engine: &Engine| cache.load_or_compile::<Component>(engine, bytes, &digest).unwrap().1;
        assert_eq!(load(&engine), Origin::Compiled);
        assert_eq!(load(&engine), Origin::Cached);
        assert_eq!(cache.usage().unwrap().0, 1);

        std::fs::write(cache.entry(&engine, &digest), b"not a compiled component").unwrap();
        assert_eq!(load(&engine), Origin::Compiled);
        assert_eq!(load(&engine), Origin::Cached);

        let mut fuel = wasmtime::Config::new();
        fuel.consume_fuel(true);
        let other = Engine::new(&fuel).unwrap();
        assert_eq!(load(&other), Origin::Compiled, "another configuration");
        assert_eq!(cache.clear().unwrap(), 2);
        assert_eq!(cache.usage().unwrap(), (0, 0));
    }

    #[test]
    fn a_signature_is_kept_per_engine_kind_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompiledCache::new(dir.path());
        let engine = Engine::default();
        let pooling = EngineKind { fuel: false, pooling: true };
        let on_demand = EngineKind { fuel: false, pooling: false };
        let signature = Signature {
            name: "add".into(),
            description: "adds one".into(),
            inputs: vec![crate::model::component::InputSpec {
                name: "a".into(),
                ty: crate::model::component::PortType::Value(crate::model::value::ValueType::Int),
                required: false,
                default: Some(serde_json::json!(18446744073709551615u64)),
                description: String::new(),
            }],
            outputs: vec![],
        };
        assert_eq!(cache.signature(&engine, "d1", pooling), None);
        cache.store_signature(&engine, "d1", pooling, &signature);
        assert_eq!(cache.signature(&engine, "d1", pooling), Some(signature.clone()));
        assert_eq!(cache.signature(&engine, "d1", on_demand), Some(signature.clone()), "what the pool takes");
        cache.store_signature(&engine, "d3", on_demand, &signature);
        assert_eq!(cache.signature(&engine, "d3", pooling), None, "the pool may refuse what on-demand takes");
        assert_eq!(cache.signature(&engine, "d2", pooling), None, "another component");

        let entry = cache.signature_entry(&engine, "d1", pooling);
        let text = std::fs::read_to_string(&entry).unwrap();
        std::fs::write(&entry, text.replace(env!("CARGO_PKG_VERSION"), "0.0.0-other")).unwrap();
        assert_eq!(cache.signature(&engine, "d1", pooling), None, "written by another version");
        std::fs::write(&entry, b"{ not json").unwrap();
        assert_eq!(cache.signature(&engine, "d1", pooling), None, "corrupt");
    }
}

//! The compiled-component cache on disk: compiling a component with Cranelift takes tens of
//! milliseconds, loading its compiled form takes tens of microseconds, so a second run of a
//! pipeline compiles nothing.
//!
//! An entry is keyed by the component's content hash (blake3) and the engine's
//! precompile-compatibility hash, which covers the wasmtime version and every engine setting
//! that affects compiled code; entries of another version or configuration are never loaded.
//! Entries are written to a temporary file and renamed into place, so runs that share the cache
//! never see half an entry. A corrupt entry is compiled again and replaced.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;

use wasmtime::{Engine, Module};

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

    /// The entry file of `bytes` compiled by `engine`.
    fn entry(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let mut engine_hash = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut engine_hash);
        let name = format!("{}-{:016x}.cwasm", blake3::hash(bytes).to_hex(), engine_hash.finish());
        self.compiled_dir().join(name)
    }

    /// Loads the compiled form of `bytes` (a component, or a core module for `T = Module`)
    /// for `engine`, or compiles it and stores it. Failing to write the cache is not an error:
    /// the compiled code is still returned.
    pub(crate) fn load_or_compile<T: Compiled>(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<(T, Origin)> {
        let entry = self.entry(engine, bytes);
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
        assert_eq!(cache.load_or_compile::<Component>(&engine, bytes).unwrap().1, Origin::Compiled);
        assert_eq!(cache.load_or_compile::<Component>(&engine, bytes).unwrap().1, Origin::Cached);
        assert_eq!(cache.usage().unwrap().0, 1);

        std::fs::write(cache.entry(&engine, bytes), b"not a compiled component").unwrap();
        assert_eq!(cache.load_or_compile::<Component>(&engine, bytes).unwrap().1, Origin::Compiled);
        assert_eq!(cache.load_or_compile::<Component>(&engine, bytes).unwrap().1, Origin::Cached);

        let mut fuel = wasmtime::Config::new();
        fuel.consume_fuel(true);
        let other = Engine::new(&fuel).unwrap();
        assert_eq!(
            cache.load_or_compile::<Component>(&other, bytes).unwrap().1,
            Origin::Compiled,
            "another configuration"
        );
        assert_eq!(cache.clear().unwrap(), 2);
        assert_eq!(cache.usage().unwrap(), (0, 0));
    }
}

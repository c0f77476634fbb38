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

use crate::artifact::{self, ArtifactRef};
use wasmtime::{Engine, Module};

/// The environment variable that sets the cache directory (`off` disables the cache).
pub const CACHE_DIR_ENV: &str = "WASMPIPE_CACHE_DIR";

/// Compiled components on disk.
#[derive(Clone, Debug)]
pub struct CompileCache {
    dir: PathBuf,
}

/// Where a component came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Compiled now (and stored in the cache, when there is one).
    Compiled,
    /// Loaded from the cache.
    Cached,
}

impl CompileCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> CompileCache {
        CompileCache { dir: dir.into() }
    }

    /// The cache the CLI uses: `$WASMPIPE_CACHE_DIR` (`off` for none), else
    /// `$XDG_CACHE_HOME/wasmpipe`, else `~/.cache/wasmpipe`.
    pub fn from_env() -> Option<CompileCache> {
        match std::env::var_os(CACHE_DIR_ENV) {
            Some(dir) if dir == "off" => None,
            Some(dir) => Some(CompileCache::new(dir)),
            None => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
                Some(CompileCache::new(base.join("wasmpipe")))
            }
        }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
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
    pub fn load_or_compile<T: Compiled>(&self, engine: &Engine, bytes: &[u8]) -> wasmtime::Result<(T, Origin)> {
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

    fn outputs_dir(&self) -> PathBuf {
        self.dir.join("outputs")
    }

    /// The outputs stored under `key` by an earlier successful execution of task `task_id`'s
    /// component, with its output artifacts (the outputs named in `artifacts`, as its signature
    /// says) copied back into the run directory `run_root`, as if the task had run. None when
    /// there is no entry or an artifact's content is gone.
    pub fn outputs(
        &self,
        key: &str,
        run_root: &Path,
        task_id: &str,
        artifacts: &[String],
    ) -> Option<indexmap::IndexMap<String, serde_json::Value>> {
        let bytes = std::fs::read(self.outputs_dir().join(format!("{key}.json"))).ok()?;
        let mut outputs: indexmap::IndexMap<String, serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
        for (name, value) in outputs.iter_mut().filter(|(name, _)| artifacts.contains(name)) {
            let mut artifact = ArtifactRef::from_value(value).ok()?;
            artifact.path = artifact::published(task_id, name);
            let target = run_root.join(&artifact.path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).ok()?;
            }
            artifact::copy(&self.blob(&artifact.digest)?, &target).ok()?;
            *value = artifact.to_value();
        }
        Some(outputs)
    }

    /// Stores the outputs of a successful execution under `key`, and the contents of its output
    /// artifacts (the outputs named in `artifacts`, published in `run_root`) by digest. Atomic;
    /// errors are ignored: a missing entry only costs a rerun.
    pub fn store_outputs(
        &self,
        key: &str,
        outputs: &indexmap::IndexMap<String, serde_json::Value>,
        run_root: &Path,
        artifacts: &[String],
    ) {
        for (_, value) in outputs.iter().filter(|(name, _)| artifacts.contains(name)) {
            let Ok(artifact) = ArtifactRef::from_value(value) else { return };
            let Some(blob) = self.blob(&artifact.digest) else { return };
            if blob.exists() {
                continue;
            }
            let tmp = blob.with_extension(format!("{}.tmp", std::process::id()));
            let copied = std::fs::create_dir_all(self.blobs_dir())
                .and_then(|()| artifact::copy(&run_root.join(&artifact.path), &tmp))
                .and_then(|()| std::fs::rename(&tmp, &blob));
            if copied.is_err() {
                let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
                return;
            }
        }
        if let Ok(bytes) = serde_json::to_vec(outputs) {
            let _ = write_atomically(&self.outputs_dir().join(format!("{key}.json")), &bytes);
        }
    }

    fn blobs_dir(&self) -> PathBuf {
        self.dir.join("artifacts")
    }

    /// Where the content of artifacts with `digest` (`blake3:` and 64 hex digits) is kept.
    fn blob(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("blake3:")?;
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| self.blobs_dir().join(hex))
    }

    /// The number of compiled-component entries and their total size in bytes.
    pub fn usage(&self) -> std::io::Result<(usize, u64)> {
        usage_of(&self.compiled_dir(), "cwasm")
    }

    /// The number of cached task outputs and their total size in bytes.
    pub fn outputs_usage(&self) -> std::io::Result<(usize, u64)> {
        usage_of(&self.outputs_dir(), "json")
    }

    /// The number of cached artifact contents (of cached task outputs) and their total size in
    /// bytes (a directory counts its files).
    pub fn artifacts_usage(&self) -> std::io::Result<(usize, u64)> {
        let mut count = 0;
        let mut bytes = 0;
        match std::fs::read_dir(self.blobs_dir()) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    if let Ok((size, _)) = artifact::measure(&entry.path()) {
                        count += 1;
                        bytes += size;
                    }
                }
                Ok((count, bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((0, 0)),
            Err(e) => Err(e),
        }
    }

    /// Removes every entry: compiled components, task outputs and their artifacts; returns how
    /// many there were.
    pub fn clear(&self) -> std::io::Result<usize> {
        let count = self.usage()?.0 + self.outputs_usage()?.0 + self.artifacts_usage()?.0;
        for dir in [self.compiled_dir(), self.outputs_dir(), self.blobs_dir()] {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(count)
    }
}

/// Compiled code the cache can hold: a component or a core module.
pub trait Compiled: Sized {
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
fn usage_of(dir: &Path, ext: &str) -> std::io::Result<(usize, u64)> {
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

/// Writes `bytes` to `path` through a uniquely named temporary file in the same directory and
/// a rename, so a reader sees the whole file or none.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("entries live in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.{:?}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&tmp, bytes)?;
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
        let cache = CompileCache::new(dir.path());
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

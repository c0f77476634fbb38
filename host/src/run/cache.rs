//! The cache directory ([`Cache`]): compiled components (`compiled/`, see
//! `wasm::compiled_cache`), and the outputs of cached tasks (`outputs/<key>.json`) with the
//! contents of their output artifacts by digest (`artifacts/<hex>`). Caching a task is opt-in;
//! its key covers the component's digest, its resolved inputs and its grants. Entries are
//! written atomically; a missing or damaged entry only costs a rerun.

use std::path::{Path, PathBuf};

use crate::model::artifact::{self, ArtifactRef};
use crate::wasm::compiled_cache::{CompiledCache, usage_of, write_atomically};

/// The environment variable that sets the cache directory (`off` disables the cache).
pub const CACHE_DIR_ENV: &str = "WASMPIPE_CACHE_DIR";

/// A cache directory: compiled components and cached task outputs.
///
/// ```
/// use wasmpipe::run::{Cache, Runner};
///
/// let dir = std::env::temp_dir().join("wasmpipe-doc-cache");
/// let runner = Runner::with_cache(Some(Cache::new(&dir)))?;
/// assert_eq!(Cache::new(&dir).usage()?.0, 0);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    /// The cache the CLI uses: `$WASMPIPE_CACHE_DIR` (`off` for none), else
    /// `$XDG_CACHE_HOME/wasmpipe`, else `~/.cache/wasmpipe`.
    pub fn from_env() -> Option<Cache> {
        match std::env::var_os(CACHE_DIR_ENV) {
            Some(dir) if dir == "off" => None,
            Some(dir) => Some(Cache::new(dir)),
            None => {
                let base = std::env::var_os("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
                Some(Cache::new(base.join("wasmpipe")))
            }
        }
    }

    /// The cache's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its compiled components.
    pub(crate) fn compiled(&self) -> CompiledCache {
        CompiledCache::new(&self.dir)
    }

    /// The number of compiled-component entries and their total size in bytes.
    pub fn usage(&self) -> std::io::Result<(usize, u64)> {
        self.compiled().usage()
    }

    fn outputs_dir(&self) -> PathBuf {
        self.dir.join("outputs")
    }

    /// The outputs stored under `key` by an earlier successful execution of task `task_id`'s
    /// component, with its output artifacts (the outputs named in `artifacts`, as its signature
    /// says) copied back into the run directory `run_root`, as if the task had run. None when
    /// there is no entry, or an artifact's content is gone or no longer has its recorded digest
    /// (a damaged or altered cache is a miss, never a wrong result).
    pub(crate) fn outputs(
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
            let blob = self.blob(&artifact.digest)?;
            artifact::copy(&blob, &target).ok()?;
            if artifact::measure(&target).ok()?.1 != artifact.digest {
                // Damaged or altered: gone, so that this run's result takes its place.
                let _ = artifact::remove(&target);
                let _ = artifact::remove(&blob);
                return None;
            }
            *value = artifact.to_value();
        }
        Some(outputs)
    }

    /// Stores the outputs of a successful execution under `key`, and the contents of its output
    /// artifacts (the outputs named in `artifacts`, published in `run_root`) by digest. Atomic;
    /// errors are ignored: a missing entry only costs a rerun.
    pub(crate) fn store_outputs(
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
            // Unique per writer: runs in other processes, and in other threads of this one.
            static WRITER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let tmp = blob.with_extension(format!("{}.{n}.tmp", std::process::id()));
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
        let count = self.compiled().clear()? + self.outputs_usage()?.0 + self.artifacts_usage()?.0;
        for dir in [self.outputs_dir(), self.blobs_dir()] {
            match std::fs::remove_dir_all(dir) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(count)
    }
}

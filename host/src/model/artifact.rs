//! Artifacts: files and directories that tasks pass to each other (datasets, models, metrics).
//!
//! Everything lives in the run's directory (`RUN_DIR/<run_id>/`):
//!
//! ```text
//! artifacts/<task>/<output>    published outputs of tasks that succeeded
//! staging/<task>/<attempt>/    one attempt's sandbox: in/ (its input files, read-only) and
//!                              out/ (where it writes its outputs); removed when the attempt ends
//!
//! where `<task>` is the task id with `/` turned into `.` (`fan.3.train`), one directory per
//! task instance.
//! ```
//!
//! A task sees its input artifacts at `/in/<input>` (read-only) and writes output `N` at `/out/N`,
//! both WASI preopens, and nothing else of the host. Outputs move from `out/` to `artifacts/` (a
//! rename) only when the attempt succeeds, so a failed attempt never passes on a partial file
//! (`docs/semantics.md`, rule 6). Artifacts given to the run (`-a NAME=PATH`, or an artifact
//! parameter's default: KFP's importer) stay where they are; an [`ArtifactRef`] then holds their
//! absolute path, and tasks see them read-only like any other input. Outputs must be plain files
//! and directories: a symlink or any other kind of file fails the task, so nothing a guest writes
//! can point out of its sandbox.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The guest directory holding a task's input artifacts.
pub(crate) const GUEST_IN: &str = "/in";
/// The guest directory where a task writes its output artifacts.
pub(crate) const GUEST_OUT: &str = "/out";

/// An artifact as run records, task outputs and parameters hold it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactRef {
    /// Its kind label ("Dataset", "Model", "Metrics", "Artifact", ...).
    pub kind: String,
    /// True for a directory, false for a file.
    pub directory: bool,
    /// Its name: the output (or parameter) that made it.
    pub name: String,
    /// Where it is: relative to the run's directory (`artifacts/train/model`), or an absolute
    /// host path for an artifact given to the run.
    pub path: String,
    /// Its size in bytes (a directory: the sum of its files).
    pub size: u64,
    /// Its content hash, `blake3:<hex>`.
    pub digest: String,
    /// Free metadata set by the component that wrote it.
    #[serde(default)]
    pub metadata: Value,
}

impl ArtifactRef {
    /// Reads an artifact from its JSON form, or says why the value is not one.
    pub fn from_value(value: &Value) -> Result<ArtifactRef, String> {
        serde_json::from_value(value.clone())
            .map_err(|e| format!("expected an artifact, got `{}` ({e})", super::diag::short(value)))
    }

    /// Its JSON form.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("an artifact serialises")
    }

    /// What identifies its content, for cache keys: everything but where it is.
    pub fn content_key(&self) -> Value {
        serde_json::json!([self.kind, self.directory, self.digest, self.metadata])
    }
}

/// Whether `name` is a valid name of a task, group, port or pipeline output: letters, digits,
/// `-` and `_` only (never `..`, `/` or an absolute path), so that a port's name can name a file
/// in a sandbox and a task id a directory.
pub(crate) fn plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A task id as one directory name: `fan/3/train` becomes `fan.3.train`. Task and group names
/// never hold `.`, so two ids never share a directory (`g` + output `x` and task `g/x` differ).
pub(crate) fn flat(task_id: &str) -> String {
    task_id.replace('/', ".")
}

/// Whether an output of kind `from` may feed an input of kind `to`: the same kind, or either
/// of them the generic kind `Artifact` (as KFP's type check has it), and a file for a file, a
/// directory for a directory.
pub(crate) fn kinds_match(from: (&str, bool), to: (&str, bool)) -> bool {
    from.1 == to.1 && (from.0 == to.0 || to.0 == "Artifact" || from.0 == "Artifact")
}

/// The size and content digest of the file or directory at `path`, refusing symlinks and
/// anything that is not a plain file or directory (the error names the offending path).
pub(crate) fn measure(path: &Path) -> Result<(u64, String), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut hasher = blake3::Hasher::new();
    let size =
        if meta.is_dir() { hash_dir(path, Path::new(""), &mut hasher)? } else { hash_file(path, &meta, &mut hasher)? };
    Ok((size, format!("blake3:{}", hasher.finalize().to_hex())))
}

fn hash_file(path: &Path, meta: &fs::Metadata, hasher: &mut blake3::Hasher) -> Result<u64, String> {
    if meta.file_type().is_symlink() {
        return Err(format!("`{}` is a symlink; artifacts may hold only plain files and directories", path.display()));
    }
    if !meta.is_file() {
        return Err(format!("`{}` is not a plain file or directory", path.display()));
    }
    let mut file = fs::File::open(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let mut buf = vec![0; 64 << 10];
    let mut size = 0;
    loop {
        let n = file.read(&mut buf).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if n == 0 {
            return Ok(size);
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
}

/// Hashes a directory as its sorted entries: relative path, then content.
fn hash_dir(root: &Path, rel: &Path, hasher: &mut blake3::Hasher) -> Result<u64, String> {
    let dir = root.join(rel);
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read `{}`: {e}", dir.display()))?;
    entries.sort();
    let mut size = 0;
    for name in entries {
        let rel = rel.join(&name);
        let path = root.join(&rel);
        let meta = fs::symlink_metadata(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        hasher.update(rel.to_string_lossy().as_bytes());
        hasher.update(&[if meta.is_dir() { 1 } else { 0 }]);
        size += if meta.is_dir() { hash_dir(root, &rel, hasher)? } else { hash_file(&path, &meta, hasher)? };
    }
    Ok(size)
}

/// Copies a file or a directory tree (plain files and directories only).
pub(crate) fn copy(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.is_file() {
        fs::copy(from, to).map(|_| ())
    } else {
        Err(io::Error::other(format!("`{}` is not a plain file or directory", from.display())))
    }
}

/// Host file or directory `host` (an absolute path) as artifact `name` of a run, referenced
/// where it is (tasks get it read-only). `kind` and `directory` are what the pipeline declares
/// (`directory` None: whatever `host` is).
pub(crate) fn reference(name: &str, host: &Path, kind: &str, directory: Option<bool>) -> Result<ArtifactRef, String> {
    let meta = fs::metadata(host).map_err(|e| format!("artifact `{name}`: cannot read `{}`: {e}", host.display()))?;
    if let Some(want) = directory
        && want != meta.is_dir()
    {
        let (want, got) = if want { ("a directory", "a file") } else { ("a file", "a directory") };
        return Err(format!("artifact `{name}` must be {want}, but `{}` is {got}", host.display()));
    }
    let (size, digest) = measure(host).map_err(|e| format!("artifact `{name}`: {e}"))?;
    Ok(ArtifactRef {
        kind: kind.to_string(),
        directory: meta.is_dir(),
        name: name.to_string(),
        path: host.display().to_string(),
        size,
        digest,
        metadata: Value::Object(Default::default()),
    })
}

/// Where output `name` of task `task_id` is published, relative to the run's directory.
pub(crate) fn published(task_id: &str, name: &str) -> String {
    format!("artifacts/{}/{name}", flat(task_id))
}

/// Removes a file or a directory tree.
pub(crate) fn remove(path: &Path) -> io::Result<()> {
    if fs::symlink_metadata(path)?.is_dir() { fs::remove_dir_all(path) } else { fs::remove_file(path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_digest_covers_names_and_contents() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("a.txt"), "hello").unwrap();
        fs::write(dir.join("sub/b.txt"), "world").unwrap();
        let (size, first) = measure(&dir).unwrap();
        assert_eq!(size, 10);
        fs::rename(dir.join("a.txt"), dir.join("c.txt")).unwrap();
        let (_, renamed) = measure(&dir).unwrap();
        assert_ne!(first, renamed);
        assert!(first.starts_with("blake3:"));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc/passwd", tmp.path().join("link")).unwrap();
        let error = measure(tmp.path()).unwrap_err();
        assert!(error.contains("symlink"), "{error}");
    }

    #[test]
    fn kinds_match_by_label_and_shape() {
        assert!(kinds_match(("Dataset", false), ("Dataset", false)));
        assert!(kinds_match(("Model", false), ("Artifact", false)));
        assert!(kinds_match(("Artifact", false), ("Model", false)));
        assert!(!kinds_match(("Model", false), ("Dataset", false)));
        assert!(!kinds_match(("Dataset", true), ("Dataset", false)));
    }
}

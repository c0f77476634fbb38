//! A run's own copies of what it reads: its pipeline files and components, so that `wasmpipe
//! resume` runs what the run started with, whatever happens to the originals since.
//!
//! Each file is stored once per distinct content in `RUN_DIR/.objects/<blake3>` (a private
//! copy, written once and never changed), and each run mirrors the absolute paths it read under
//! `RUN_DIR/<run-id>/inputs/` as hard links to those objects. Mirroring whole paths keeps the
//! files' relative references (a component `components/x.wasm` beside the pipeline, a
//! sub-pipeline `../sub.yaml`) resolving among the copies. A run's fixed cost is a hash and a
//! link per file; a file is copied only the first time its content is seen. `wasmpipe runs
//! prune` and `rm` remove objects no run links any more.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

/// The objects' directory in a run directory.
pub const OBJECTS: &str = ".objects";

/// The directory in a run's directory that mirrors the files it read.
pub const INPUTS: &str = "inputs";

/// Keeps copies of `files` for the run in `dir` (under `run_dir`); returns each file's
/// absolute path and digest. A file that cannot be read or kept is left out (the run goes on;
/// a resume then reads the original).
pub(crate) fn keep(run_dir: &Path, dir: &Path, files: &[PathBuf]) -> IndexMap<String, String> {
    let mut kept = IndexMap::new();
    for file in files {
        let Ok(path) = std::path::absolute(file) else { continue };
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let digest = blake3::hash(&bytes).to_hex().to_string();
        let object = run_dir.join(OBJECTS).join(&digest);
        let stored = object.is_file() || store(&object, &bytes).is_ok();
        let mirror = mirror_of(dir, &path);
        let linked = stored
            && mirror.parent().is_some_and(|p| std::fs::create_dir_all(p).is_ok())
            && (std::fs::hard_link(&object, &mirror).is_ok() || std::fs::write(&mirror, &bytes).is_ok());
        if linked {
            kept.insert(path.display().to_string(), digest);
        }
    }
    kept
}

/// Writes an object: a temporary file, then a rename, so that an object is whole or absent.
fn store(object: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(object.parent().expect("objects have a directory"))?;
    let tmp = object.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, object)
}

/// Where the run in `dir` keeps its copy of the file at absolute path `path`.
pub fn mirror_of(dir: &Path, path: &Path) -> PathBuf {
    let relative: PathBuf = path.components().filter(|c| matches!(c, std::path::Component::Normal(_))).collect();
    dir.join(INPUTS).join(relative)
}

/// Removes the objects of `run_dir` that no run links any more (a link count of one).
pub fn collect_garbage(run_dir: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(run_dir.join(OBJECTS)) else { return };
    for entry in entries.filter_map(Result::ok) {
        if entry.metadata().is_ok_and(|m| m.is_file() && m.nlink() <= 1) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

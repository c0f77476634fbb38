//! A run's own copies of what it reads: its pipeline files and components, so that `wasmpipe
//! resume` runs what the run started with, whatever happens to the originals since.
//!
//! Each file is stored once per distinct content in `RUN_DIR/.objects/<blake3>` (a private
//! copy, written once and never changed), and each run mirrors the paths it read, from the
//! deepest directory that holds them all, under `RUN_DIR/<run-id>/inputs/` as hard links to
//! those objects. Mirroring the paths keeps the files' relative references (a component
//! `components/x.wasm` beside the pipeline, a sub-pipeline `../sub.yaml`) resolving among the
//! copies. A run's fixed cost is a hash and a
//! link per file; a file is copied only the first time its content is seen. `wasmpipe runs
//! prune` and `rm` remove objects no run links any more.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

/// The objects' directory in a run directory.
pub const OBJECTS: &str = ".objects";

/// The directory in a run's directory that mirrors the files it read.
pub const INPUTS: &str = "inputs";

/// Keeps copies of `files` for the run in `dir` (under `run_dir`), each with its digest when
/// it is known already (a component's, from loading it); returns each file's absolute path and
/// digest. A file is read only when its digest is unknown or its content not stored yet. A file
/// that cannot be read or kept is left out (the run goes on; a resume then reads the original).
pub(crate) fn keep(run_dir: &Path, dir: &Path, files: &[(PathBuf, Option<String>)]) -> Kept {
    let absolute: Vec<(PathBuf, &Option<String>)> =
        files.iter().filter_map(|(f, known)| std::path::absolute(f).ok().map(|p| (normalized(&p), known))).collect();
    let root = common_root(absolute.iter().map(|(p, _)| p.as_path()));
    let mut kept = Kept { root: root.display().to_string(), files: IndexMap::new() };
    for (path, known) in absolute {
        let digest = match known {
            Some(digest) => digest.clone(),
            None => match std::fs::read(&path) {
                Ok(bytes) => blake3::hash(&bytes).to_hex().to_string(),
                Err(_) => continue,
            },
        };
        let object = run_dir.join(OBJECTS).join(&digest);
        let stored = object.is_file() || store(&object, &path, &digest).is_ok();
        let mirror = mirror_of(dir, &root, &path);
        // Never written onto a path that exists: it may be a link to another object.
        let linked = stored
            && !mirror.exists()
            && mirror.parent().is_some_and(|p| std::fs::create_dir_all(p).is_ok())
            && (std::fs::hard_link(&object, &mirror).is_ok() || std::fs::copy(&object, &mirror).is_ok());
        if !linked {
            // Some file is not kept: a resume reads the originals, all of them.
            return Kept::default();
        }
        kept.files.insert(path.display().to_string(), digest);
    }
    kept
}

/// `path` without `.` and `..` parts (`/p/pipelines/../components` is `/p/components`),
/// lexically: how the pipeline's relative paths resolve.
pub fn normalized(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// What a run kept: the directory its copies mirror, and each file with its digest.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    pub(crate) root: String,
    pub(crate) files: IndexMap<String, String>,
}

/// The deepest directory that holds every one of `paths` (absolute).
fn common_root<'a>(paths: impl Iterator<Item = &'a Path>) -> PathBuf {
    let mut root: Option<PathBuf> = None;
    for path in paths {
        let dir = path.parent().unwrap_or(Path::new("/"));
        root = Some(match root {
            None => dir.to_path_buf(),
            Some(r) => r.ancestors().find(|a| dir.starts_with(a)).unwrap_or(Path::new("/")).to_path_buf(),
        });
    }
    root.unwrap_or_else(|| PathBuf::from("/"))
}

/// Stores the content of `path` as the object `object`, when it still has `digest` (it may
/// have changed since it was loaded): a temporary file, then a rename, so that an object is
/// whole or absent.
fn store(object: &Path, path: &Path, digest: &str) -> std::io::Result<()> {
    let bytes = std::fs::read(path)?;
    if blake3::hash(&bytes).to_hex().as_str() != digest {
        return Err(std::io::Error::other("changed since it was read"));
    }
    std::fs::create_dir_all(object.parent().expect("objects have a directory"))?;
    let tmp = object.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, object)
}

/// Where the run in `dir`, whose copies mirror directory `root`, keeps its copy of the file at
/// absolute path `path`.
pub fn mirror_of(dir: &Path, root: &Path, path: &Path) -> PathBuf {
    let inside = path.strip_prefix(root).unwrap_or(path);
    let relative: PathBuf = inside.components().filter(|c| matches!(c, std::path::Component::Normal(_))).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Ensures that `..` in a component's path (`pipelines/../components/x.wasm`) keeps the copy
    /// where the kept pipeline's relative path leads: mirrors resolve as the originals do.
    #[test]
    fn parent_parts_mirror_where_they_lead() {
        let pipeline = normalized(Path::new("/p/pipelines/train.yaml"));
        let component = normalized(Path::new("/p/pipelines/./../components/x.wasm"));
        assert_eq!(component, Path::new("/p/components/x.wasm"));
        let root = common_root([pipeline.as_path(), component.as_path()].into_iter());
        assert_eq!(root, Path::new("/p"));
        let dir = Path::new("/runs/r");
        assert_eq!(mirror_of(dir, &root, &pipeline), Path::new("/runs/r/inputs/pipelines/train.yaml"));
        assert_eq!(mirror_of(dir, &root, &component), Path::new("/runs/r/inputs/components/x.wasm"));
        // What the kept pipeline's `../components/x.wasm` names, from its own directory.
        let named = normalized(&Path::new("/runs/r/inputs/pipelines").join("../components/x.wasm"));
        assert_eq!(named, mirror_of(dir, &root, &component));
    }
}

//! One attempt's artifact directories: its inputs laid out under `in/` (read-only), `out/` for
//! its outputs, both WASI preopens; publishing moves what a successful attempt wrote to the
//! run's `artifacts/`, all or nothing, so a failed attempt never passes on a partial file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::artifact::{ArtifactRef, GUEST_IN, GUEST_OUT, flat, plain_name, published, remove};

/// A directory the guest sees: host path, guest path, and whether it may write there.
#[derive(Clone, Debug)]
pub(crate) struct Preopen {
    /// The host directory.
    pub(crate) host: PathBuf,
    /// Where the guest sees it.
    pub(crate) guest: String,
    /// Whether the guest may create and change files in it.
    pub(crate) writable: bool,
}

/// One attempt's artifact directories: its inputs laid out under `in/`, and `out/` for its
/// outputs. Removed when dropped, after [`AttemptDirs::publish`] has moved what succeeded.
#[derive(Debug)]
pub struct AttemptDirs {
    run_root: PathBuf,
    base: PathBuf,
    task_id: String,
    preopens: Vec<Preopen>,
}

/// An output artifact a task declares: its name and whether it is a directory.
#[derive(Clone, Debug)]
pub(crate) struct OutputSlot {
    /// The output's name.
    pub(crate) name: String,
    /// True for a directory.
    pub(crate) directory: bool,
}

impl AttemptDirs {
    /// Lays out attempt `attempt` of task `task_id`: each input file hard-linked (or copied)
    /// into `in/`, each input directory preopened where it is, `out/` with a directory for
    /// each directory output.
    pub(crate) fn prepare(
        run_root: &Path,
        task_id: &str,
        attempt: u32,
        inputs: &[(String, ArtifactRef)],
        outputs: &[OutputSlot],
    ) -> io::Result<AttemptDirs> {
        // An input's artifacts collected over a loop are at `<input>/<i>` (`<input>/<i>/<j>`).
        let inputs_ok = |n: &&str| n.split('/').all(plain_name);
        let bad = inputs.iter().map(|(n, _)| n.as_str()).find(|n| !inputs_ok(n));
        let bad = bad.or_else(|| outputs.iter().map(|o| o.name.as_str()).find(|n| !plain_name(n)));
        if let Some(bad) = bad {
            return Err(io::Error::other(format!("`{bad}` cannot name a file in the sandbox")));
        }
        let base = run_root.join("staging").join(flat(task_id)).join(attempt.to_string());
        if base.exists() {
            fs::remove_dir_all(&base)?;
        }
        let (dir_in, dir_out) = (base.join("in"), base.join("out"));
        fs::create_dir_all(&dir_in)?;
        fs::create_dir_all(&dir_out)?;
        let mut preopens = vec![
            Preopen { host: dir_in.clone(), guest: GUEST_IN.into(), writable: false },
            Preopen { host: dir_out.clone(), guest: GUEST_OUT.into(), writable: true },
        ];
        for (input, artifact) in inputs {
            let source = run_root.join(&artifact.path);
            let target = dir_in.join(input);
            let context = |e: io::Error| io::Error::other(format!("input `{input}` ({}): {e}", source.display()));
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(context)?;
            }
            if artifact.directory {
                // Nested preopens resolve by the longest prefix, so `/in/<input>` is this one.
                fs::create_dir_all(&target).map_err(context)?;
                preopens.push(Preopen { host: source, guest: format!("{GUEST_IN}/{input}"), writable: false });
            } else if fs::hard_link(&source, &target).is_err() {
                fs::copy(&source, &target).map_err(context)?;
            }
        }
        for output in outputs.iter().filter(|o| o.directory) {
            fs::create_dir_all(dir_out.join(&output.name))?;
        }
        Ok(AttemptDirs { run_root: run_root.to_path_buf(), base, task_id: task_id.to_string(), preopens })
    }

    /// The directories to preopen for the guest.
    /// When the disk that holds these directories is full (less than 64 KiB free), the words
    /// that say so, for the failure of an attempt that wrote there: the guest itself only sees
    /// an I/O error (WASI loses `ENOSPC` on the way), so the host adds the cause.
    pub(crate) fn full_disk_note(&self) -> Option<String> {
        #[cfg(unix)]
        {
            let stat = rustix::fs::statvfs(&self.base).ok()?;
            let free = stat.f_bavail.saturating_mul(stat.f_frsize);
            (free < 64 << 10).then(|| {
                format!(
                    "the disk that holds the run directory ({}) is full: No space left on device; free some space, or give another --run-dir",
                    self.run_root.display()
                )
            })
        }
        #[cfg(not(unix))]
        None
    }

    pub(crate) fn preopens(&self) -> &[Preopen] {
        &self.preopens
    }

    /// Where output `name` is on the host while the attempt runs.
    pub(crate) fn staged(&self, name: &str) -> PathBuf {
        self.base.join("out").join(name)
    }

    /// Where output `name` is published, relative to the run's directory.
    pub(crate) fn published(&self, name: &str) -> String {
        published(&self.task_id, name)
    }

    /// Moves the outputs `names` to where they are published: all of them, or (when one cannot
    /// move) none, so that a task that fails to publish leaves no artifact behind. With `sync`,
    /// each published file and directory (and the directory it is published in) is synced to
    /// disk before this returns.
    pub(crate) fn publish<'a>(&self, names: impl IntoIterator<Item = &'a str>, sync: bool) -> io::Result<()> {
        let mut moved: Vec<PathBuf> = Vec::new();
        for name in names {
            let target = self.run_root.join(self.published(name));
            let step = (|| {
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent)?;
                }
                if fs::symlink_metadata(&target).is_ok() {
                    remove(&target)?;
                }
                fs::rename(self.staged(name), &target)
            })();
            if let Err(e) = step {
                for done in moved {
                    let _ = remove(&done);
                }
                return Err(io::Error::other(format!("output `{name}` ({}): {e}", target.display())));
            }
            moved.push(target);
        }
        if sync {
            for target in &moved {
                sync_tree(target)?;
                if let Some(parent) = target.parent() {
                    fs::File::open(parent)?.sync_all()?;
                }
            }
        }
        Ok(())
    }
}

/// Syncs `path` to disk: a file, or a directory with everything in it (symlinks not followed).
fn sync_tree(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            sync_tree(&entry?.path())?;
        }
    } else if !meta.is_file() {
        return Ok(());
    }
    fs::File::open(path)?.sync_all()
}

impl Drop for AttemptDirs {
    /// Removes the attempt's directory, and its parents up to `staging/` once they are empty.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
        let staging = self.run_root.join("staging");
        let mut dir = self.base.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(&staging)) {
            if fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

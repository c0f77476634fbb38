//! Artifacts at the end of a run: `--export` copies the pipeline's output artifacts out of the
//! run directory.

use std::fs;
use std::io;
use std::path::Path;

use crate::model::artifact::{ArtifactRef, copy, remove};

/// Copies artifact `artifact` of the run in `run_root` to `to` (the `--export` directory's
/// entry), replacing what is there.
pub(crate) fn export(run_root: &Path, artifact: &ArtifactRef, to: &Path) -> io::Result<()> {
    if fs::symlink_metadata(to).is_ok() {
        remove(to)?;
    }
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    copy(&run_root.join(&artifact.path), to)
}

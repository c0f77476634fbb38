//! Reading the files a pipeline names (the pipeline file, sub-pipelines, components): only
//! regular files, and only up to a size, so that a path to `/dev/zero`, `/dev/urandom`, a FIFO,
//! a socket or a directory gets a clear error at once instead of a read that never ends or
//! blocks.

use std::io::Read;
use std::path::Path;

/// The largest pipeline file read (a 1,000,000-item loop written out is about 8 MB).
pub const MAX_PIPELINE_BYTES: u64 = 64 << 20;

/// The largest component file read.
pub const MAX_COMPONENT_BYTES: u64 = 512 << 20;

/// Reads the regular file at `path`, `what` naming it in errors, refusing anything else (a
/// device, FIFO, socket or directory) without opening it, and anything over `max` bytes.
pub fn read_regular(path: &Path, what: &str, max: u64) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {what} `{shown}`: {e}"))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() { "a directory" } else { "not a regular file (a device, FIFO or socket)" };
        return Err(format!("{what} `{shown}` is {kind}; point to a file"));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(max) as usize);
    std::fs::File::open(path)
        .and_then(|file| file.take(max + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {what} `{shown}`: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!("{what} `{shown}` is larger than {} MiB; is it the right file?", max >> 20));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_read_and_only_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.yaml");
        std::fs::write(&file, "0123456789").unwrap();
        assert_eq!(read_regular(&file, "the pipeline file", 10).unwrap(), b"0123456789");
        assert!(read_regular(&file, "the pipeline file", 9).unwrap_err().contains("larger than"));
        assert!(read_regular(dir.path(), "the pipeline file", 10).unwrap_err().contains("is a directory"));
        let zero = read_regular(Path::new("/dev/zero"), "component", 10).unwrap_err();
        assert!(zero.contains("not a regular file"), "{zero}");
    }
}

//! `wasmpipe cache`: shows or clears the cache of compiled components, task outputs and
//! artifacts (`$WASMPIPE_CACHE_DIR`, else `~/.cache/wasmpipe`).

use std::process::ExitCode;

use wasmpipe::run::{CACHE_DIR_ENV, Cache};

use super::args::CacheAction;

/// Shows or clears the cache; says so when it is off. Exit code 0.
pub fn cache(action: CacheAction) -> anyhow::Result<ExitCode> {
    let Some(cache) = Cache::from_env() else {
        outln!("the compiled-component cache is off ({CACHE_DIR_ENV}=off)");
        return Ok(ExitCode::SUCCESS);
    };
    match action {
        CacheAction::Show => show(&cache)?,
        CacheAction::Clear => {
            let removed = cache.clear()?;
            outln!("{}: removed {removed} entries", cache.dir().display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints where the cache is, and how many entries of each kind it holds and their size.
fn show(cache: &Cache) -> std::io::Result<()> {
    let (entries, bytes) = cache.usage()?;
    let (outputs, output_bytes) = cache.outputs_usage()?;
    let (artifacts, artifact_bytes) = cache.artifacts_usage()?;
    outln!(
        "{}: {entries} compiled component(s), {} KiB; {outputs} cached task output(s), {} KiB; {artifacts} cached artifact(s), {} KiB",
        cache.dir().display(),
        bytes.div_ceil(1024),
        output_bytes.div_ceil(1024),
        artifact_bytes.div_ceil(1024)
    );
    Ok(())
}

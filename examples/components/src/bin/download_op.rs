//! KFP's `gcs_download_op` (samples/core/sequential), made local: instead of downloading `url`
//! it produces the text the sample's file holds, so the pipeline runs with no network.
use wasmpipe_guest::component;

/// Returns the contents "downloaded" from `url`.
#[component]
fn download_op(url: String) -> String {
    let name = url.rsplit('/').next().unwrap_or(&url);
    format!("With which he yoketh your rebellious necks Razeth your cities and subverts your towns ({name})")
}

fn main() {}

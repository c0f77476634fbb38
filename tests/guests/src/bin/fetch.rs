//! Fetches a URL over `wasi:http` (the task needs a network grant for its host).
use wasmpipe_guest::component;

/// Returns the body of `GET url` as text, prefixed with the status (`200 hello`); fails with
/// the reason when the request fails (denied, refused, ...).
#[component]
fn fetch(url: String) -> Result<String, String> {
    let response = wasmpipe_guest::http::get(&url)?;
    Ok(format!("{} {}", response.status, response.text()))
}

fn main() {}

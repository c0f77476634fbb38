//! A plugin of the plugin host (`examples/plugin-host`): counts in the tenant's key-value store
//! (`acme:host/kv`, an interface of the host application, not of wasmpipe).
use wasmpipe_guest::component;

wit_bindgen::generate!({
    path: "../plugin-host/wit",
    world: "plugin",
});

use acme::host::kv;

/// Adds `by` (1 by default) to the counter `key` of the tenant's store and returns its new
/// value; a counter that holds something else than a number is an error.
#[component]
fn kv_counter(key: String, #[default(1)] by: i64) -> Result<i64, String> {
    let now = match kv::get(&key) {
        None => 0,
        Some(text) => text.parse::<i64>().map_err(|_| format!("`{key}` holds `{text}`, not a number"))?,
    };
    let next = now.checked_add(by).ok_or_else(|| format!("`{key}` would overflow"))?;
    kv::set(&key, &next.to_string());
    Ok(next)
}

fn main() {}

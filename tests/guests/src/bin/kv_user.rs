//! A plugin that uses its host application's key-value store (`acme:host/kv`, an interface
//! wasmpipe itself does not offer): sets `key` to `value` when given one, then reads it back.
use wasmpipe_guest::component;

wit_bindgen::generate!({
    path: "../../examples/plugin-host/wit",
    world: "plugin",
});

use acme::host::kv;

/// Sets `key` to `value` (when given), and returns what the store holds for `key` (`-` for
/// nothing).
#[component]
fn kv_user(key: String, value: Option<String>) -> String {
    if let Some(value) = value {
        kv::set(&key, &value);
    }
    kv::get(&key).unwrap_or_else(|| "-".into())
}

fn main() {}

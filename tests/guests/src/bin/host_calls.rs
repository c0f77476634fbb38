//! Calls the host `n` times in a loop, for the benchmark of a host-interface call against a
//! WASI call: `kv` calls `acme:host/kv.get` (the plugin host's interface), `clock` calls
//! `wasi:clocks/monotonic-clock.now`, `none` only loops.
use std::hint::black_box;

use wasmpipe_guest::component;

wit_bindgen::generate!({
    path: "../../examples/plugin-host/wit",
    world: "plugin",
});

use acme::host::kv;

/// Makes `n` calls of the kind `mode` names and returns how many found something.
#[component]
fn host_calls(mode: String, n: i64) -> Result<i64, String> {
    let mut found = 0;
    for _ in 0..n {
        let hit = match mode.as_str() {
            "kv" => kv::get(black_box("k")).is_some(),
            "clock" => {
                black_box(std::time::Instant::now());
                false
            }
            "none" => black_box(false),
            other => return Err(format!("unknown mode `{other}`: kv, clock or none")),
        };
        found += i64::from(hit);
    }
    Ok(found)
}

fn main() {}

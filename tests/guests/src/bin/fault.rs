//! One guest, many faults (the spin test-guest pattern): `mode` picks what goes wrong, for
//! real, so that the host's handling of each failure kind can be tested.
use std::hint::black_box;

use wasmpipe_guest::component;

/// Fails in the way `mode` names; `n` sizes the fault where that makes sense.
#[component]
fn fault(mode: String, #[default(0)] n: i64) -> Result<String, String> {
    match mode.as_str() {
        "ok" => Ok("ok".into()),
        "error" => Err(format!("asked to fail with {n}")),
        "panic" => panic!("asked to panic"),
        "unreachable" => core::arch::wasm32::unreachable(),
        // A raw load far past the end of linear memory: Rust does not check raw pointers.
        "out_of_bounds" => {
            let address = black_box(0xffff_fff0usize) as *const u64;
            Ok(format!("{}", unsafe { core::ptr::read_volatile(address) }))
        }
        // Rust checks divisions and panics; promising the compiler a non-zero divisor removes
        // the check, so the wasm `i32.div_u` instruction itself traps.
        "divide_by_zero" => {
            let divisor = black_box(n as u32);
            unsafe { core::hint::assert_unchecked(divisor != 0) };
            Ok(format!("{}", black_box(7u32) / divisor))
        }
        "stack_overflow" => Ok(format!("{}", recurse(black_box(u64::MAX)))),
        "spin" => loop {
            black_box(());
        },
        // Blocks inside a WASI host call (monotonic-clock subscribe + poll).
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_secs(3600));
            Ok("woke up".into())
        }
        "nap" => {
            std::thread::sleep(std::time::Duration::from_millis(n as u64));
            println!("rested {n} ms");
            Ok(format!("rested {n} ms"))
        }
        "alloc" => {
            let mut chunks = Vec::new();
            loop {
                chunks.push(black_box(vec![1u8; 1 << 20]));
            }
        }
        // `n` log calls of 1 MiB each: the host must keep a bounded part, not all of it.
        "log_flood" => {
            let message = "y".repeat(1 << 20);
            for _ in 0..n {
                wasmpipe_guest::log::info(&message);
            }
            Ok(format!("logged {n} MiB"))
        }
        "print" => {
            let line = "x".repeat(99);
            for _ in 0..n {
                println!("{line}");
            }
            Ok(format!("printed {n} lines"))
        }
        "env" => std::env::var("SECRET").map_err(|e| format!("env SECRET: {e}")),
        "read_file" => std::fs::read_to_string("/etc/hostname").map_err(|e| format!("read /etc/hostname: {e}")),
        "write_file" => std::fs::write("/etc/hostname", "changed")
            .map(|_| "wrote /etc/hostname".into())
            .map_err(|e| format!("write /etc/hostname: {e}")),
        "connect" => std::net::TcpStream::connect("127.0.0.1:22")
            .map(|_| "connected".into())
            .map_err(|e| format!("connect 127.0.0.1:22: {e}")),
        other => Err(format!("unknown mode `{other}`")),
    }
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    // black_box on the result keeps the compiler from turning the recursion into a loop.
    if depth == 0 { 0 } else { black_box(recurse(black_box(depth - 1))) + 1 }
}

fn main() {}

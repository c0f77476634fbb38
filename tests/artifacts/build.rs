//! Builds the guest test programs (`tests/guests`) and the example components
//! (`examples/components`) for wasm32-wasip2, and the plain WASI commands (`tests/commands`) for
//! wasm32-wasip1 and wasm32-wasip2, then writes `gen.rs`: one constant per component naming its
//! `.wasm` file. The wasmtime test-programs pattern.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const TARGET_P1: &str = "wasm32-wasip1";

fn main() {
    let root = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap()).join("../..");
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target_dir = out.join("target");
    check_targets_installed();

    let mut generated = String::new();
    for (prefix, crate_dir, target) in [
        ("", "tests/guests", TARGET),
        ("EXAMPLE_", "examples/components", TARGET),
        ("CMD_P1_", "tests/commands", TARGET_P1),
        ("CMD_P2_", "tests/commands", TARGET),
    ] {
        let dir = root.join(crate_dir);
        rerun_if_changed_dir(&dir.join("src"));
        if dir.join("wit").is_dir() {
            rerun_if_changed_dir(&dir.join("wit"));
        }
        println!("cargo:rerun-if-changed={}", dir.join("Cargo.toml").display());
        build(&dir, &target_dir, target);
        let release = target_dir.join(target).join("release");
        for bin in bins(&dir.join("src/bin")) {
            let wasm = release.join(format!("{bin}.wasm"));
            assert!(wasm.exists(), "{} was not built", wasm.display());
            let _ = writeln!(
                generated,
                "/// `{crate_dir}/src/bin/{bin}.rs`, built for {target}.\npub const {prefix}{}: &str = {:?};",
                bin.to_uppercase(),
                wasm.display().to_string()
            );
        }
    }
    // Every example component, by name, for tests that lay out an example directory.
    let examples = bins(&root.join("examples/components/src/bin"));
    let _ = writeln!(generated, "/// Every example component: (name, path).\npub const EXAMPLES: &[(&str, &str)] = &[");
    for bin in &examples {
        let _ = writeln!(generated, "    ({bin:?}, EXAMPLE_{}),", bin.to_uppercase());
    }
    let _ = writeln!(generated, "];");
    // The WIT of the plugin host's interface, which guests import.
    for dir in ["guest-sdk/src", "guest-sdk/macros/src", "wit", "examples/plugin-host/wit"] {
        rerun_if_changed_dir(&root.join(dir));
    }
    std::fs::write(out.join("gen.rs"), generated).unwrap();
}

/// Installs the wasm targets the guests need when rustup lacks them (`rustup target add`, as a
/// new user would type it), so that `cargo test --workspace` works on a fresh machine; fails
/// with that command when the install does not work (offline, say).
fn check_targets_installed() {
    let Ok(output) = Command::new("rustup").args(["target", "list", "--installed"]).output() else {
        return; // no rustup: let cargo report what is missing
    };
    let installed = String::from_utf8_lossy(&output.stdout);
    let missing: Vec<&str> =
        [TARGET, TARGET_P1].into_iter().filter(|t| !installed.lines().any(|l| l.trim() == *t)).collect();
    if missing.is_empty() {
        return;
    }
    println!(
        "cargo:warning=installing the wasm targets the guest test programs need: rustup target add {}",
        missing.join(" ")
    );
    let added = Command::new("rustup").args(["target", "add"]).args(&missing).status();
    if !added.is_ok_and(|s| s.success()) {
        panic!(
            "\n\nThe guest test programs need the {TARGET} and {TARGET_P1} targets; {} could not be installed.\n\
             Install them with:\n\n    rustup target add {TARGET} {TARGET_P1}\n\n",
            missing.join(" and ")
        );
    }
}

fn build(crate_dir: &Path, target_dir: &Path, target: &str) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(crate_dir)
        .args(["build", "--release", "--quiet", "--target", target])
        .env("CARGO_TARGET_DIR", target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS")
        // Under `cargo clippy` these would lint the guests with the host's settings; the guest
        // crates are linted on their own (see .ci/run).
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS")
        .status()
        .expect("failed to run cargo for the guest programs");
    assert!(status.success(), "building {} for {target} failed", crate_dir.display());
}

fn bins(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}

fn rerun_if_changed_dir(dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rerun_if_changed_dir(&path);
            } else {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
}

//! A hostile guest for the artifact sandbox: tries to leave its directories, change its
//! input, smuggle out a symlink or write too much, depending on `mode`.
use std::fs;
use wasmpipe_guest::{Dataset, Input, Output, Outputs, component};

#[derive(Outputs)]
struct Probe {
    data: Output<Dataset>,
    /// Each escape attempt that worked (none should).
    escaped: Vec<String>,
}

/// Modes: `escape` tries paths out of the sandbox and reports what worked; `overwrite` tries to
/// change its input; `symlink` returns a symlink as its output; `big` writes `bytes` bytes.
#[component]
fn probe(mode: String, input: Option<Input<Dataset>>, #[default(0)] bytes: i64) -> Result<Probe, String> {
    let data = Output::new("data");
    let mut escaped = Vec::new();
    match mode.as_str() {
        "escape" => {
            for path in ["/in/../../etc/passwd", "/etc/passwd", "../etc/passwd", "/out/../../../etc/passwd", "/"] {
                if fs::read(path).is_ok() || fs::read_dir(path).is_ok() {
                    escaped.push(format!("read {path}"));
                }
            }
            for path in ["/in/new.txt", "/in/../escaped.txt", "/out/../escaped.txt", "/escaped.txt", "/tmp/escaped.txt"]
            {
                if fs::write(path, "x").is_ok() {
                    escaped.push(format!("write {path}"));
                }
            }
            // A symlink that points out, then read through it.
            if symlink("../../../../../../etc/passwd", "/out/link").is_ok() && fs::read("/out/link").is_ok() {
                escaped.push("read through /out/link".into());
            }
            let _ = fs::remove_file("/out/link");
            data.write("probed").map_err(|e| e.to_string())?;
        }
        "overwrite" => {
            let input = input.ok_or("`overwrite` needs an input")?;
            return match fs::write(input.path(), "changed") {
                Ok(()) => Err(format!("wrote over {}: the input was writable", input.path().display())),
                Err(e) => Err(format!("could not change the input: {e}")),
            };
        }
        "symlink" => {
            symlink("../../../../../../etc/passwd", data.path())
                .map_err(|e| format!("could not create the symlink: {e}"))?;
        }
        "big" => {
            data.write(vec![b'x'; bytes as usize]).map_err(|e| e.to_string())?;
        }
        other => return Err(format!("unknown mode `{other}`")),
    }
    Ok(Probe { data, escaped })
}

fn main() {}

/// `std::fs::soft_link` is the stable way to make a symlink on WASI.
#[allow(deprecated)]
fn symlink(target: &str, link: impl AsRef<std::path::Path>) -> std::io::Result<()> {
    fs::soft_link(target, link)
}

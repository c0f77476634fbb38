//! A plain WASI command: counts the lines of a file.
//!
//! `wc INPUT LINES_OUT [UPPER_OUT]` writes the line count to LINES_OUT, an upper-cased copy of
//! INPUT to UPPER_OUT if given, and prints `lines=N label=LABEL` (LABEL from the environment).
//! With `EXIT_CODE` set to a non-zero number it fails on purpose with that status.
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(code) = std::env::var("EXIT_CODE").ok().and_then(|c| c.parse::<i32>().ok()).filter(|c| *c != 0) {
        eprintln!("failing on purpose with status {code}");
        exit(code);
    }
    let [_, input, lines_out, rest @ ..] = args.as_slice() else {
        eprintln!("usage: wc INPUT LINES_OUT [UPPER_OUT]");
        exit(2);
    };
    let text = std::fs::read_to_string(input).unwrap_or_else(|e| {
        eprintln!("cannot read {input}: {e}");
        exit(3);
    });
    let lines = text.lines().count();
    let write = |path: &String, contents: String| {
        std::fs::write(path, contents).unwrap_or_else(|e| {
            eprintln!("cannot write {path}: {e}");
            exit(4);
        })
    };
    write(lines_out, format!("{lines}\n"));
    if let Some(upper_out) = rest.first() {
        write(upper_out, text.to_uppercase());
    }
    println!("lines={lines} label={}", std::env::var("LABEL").unwrap_or_default());
}

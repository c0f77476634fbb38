//! A plain WASI command (preview 2) that knows nothing of wasmpipe: `tail_cmd N INPUT OUTPUT`
//! copies the last N lines of INPUT to OUTPUT and prints how many it kept.
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, n, input, output] = args.as_slice() else {
        eprintln!("usage: tail_cmd N INPUT OUTPUT");
        exit(2);
    };
    let n: usize = n.parse().unwrap_or_else(|_| {
        eprintln!("N must be a number, got `{n}`");
        exit(2);
    });
    let text = std::fs::read_to_string(input).unwrap_or_else(|e| {
        eprintln!("cannot read {input}: {e}");
        exit(1);
    });
    let lines: Vec<&str> = text.lines().collect();
    let kept = &lines[lines.len().saturating_sub(n)..];
    if let Err(e) = std::fs::write(output, kept.join("\n")) {
        eprintln!("cannot write {output}: {e}");
        exit(1);
    }
    println!("kept {} of {} lines", kept.len(), lines.len());
}

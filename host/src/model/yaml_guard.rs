//! A first pass over a pipeline file's YAML events, before anything is built from it, for what
//! the YAML loader would do blindly: aliases are counted (nodes and bytes), not expanded, so
//! that a small file whose aliases expand to gigabytes (a "billion laughs", or many aliases of
//! one long string) is refused at once; nesting deeper
//! than [`MAX_DEPTH`] is refused before a recursive step could overflow the stack; and a key
//! written twice in one mapping is an error with its line (YAML forbids it; the loader would
//! keep the last one silently). Linear in the file's events.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser};

/// How deep collections may nest in a pipeline file.
pub const MAX_DEPTH: usize = 256;

/// How many nodes aliases may stand for in all, counted as if expanded.
pub const MAX_ALIAS_NODES: u64 = 1_000_000;

/// How many bytes of scalars aliases may stand for in all, counted as if expanded (one anchored
/// 1 MiB string and 3,000 aliases of it, a 1 MiB file, would otherwise load as 3 GB).
pub const MAX_ALIAS_BYTES: u64 = 64 << 20;

/// What an anchored node stands for: its nodes and the bytes of its scalars.
#[derive(Clone, Copy, Default)]
struct Size {
    nodes: u64,
    bytes: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

/// One open mapping or sequence.
struct Frame {
    /// Its anchor id (0: none).
    anchor: usize,
    /// Its nodes and scalar bytes so far, aliases counted as expanded.
    size: Size,
    /// For a mapping: the keys seen, and whether the next node is a key.
    keys: Option<(HashSet<String>, bool)>,
}

/// Checks `text` (a parse error is left to the loader, which reports it better): the line and
/// message of the first problem, if any.
pub fn check(text: &str) -> Result<(), (usize, String)> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchored: HashMap<usize, Size> = HashMap::new();
    let mut aliased = Size::default();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { return Ok(()) };
        let line = span.start.line();
        match event {
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err((
                        line,
                        format!("the file nests deeper than {MAX_DEPTH} levels; a pipeline needs far fewer"),
                    ));
                }
                let keys = matches!(event, Event::MappingStart(..)).then(|| (HashSet::new(), true));
                stack.push(Frame { anchor, size: Size::default(), keys });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let frame = stack.pop().expect("the parser balances collections");
                let mut size = frame.size;
                size.add(Size { nodes: 1, bytes: 0 });
                if frame.anchor != 0 {
                    anchored.insert(frame.anchor, size);
                }
                add_node(&mut stack, size, None, line)?;
            }
            Event::Scalar(value, _, anchor, _) => {
                let size = Size { nodes: 1, bytes: value.len() as u64 };
                if anchor != 0 {
                    anchored.insert(anchor, size);
                }
                add_node(&mut stack, size, Some(&value), line)?;
            }
            Event::Alias(id) => {
                let size = anchored.get(&id).copied().unwrap_or(Size { nodes: 1, bytes: 0 });
                aliased.add(size);
                if aliased.nodes > MAX_ALIAS_NODES {
                    return Err((
                        line,
                        format!(
                            "the file's aliases stand for more than {MAX_ALIAS_NODES} values (a \"billion laughs\"?); write the values out, or use fewer aliases"
                        ),
                    ));
                }
                if aliased.bytes > MAX_ALIAS_BYTES {
                    return Err((
                        line,
                        format!(
                            "the file's aliases stand for more than {} MiB of text; write the values out, or use fewer aliases",
                            MAX_ALIAS_BYTES >> 20
                        ),
                    ));
                }
                add_node(&mut stack, size, None, line)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Counts a node of `size` in the innermost open collection; in a mapping, a scalar key is
/// checked against the keys before it.
fn add_node(stack: &mut [Frame], size: Size, scalar: Option<&str>, line: usize) -> Result<(), (usize, String)> {
    let Some(parent) = stack.last_mut() else { return Ok(()) };
    parent.size.add(size);
    if let Some((keys, key_next)) = &mut parent.keys {
        if *key_next
            && let Some(key) = scalar
            && !keys.insert(key.to_string())
        {
            return Err((line, format!("key `{key}` is written twice in this mapping; keep one")));
        }
        *key_next = !*key_next;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_billion_laughs_is_refused_without_expanding_it() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for (prev, name) in
            ["a", "b", "c", "d", "e", "f", "g", "h"].iter().zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            text.push_str(&format!("{name}: &{name} [{}]\n", vec![format!("*{prev}"); 9].join(", ")));
        }
        let (line, message) = check(&text).unwrap_err();
        assert!(message.contains("aliases stand for more than 1000000 values"), "{message}");
        assert!(line >= 6, "{line}");
        // A few aliases are fine.
        assert!(check("a: &a {x: 1}\nb: *a\nc: [*a, *a]\n").is_ok());
    }

    /// Ensures that aliases are bounded by the text they stand for too: a 1 MiB string and 100
    /// aliases of it (100 MiB from a 1 MiB file) are refused; a few are fine.
    #[test]
    fn aliases_of_a_long_string_are_bounded_by_size() {
        let long = "A".repeat(1 << 20);
        let text = format!("a: &x \"{long}\"\nb: [{}]\n", vec!["*x"; 100].join(", "));
        assert!(check(&text).unwrap_err().1.contains("more than 64 MiB of text"));
        let nested = format!("a: &x {{k: \"{long}\"}}\nb: [{}]\n", vec!["*x"; 100].join(", "));
        assert!(check(&nested).unwrap_err().1.contains("more than 64 MiB of text"));
        assert!(check(&format!("a: &x \"{long}\"\nb: [*x, *x]\n")).is_ok());
    }

    #[test]
    fn a_key_written_twice_is_refused_with_its_line() {
        let (line, message) = check("name: a\nsteps: []\nname: b\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(message.contains("key `name` is written twice"), "{message}");
        let (line, _) = check("steps:\n  - {task: a, inputs: {x: 1, x: 2}}\n").unwrap_err();
        assert_eq!(line, 2);
        // The same key in two mappings, and a value equal to a key, are fine.
        assert!(check("a: {x: 1}\nb: {x: 1}\nc: a\n").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused() {
        // Block sequences nest without the parser's own limit (255 levels of flow collections).
        let deep = format!("{}x\n", "- ".repeat(MAX_DEPTH + 1));
        assert!(check(&deep).unwrap_err().1.contains("nests deeper than 256"));
        let fine = format!("{}x\n", "- ".repeat(50));
        assert!(check(&fine).is_ok());
    }
}

//! A first pass over a pipeline file's YAML events, before anything is built from it, for what
//! the YAML loader would do blindly: aliases are counted, not expanded, so that a small file
//! whose aliases expand to gigabytes (a "billion laughs") is refused at once; nesting deeper
//! than [`MAX_DEPTH`] is refused before a recursive step could overflow the stack; and a key
//! written twice in one mapping is an error with its line (YAML forbids it; the loader would
//! keep the last one silently). Linear in the file's events.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser};

/// How deep collections may nest in a pipeline file.
pub const MAX_DEPTH: usize = 256;

/// How many nodes aliases may stand for in all, counted as if expanded.
pub const MAX_ALIAS_NODES: u64 = 1_000_000;

/// One open mapping or sequence.
struct Frame {
    /// Its anchor id (0: none).
    anchor: usize,
    /// Its nodes so far, aliases counted as expanded.
    nodes: u64,
    /// For a mapping: the keys seen, and whether the next node is a key.
    keys: Option<(HashSet<String>, bool)>,
}

/// Checks `text` (a parse error is left to the loader, which reports it better): the line and
/// message of the first problem, if any.
pub fn check(text: &str) -> Result<(), (usize, String)> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchored: HashMap<usize, u64> = HashMap::new();
    let mut alias_nodes: u64 = 0;
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
                stack.push(Frame { anchor, nodes: 0, keys });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let frame = stack.pop().expect("the parser balances collections");
                let size = frame.nodes.saturating_add(1);
                if frame.anchor != 0 {
                    anchored.insert(frame.anchor, size);
                }
                add_node(&mut stack, size, None, line)?;
            }
            Event::Scalar(value, _, anchor, _) => {
                if anchor != 0 {
                    anchored.insert(anchor, 1);
                }
                add_node(&mut stack, 1, Some(&value), line)?;
            }
            Event::Alias(id) => {
                let size = anchored.get(&id).copied().unwrap_or(1);
                alias_nodes = alias_nodes.saturating_add(size);
                if alias_nodes > MAX_ALIAS_NODES {
                    return Err((
                        line,
                        format!(
                            "the file's aliases stand for more than {MAX_ALIAS_NODES} values (a \"billion laughs\"?); write the values out, or use fewer aliases"
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
fn add_node(stack: &mut [Frame], size: u64, scalar: Option<&str>, line: usize) -> Result<(), (usize, String)> {
    let Some(parent) = stack.last_mut() else { return Ok(()) };
    parent.nodes = parent.nodes.saturating_add(size);
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

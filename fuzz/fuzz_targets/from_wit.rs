//! Fuzz target `from_wit`: the flattened WIT encoding of a value, as a guest may return it
//! (`internals::from_wit`), built from the fuzz bytes: node lists with shared nodes, cycles,
//! out-of-range and backward indices, deep nesting, NaN and infinite floats, duplicate keys;
//! and, from the same bytes, JSON values that must survive `to_wit` then `from_wit`.
//!
//! Properties: `from_wit` never panics; what it accepts has no more JSON nodes than the
//! encoding had nodes, and encodes back to itself; a JSON value (finite floats, ints that fit
//! in 64 signed bits) nested at most 256 levels round-trips exactly, a deeper one is refused.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use wasmpipe::internals::types::{Node, Value as WitValue};
use wasmpipe::internals::{from_wit, to_wit};

/// How deep `from_wit` lets a value nest (the root is at depth 0).
const MAX_DEPTH: usize = 256;

/// A float, often one JSON cannot hold.
fn float(u: &mut Unstructured) -> Result<f64> {
    Ok(match u.int_in_range(0..=7u8)? {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => -0.0,
        _ => u.arbitrary()?,
    })
}

/// A child index among `len` nodes: mostly a plausible one, sometimes anything.
fn index(u: &mut Unstructured, len: usize) -> Result<u32> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 => u.arbitrary()?,
        1 => u32::MAX,
        _ => u.int_in_range(0..=len as u32)?,
    })
}

/// An arbitrary node list: any shape at all, mostly wrong.
fn raw_nodes(u: &mut Unstructured) -> Result<Vec<Node>> {
    let len = u.int_in_range(0..=64usize)?;
    let mut nodes = Vec::with_capacity(len);
    for _ in 0..len {
        nodes.push(match u.int_in_range(0..=6u8)? {
            0 => Node::Null,
            1 => Node::Boolean(u.arbitrary()?),
            2 => Node::Int(u.arbitrary()?),
            3 => Node::Float(float(u)?),
            4 => Node::Str(u.arbitrary()?),
            5 => Node::ListOf((0..u.int_in_range(0..=8)?).map(|_| index(u, len)).collect::<Result<_>>()?),
            _ => Node::DictOf(
                (0..u.int_in_range(0..=8)?).map(|_| Ok((u.arbitrary()?, index(u, len)?))).collect::<Result<_>>()?,
            ),
        });
    }
    Ok(nodes)
}

/// A JSON value JSON can hold, nested at most `depth` more levels.
fn json(u: &mut Unstructured, depth: usize) -> Result<Value> {
    let kinds: u8 = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=kinds - 1)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        4 => Value::String(u.arbitrary()?),
        5 => Value::Array((0..u.int_in_range(0..=4)?).map(|_| json(u, depth - 1)).collect::<Result<_>>()?),
        _ => {
            let mut map = Map::new();
            for _ in 0..u.int_in_range(0..=4)? {
                map.insert(u.arbitrary()?, json(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

/// A value nested exactly `depth` levels: lists in lists (or dicts) around a scalar.
fn deep(u: &mut Unstructured, depth: usize) -> Result<Value> {
    let mut value = Value::from(u.arbitrary::<i64>()?);
    for _ in 0..depth {
        value = if u.arbitrary()? {
            Value::Array(vec![value])
        } else {
            Value::Object(Map::from_iter([("k".into(), value)]))
        };
    }
    Ok(value)
}

/// How many JSON values `value` is made of.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// Spoils a valid encoding in one place: a child index moved, or a node replaced.
fn spoil(u: &mut Unstructured, nodes: &mut [Node]) -> Result<()> {
    if nodes.is_empty() {
        return Ok(());
    }
    let len = nodes.len();
    let at = u.choose_index(len)?;
    match &mut nodes[at] {
        Node::ListOf(items) if !items.is_empty() => {
            let i = u.choose_index(items.len())?;
            items[i] = index(u, len)?;
        }
        Node::DictOf(entries) if !entries.is_empty() => {
            let i = u.choose_index(entries.len())?;
            if u.arbitrary()? {
                entries[i].1 = index(u, len)?;
            } else {
                let key = entries[u.choose_index(entries.len())?].0.clone();
                entries[i].0 = key;
            }
        }
        node => *node = raw_nodes(u)?.into_iter().next().unwrap_or(Node::Float(float(u)?)),
    }
    Ok(())
}

/// Checks what `from_wit` makes of `nodes`.
fn decode(nodes: Vec<Node>) {
    let len = nodes.len();
    if let Ok(value) = from_wit(&WitValue { nodes }) {
        assert!(count(&value) <= len, "{} JSON values from {len} nodes", count(&value));
        assert_eq!(from_wit(&to_wit(&value)).as_ref(), Ok(&value), "an accepted value does not encode back to itself");
    }
}

/// Runs every check on the bytes.
fn run(u: &mut Unstructured) -> Result<()> {
    match u.int_in_range(0..=3u8)? {
        0 => decode(raw_nodes(u)?),
        1 => {
            let value = json(u, 6)?;
            let encoded = to_wit(&value);
            assert_eq!(encoded.nodes.len(), count(&value));
            assert_eq!(from_wit(&encoded), Ok(value.clone()), "a JSON value does not round-trip");
            let mut nodes = encoded.nodes;
            for _ in 0..u.int_in_range(1..=3)? {
                spoil(u, &mut nodes)?;
            }
            decode(nodes);
        }
        _ => {
            let depth = u.int_in_range(MAX_DEPTH - 8..=MAX_DEPTH + 8)?;
            let value = deep(u, depth)?;
            let back = from_wit(&to_wit(&value));
            if depth <= MAX_DEPTH {
                assert_eq!(back, Ok(value), "a value {depth} levels deep does not round-trip");
            } else {
                assert!(back.is_err(), "a value {depth} levels deep is accepted");
            }
        }
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = run(&mut Unstructured::new(data));
});

//! Fuzz target `condition`: the text of an `if`/`elif` condition, parsed with
//! `model::condition::Expr::parse`; what parses is type-checked and evaluated with references
//! resolved to values derived from the input (ints, floats, strings, bools, null, lists, taken
//! from the reference's own text and the condition's literals).
//!
//! Besides never panicking: every comparison in a parsed condition is evaluated with all six
//! operators both ways round, and the answers must agree (`==` is the negation of `!=`, `a < b`
//! is `b > a`, `<=` is `<` or `==`, ...).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use wasmpipe::model::binding::Ref;
use wasmpipe::model::condition::{Expr, Op, Operand};
use wasmpipe::model::value::ValueType;

/// Every operator.
const OPS: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];

/// A hash of a reference's text (FNV-1a), to pick its value and type.
fn hash(r: &Ref) -> u64 {
    r.to_string().bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// The literals written in the condition, which references may take as their value.
fn literals(expr: &Expr, out: &mut Vec<Value>) {
    match expr {
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| literals(e, out)),
        Expr::Not(inner) => literals(inner, out),
        Expr::Cmp(_, a, b) => {
            for o in [a, b] {
                if let Operand::Literal(v) = o {
                    out.push(v.clone());
                }
            }
        }
        Expr::Truth(Operand::Literal(v)) => out.push(v.clone()),
        Expr::Truth(Operand::Ref(_)) => {}
    }
}

/// The value a reference resolves to: one of the literals, or a value made of its own text.
fn value_of(r: &Ref, literals: &[Value]) -> Result<Value, String> {
    let h = hash(r);
    let text = r.to_string();
    Ok(match h % 10 {
        0 => Value::Null,
        1 => Value::Bool(h & 16 != 0),
        2 => json!(text.len() as i64 - 20),
        3 => json!((h >> 8) as i64),
        4 => json!(h as f64 / 7.0),
        5 => Value::String(text),
        6 => json!([text]),
        7 => return Err(format!("{r} has no value yet")),
        _ if literals.is_empty() => Value::Bool(true),
        _ => literals[(h >> 4) as usize % literals.len()].clone(),
    })
}

/// The declared type of a reference (None: unknown until run time).
fn type_of(r: &Ref) -> Option<ValueType> {
    let types = [ValueType::String, ValueType::Int, ValueType::Float, ValueType::Bool, ValueType::List, ValueType::Any];
    let h = hash(r) >> 20;
    (!h.is_multiple_of(7)).then(|| types[h as usize % types.len()])
}

/// Checks that the six operators agree on the operands of every comparison in `expr`.
fn comparisons_agree(expr: &Expr, resolve: &dyn Fn(&Ref) -> Result<Value, String>) {
    match expr {
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| comparisons_agree(e, resolve)),
        Expr::Not(inner) => comparisons_agree(inner, resolve),
        Expr::Truth(_) => {}
        Expr::Cmp(_, a, b) => {
            let eval = |op: Op, x: &Operand, y: &Operand| Expr::Cmp(op, x.clone(), y.clone()).eval(resolve);
            let forward: Vec<_> = OPS.iter().map(|&op| eval(op, a, b)).collect();
            let backward: Vec<_> = OPS.iter().map(|&op| eval(op, b, a)).collect();
            if let [Ok(eq), Ok(ne)] = [&forward[0], &forward[1]] {
                assert_ne!(eq, ne, "== and != agree on {a:?} and {b:?}");
                assert_eq!(Ok(*eq), backward[0], "== is not symmetric on {a:?} and {b:?}");
            }
            if let [Ok(lt), Ok(le), Ok(gt), Ok(ge)] = [&forward[2], &forward[3], &forward[4], &forward[5]] {
                assert_eq!(Ok(*lt), backward[4], "a < b is not b > a on {a:?} and {b:?}");
                assert_eq!(Ok(*le), backward[5], "a <= b is not b >= a on {a:?} and {b:?}");
                assert_eq!(*le, *lt || forward[0] == Ok(true), "<= is not < or == on {a:?} and {b:?}");
                assert_eq!(*ge, *gt || forward[0] == Ok(true), ">= is not > or == on {a:?} and {b:?}");
                assert!(!(*lt && *gt), "both < and > on {a:?} and {b:?}");
            }
        }
    }
}

fuzz_target!(|text: &str| {
    let Ok(expr) = Expr::parse(text) else { return };
    let _ = expr.refs();
    let _ = expr.check(&type_of);
    let mut lits = Vec::new();
    literals(&expr, &mut lits);
    let resolve = |r: &Ref| value_of(r, &lits);
    let _ = expr.eval(&resolve);
    comparisons_agree(&expr, &resolve);
});

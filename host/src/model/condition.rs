//! Conditions of `if` and `elif` groups: comparisons of references and literals, combined with
//! `and`, `or`, `not` and parentheses.
//!
//! ```text
//! "{{tasks.flip.output}} == 'heads'"
//! "{{params.n}} > 3 and not {{params.dry_run}}"
//! ```
//! Operands are references (`{{params.NAME}}`, `{{tasks.TASK.outputs.OUTPUT}}`), numbers, quoted
//! strings, `true`, `false`. Comparisons are typed: numbers with numbers (an int and a float
//! compare by value), strings with strings, bools with bools (`==` and `!=` only).

use serde_json::Value;

use super::binding::{Binding, Ref};
use super::value::ValueType;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A literal value.
    Literal(Value),
    /// A reference, resolved when the condition is evaluated.
    Ref(Ref),
}

/// A parsed condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// Must not hold.
    Not(Box<Expr>),
    /// A comparison.
    Cmp(Op, Operand, Operand),
    /// A bool operand on its own.
    Truth(Operand),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Operand(Operand),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

impl Expr {
    /// Parses a condition; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Expr, String> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens: &tokens, at: 0, depth: 0 };
        let expr = parser.or()?;
        if parser.at != tokens.len() {
            return Err(format!(
                "`{}`: unexpected `{}` after a complete condition",
                shown(text),
                describe(&tokens[parser.at])
            ));
        }
        Ok(expr)
    }

    /// The references the condition reads.
    pub fn refs(&self) -> Vec<&Ref> {
        let mut refs = Vec::new();
        self.walk(&mut |operand| {
            if let Operand::Ref(r) = operand {
                refs.push(r);
            }
        });
        refs
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Operand)) {
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|e| e.walk(f)),
            Expr::Not(inner) => inner.walk(f),
            Expr::Cmp(_, a, b) => {
                f(a);
                f(b);
            }
            Expr::Truth(a) => f(a),
        }
    }

    /// Checks operand types, given the declared type of each reference (None: unknown, such as
    /// `any`, checked when evaluated).
    pub fn check(&self, type_of: &dyn Fn(&Ref) -> Option<ValueType>) -> Result<(), String> {
        let ty = |o: &Operand| match o {
            Operand::Literal(v) => Some(ValueType::of(v)),
            Operand::Ref(r) => type_of(r),
        };
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().try_for_each(|e| e.check(type_of)),
            Expr::Not(inner) => inner.check(type_of),
            Expr::Truth(o) => match ty(o) {
                Some(ValueType::Bool | ValueType::Any) | None => Ok(()),
                Some(t) => Err(format!("{} is a {t}, not a bool: compare it with something", show(o))),
            },
            Expr::Cmp(op, a, b) => match (ty(a), ty(b)) {
                (Some(x), Some(y)) => {
                    compatible(*op, x, y).map_err(|e| format!("{} {} {}: {e}", show(a), op.text(), show(b)))
                }
                _ => Ok(()),
            },
        }
    }

    /// Evaluates the condition, resolving references with `resolve`.
    pub fn eval(&self, resolve: &dyn Fn(&Ref) -> Result<Value, String>) -> Result<bool, String> {
        let value = |o: &Operand| match o {
            Operand::Literal(v) => Ok(v.clone()),
            Operand::Ref(r) => resolve(r),
        };
        match self {
            Expr::And(items) => {
                for e in items {
                    if !e.eval(resolve)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Expr::Or(items) => {
                for e in items {
                    if e.eval(resolve)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Expr::Not(inner) => Ok(!inner.eval(resolve)?),
            Expr::Truth(o) => match value(o)? {
                Value::Bool(b) => Ok(b),
                other => Err(format!("{} is `{other}`, not a bool", show(o))),
            },
            Expr::Cmp(op, a, b) => compare(*op, &value(a)?, &value(b)?),
        }
    }
}

fn compatible(op: Op, a: ValueType, b: ValueType) -> Result<(), String> {
    use ValueType::*;
    let numeric = |t| matches!(t, Int | Float);
    match (a, b) {
        (Any, _) | (_, Any) => Ok(()),
        (x, y) if numeric(x) && numeric(y) => Ok(()),
        (String, String) => Ok(()),
        (Bool, Bool) if matches!(op, Op::Eq | Op::Ne) => Ok(()),
        (Bool, Bool) => Err("bools compare only with == and !=".into()),
        (x, y) => Err(format!("a {x} cannot be compared with a {y}")),
    }
}

/// Compares two JSON numbers exactly: ints as ints (two ints beyond 2^53 that differ never
/// compare equal, as they would as floats), an int and a float by value.
fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Option<std::cmp::Ordering> {
    let int = |n: &serde_json::Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (int(x), int(y)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        (Some(a), None) => int_vs_float(a, y.as_f64()?),
        (None, Some(b)) => int_vs_float(b, x.as_f64()?).map(std::cmp::Ordering::reverse),
        (None, None) => x.as_f64()?.partial_cmp(&y.as_f64()?),
    }
}

/// Compares an int with a float exactly (no rounding of the int to a float).
fn int_vs_float(i: i128, f: f64) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    if f.is_nan() {
        return None;
    }
    // Every i64 and u64 is within +-2^65; a float beyond that is beyond any of them.
    if f >= 2f64.powi(65) {
        return Some(Ordering::Less);
    }
    if f <= -(2f64.powi(65)) {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    Some(match i.cmp(&(whole as i128)) {
        Ordering::Equal if f > whole => Ordering::Less,
        Ordering::Equal if f < whole => Ordering::Greater,
        other => other,
    })
}

fn compare(op: Op, a: &Value, b: &Value) -> Result<bool, String> {
    use std::cmp::Ordering;
    let ordering = match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y).ok_or("numbers that do not compare")?,
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) if matches!(op, Op::Eq | Op::Ne) => x.cmp(y),
        _ => return Err(format!("`{a}` cannot be compared with `{b}`")),
    };
    Ok(match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
    })
}

impl Op {
    /// The operator as a condition writes it (`==`, `<=`, ...).
    pub fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

fn show(o: &Operand) -> String {
    match o {
        Operand::Literal(v) => v.to_string(),
        Operand::Ref(r) => r.to_string(),
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Operand(o) => show(o),
        Token::Op(op) => op.text().into(),
        Token::And => "and".into(),
        Token::Or => "or".into(),
        Token::Not => "not".into(),
        Token::Open => "(".into(),
        Token::Close => ")".into(),
    }
}

/// The condition as messages show it: cut after 80 characters (a hostile file's condition may
/// be megabytes long).
fn shown(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// Splits a condition into tokens, in one pass (linear in its length).
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if rest.starts_with("{{") {
            let end = rest.find("}}").ok_or_else(|| format!("`{}`: a `{{{{` has no closing `}}}}`", shown(text)))?;
            match Binding::parse(&Value::String(rest[..end + 2].to_string()))? {
                Binding::Ref(r) => tokens.push(Token::Operand(Operand::Ref(r))),
                _ => return Err(format!("`{}`: `{}` is not a reference", shown(text), shown(&rest[..end + 2]))),
            }
            i += end + 2;
        } else if c == '\'' || c == '"' {
            let close = rest[1..].find(c).ok_or_else(|| format!("`{}`: a string is not closed", shown(text)))?;
            tokens.push(Token::Operand(Operand::Literal(Value::String(rest[1..1 + close].to_string()))));
            i += close + 2;
        } else if c == '(' {
            tokens.push(Token::Open);
            i += 1;
        } else if c == ')' {
            tokens.push(Token::Close);
            i += 1;
        } else if let Some((op, len)) =
            [("==", Op::Eq), ("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)]
                .iter()
                .find(|(s, _)| rest.starts_with(s))
                .map(|(s, op)| (*op, s.len()))
        {
            tokens.push(Token::Op(op));
            i += len;
        } else {
            let len =
                rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))).unwrap_or(rest.len());
            let word = &rest[..len];
            if word.is_empty() {
                return Err(format!("`{}`: unexpected `{c}`", shown(text)));
            }
            i += len;
            tokens.push(match word {
                "and" => Token::And,
                "or" => Token::Or,
                "not" => Token::Not,
                "true" => Token::Operand(Operand::Literal(Value::Bool(true))),
                "false" => Token::Operand(Operand::Literal(Value::Bool(false))),
                _ => match serde_json::from_str::<Value>(word) {
                    Ok(v @ Value::Number(_)) => Token::Operand(Operand::Literal(v)),
                    _ => {
                        let word = shown(word);
                        return Err(format!(
                            "`{}`: `{word}` is not a number, a quoted string, true, false or a reference; quote strings: '{word}'",
                            shown(text)
                        ));
                    }
                },
            });
        }
    }
    if tokens.is_empty() {
        return Err("the condition is empty".into());
    }
    Ok(tokens)
}

/// How deep parentheses and `not`s may nest in a condition: deeper is refused, with a message,
/// instead of overflowing the parser's stack.
pub const MAX_CONDITION_DEPTH: usize = 64;

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    /// Parentheses and `not`s open around the token at `at`.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one") } else { Expr::Or(items) })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one") } else { Expr::And(items) })
    }

    /// Enters one more level of nesting (a `(` or a `not`), within [`MAX_CONDITION_DEPTH`].
    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(format!(
                "the condition nests parentheses and `not` deeper than {MAX_CONDITION_DEPTH} levels; simplify it"
            ));
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Token::Not) {
            self.at += 1;
            self.nest()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.at += 1;
                self.nest()?;
                let inner = self.or()?;
                if self.peek() != Some(&Token::Close) {
                    return Err("a `(` is not closed".into());
                }
                self.at += 1;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Token::Operand(a)) => {
                self.at += 1;
                if let Some(Token::Op(op)) = self.peek().cloned() {
                    self.at += 1;
                    match self.tokens.get(self.at).cloned() {
                        Some(Token::Operand(b)) => {
                            self.at += 1;
                            Ok(Expr::Cmp(op, a, b))
                        }
                        _ => Err(format!("`{}` needs a value on its right", op.text())),
                    }
                } else {
                    Ok(Expr::Truth(a))
                }
            }
            Some(t) => Err(format!("unexpected `{}`", describe(&t))),
            None => Err("the condition ends too early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Ensures that numbers compare exactly: ints beyond 2^53 that differ by one, the ends of
    /// i64 and u64, and ints against floats near them.
    #[test]
    fn numbers_compare_exactly() {
        let eval = |text: &str| Expr::parse(text).unwrap().eval(&|r| Err(format!("{r}")));
        assert_eq!(eval("9007199254740993 == 9007199254740992"), Ok(false));
        assert_eq!(eval("9007199254740992 < 9007199254740993"), Ok(true));
        assert_eq!(eval("9223372036854775807 != 9223372036854775806"), Ok(true));
        assert_eq!(eval("18446744073709551615 > 9223372036854775807"), Ok(true));
        assert_eq!(eval("-9223372036854775808 < 9223372036854775807"), Ok(true));
        assert_eq!(eval("3 == 3.0"), Ok(true));
        assert_eq!(eval("3 < 3.5"), Ok(true));
        assert_eq!(eval("-3 > -3.5"), Ok(true));
        assert_eq!(eval("2.5 > 2"), Ok(true));
        assert_eq!(eval("9007199254740993 > 9007199254740992.0"), Ok(true));
        assert_eq!(eval("1e300 > 18446744073709551615"), Ok(true));
        assert_eq!(eval("-1e300 < -9223372036854775808"), Ok(true));
    }

    /// Ensures that hostile conditions are refused quickly with a short message: nesting past
    /// the limit (parentheses, `not`) instead of a stack overflow, and a very long condition
    /// parsed in linear time.
    #[test]
    fn deep_and_long_conditions_are_bounded() {
        let deep = format!("{}{{{{params.n}}}} > 0{}", "(".repeat(100_000), ")".repeat(100_000));
        let e = Expr::parse(&deep).unwrap_err();
        assert!(e.contains("deeper than 64 levels"), "{e}");
        let nots = format!("{}{{{{params.n}}}} > 0", "not ".repeat(100_000));
        assert!(Expr::parse(&nots).unwrap_err().contains("deeper than 64 levels"));
        let fine = format!("{}{{{{params.n}}}} > 0{}", "(".repeat(64), ")".repeat(64));
        assert!(Expr::parse(&fine).is_ok());
        // 200,000 comparisons: linear work (this took minutes when the tokenizer was quadratic).
        let long = vec!["{{params.n}} > 0"; 200_000].join(" and ");
        assert!(matches!(Expr::parse(&long), Ok(Expr::And(items)) if items.len() == 200_000));
        let bad = format!("{} @", "x".repeat(1_000_000));
        assert!(Expr::parse(&bad).unwrap_err().len() < 400, "the message shows a short excerpt");
    }

    fn eval(text: &str, n: Value) -> Result<bool, String> {
        Expr::parse(text)?.eval(&|_| Ok(n.clone()))
    }

    #[test]
    fn comparisons_and_logic_evaluate() {
        assert!(eval("{{params.n}} > 3", json!(4)).unwrap());
        assert!(!eval("{{params.n}} > 3 and {{params.n}} < 4", json!(4)).unwrap());
        assert!(eval("not ({{params.n}} == 1) or false", json!(2)).unwrap());
        assert!(eval("{{params.n}} == 2.0", json!(2)).unwrap(), "an int and a float compare by value");
        assert!(eval("{{tasks.flip.output}} == 'heads'", json!("heads")).unwrap());
        assert!(eval("{{params.flag}}", json!(true)).unwrap());
    }

    #[test]
    fn types_are_checked_and_errors_say_what_to_do() {
        let cond = Expr::parse("{{params.n}} == 'three'").unwrap();
        let err = cond.check(&|_| Some(ValueType::Int)).unwrap_err();
        assert!(err.contains("a int cannot be compared with a string") || err.contains("cannot be compared"), "{err}");
        assert!(Expr::parse("{{params.n}} == three").unwrap_err().contains("quote strings"));
        assert!(Expr::parse("({{params.n}} == 1").unwrap_err().contains("not closed"));
        assert!(Expr::parse("{{params.n}} ==").unwrap_err().contains("needs a value"));
        assert_eq!(Expr::parse("{{params.a}} < {{tasks.t.output}}").unwrap().refs().len(), 2);
    }
}

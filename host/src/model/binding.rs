//! Input bindings: the `"{{params.NAME}}"` and `"{{tasks.TASK.outputs.OUTPUT}}"` references
//! inside input values and pipeline outputs.

use std::fmt;

use serde_json::Value;

/// What a reference points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ref {
    /// A pipeline parameter.
    Param(String),
    /// An output of a task.
    Output {
        /// The producing task's name.
        task: String,
        /// The output's name.
        output: String,
    },
    /// The item of an enclosing `parallel_for` (`{{item}}`), or a field of a dict item
    /// (`{{item.FIELD}}`).
    Item {
        /// The loop's variable name (`item` unless the loop sets `as`).
        var: String,
        /// The field of a dict item.
        field: Option<String>,
    },
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Param(name) => write!(f, "{{{{params.{name}}}}}"),
            Ref::Output { task, output } => write!(f, "{{{{tasks.{task}.outputs.{output}}}}}"),
            Ref::Item { var, field: None } => write!(f, "{{{{{var}}}}}"),
            Ref::Item { var, field: Some(field) } => write!(f, "{{{{{var}.{field}}}}}"),
        }
    }
}

/// One piece of a formatted string.
#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    /// Text taken as it is.
    Text(String),
    /// A reference whose value is formatted in (strings as they are, others as JSON).
    Ref(Ref),
}

/// How an input gets its value.
#[derive(Clone, Debug, PartialEq)]
pub enum Binding {
    /// A literal value.
    Literal(Value),
    /// Exactly one reference: the value passes with its type.
    Ref(Ref),
    /// A string with references formatted into it: always a string.
    Format(Vec<Part>),
    /// `{one_of: ["{{tasks.A.output}}", "{{tasks.B.output}}"]}` (KFP's `dsl.OneOf`): the output
    /// of whichever task ran, each in another branch of one `if`/`elif`/`else` chain.
    OneOf(Vec<Ref>),
}

impl Binding {
    /// Parses the value written for an input or a pipeline output.
    pub fn parse(value: &Value) -> Result<Binding, String> {
        match value {
            Value::String(text) => parse_string(text),
            Value::Object(map) if map.len() == 1 && map.contains_key("one_of") => parse_one_of(&map["one_of"]),
            other => {
                if let Some(nested) = find_nested_reference(other) {
                    return Err(format!(
                        "`{nested}`: references work only as a whole input value or inside a string, not inside a list or dict; bind the list or dict from a parameter or a task output instead"
                    ));
                }
                Ok(Binding::Literal(other.clone()))
            }
        }
    }

    /// The references this binding reads.
    pub fn refs(&self) -> Vec<&Ref> {
        match self {
            Binding::Literal(_) => Vec::new(),
            Binding::Ref(r) => vec![r],
            Binding::OneOf(refs) => refs.iter().collect(),
            Binding::Format(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    Part::Ref(r) => Some(r),
                    Part::Text(_) => None,
                })
                .collect(),
        }
    }
}

/// `one_of`'s list: two or more references to task outputs, each alone in its string.
fn parse_one_of(list: &Value) -> Result<Binding, String> {
    const FORM: &str =
        "write `{one_of: [\"{{tasks.A.output}}\", \"{{tasks.B.output}}\"]}`, one task output of each branch";
    let Value::Array(items) = list else { return Err(format!("`one_of` takes a list of task outputs; {FORM}")) };
    let mut refs = Vec::new();
    for item in items {
        match item.as_str().map(parse_string) {
            Some(Ok(Binding::Ref(r @ Ref::Output { .. }))) => refs.push(r),
            _ => {
                return Err(format!(
                    "`one_of` takes only task outputs, each alone in its string, not `{item}`; {FORM}"
                ));
            }
        }
    }
    if refs.len() < 2 {
        return Err(format!("`one_of` takes two or more task outputs, not {}; {FORM}", refs.len()));
    }
    Ok(Binding::OneOf(refs))
}

fn parse_string(text: &str) -> Result<Binding, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("`{text}`: a `{{{{` has no closing `}}}}`"))?;
        parts.push(Part::Ref(parse_ref(after[..end].trim())?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(match parts.as_slice() {
        [] => Binding::Literal(Value::String(String::new())),
        [Part::Text(t)] => Binding::Literal(Value::String(t.clone())),
        [Part::Ref(r)] => Binding::Ref(r.clone()),
        _ => Binding::Format(parts),
    })
}

fn parse_ref(inner: &str) -> Result<Ref, String> {
    let segments: Vec<&str> = inner.split('.').map(str::trim).collect();
    let ok = |s: &&str| !s.is_empty();
    match segments.as_slice() {
        ["params", name] if ok(name) => Ok(Ref::Param(name.to_string())),
        ["tasks", task, "outputs", output] if ok(task) && ok(output) => {
            Ok(Ref::Output { task: task.to_string(), output: output.to_string() })
        }
        ["tasks", task, "output"] if ok(task) => {
            Ok(Ref::Output { task: task.to_string(), output: "output".to_string() })
        }
        [var] if is_var(var) => Ok(Ref::Item { var: var.to_string(), field: None }),
        [var, field] if is_var(var) && ok(field) => {
            Ok(Ref::Item { var: var.to_string(), field: Some(field.to_string()) })
        }
        _ => Err(format!(
            "`{{{{{inner}}}}}` is not a reference: write `{{{{params.NAME}}}}`, `{{{{tasks.TASK.outputs.OUTPUT}}}}`, `{{{{tasks.TASK.output}}}}`, or inside a `parallel_for` `{{{{item}}}}` or `{{{{item.FIELD}}}}`"
        )),
    }
}

/// Whether `name` can name a loop variable: a plain name that is not `params` or `tasks`.
pub fn is_var(name: &str) -> bool {
    !name.is_empty()
        && name != "params"
        && name != "tasks"
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn find_nested_reference(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if s.contains("{{") => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(find_nested_reference),
        Value::Object(map) => map.values().find_map(find_nested_reference),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_whole_reference_keeps_its_type_and_text_around_it_formats() {
        assert_eq!(Binding::parse(&json!("{{ params.n }}")).unwrap(), Binding::Ref(Ref::Param("n".into())));
        assert_eq!(
            Binding::parse(&json!("{{tasks.a.output}}")).unwrap(),
            Binding::Ref(Ref::Output { task: "a".into(), output: "output".into() })
        );
        let Binding::Format(parts) = Binding::parse(&json!("n={{params.n}}!")).unwrap() else {
            panic!("expected a format")
        };
        assert_eq!(parts.len(), 3);
        assert_eq!(Binding::parse(&json!(3)).unwrap(), Binding::Literal(json!(3)));
    }

    #[test]
    fn malformed_references_say_how_to_write_them() {
        assert!(Binding::parse(&json!("{{param.n.x}}")).unwrap_err().contains("{{params.NAME}}"));
        assert!(Binding::parse(&json!("{{params}}")).unwrap_err().contains("{{item}}"));
        assert_eq!(
            Binding::parse(&json!("{{ row.a }}")).unwrap(),
            Binding::Ref(Ref::Item { var: "row".into(), field: Some("a".into()) })
        );
        assert!(Binding::parse(&json!("{{params.n")).unwrap_err().contains("no closing"));
        assert!(Binding::parse(&json!(["{{params.n}}"])).unwrap_err().contains("inside a list"));
    }
}

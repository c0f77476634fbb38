//! Argument and environment templates of WASI commands: `{{inputs.NAME}}` and
//! `{{outputs.NAME}}` placeholders, parsed once (`placeholders` for validation, `render` for a
//! run).

use indexmap::IndexMap;

use super::artifact::GUEST_OUT;

/// A piece of an argument or environment template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    /// `{{inputs.NAME}}`
    Input(&'a str),
    /// `{{outputs.NAME}}`
    Output(&'a str),
}

/// Splits a template into text and placeholders, or says what is not a placeholder.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        found.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| format!("`{template}` has a `{{{{` without its `}}}}`"))?;
        let inner = after[..end].trim();
        match inner.split_once('.') {
            Some(("inputs", name)) if !name.is_empty() => found.push(Piece::Input(name)),
            Some(("outputs", name)) if !name.is_empty() => found.push(Piece::Output(name)),
            _ => {
                return Err(format!(
                    "`{{{{{inner}}}}}` is not a placeholder: write `{{{{inputs.NAME}}}}` or `{{{{outputs.NAME}}}}`"
                ));
            }
        }
        rest = &after[end + 2..];
    }
    found.push(Piece::Text(rest));
    Ok(found)
}

/// The placeholders of a template: `(inputs|outputs, NAME)` for each `{{inputs.NAME}}` and
/// `{{outputs.NAME}}`, or an error naming what is not one.
pub(crate) fn placeholders(template: &str) -> Result<Vec<(&str, &str)>, String> {
    Ok(pieces(template)?
        .into_iter()
        .filter_map(|p| match p {
            Piece::Text(_) => None,
            Piece::Input(name) => Some(("inputs", name)),
            Piece::Output(name) => Some(("outputs", name)),
        })
        .collect())
}

/// Fills a template (validated before the run): an input's value as text (a string as it is,
/// anything else as JSON; an artifact as its guest path; an unbound optional input as nothing),
/// an output's guest path.
pub(crate) fn render(template: &str, inputs: &IndexMap<String, String>) -> String {
    let Ok(pieces) = pieces(template) else { return template.to_string() };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Input(name) => out.push_str(inputs.get(name).map(String::as_str).unwrap_or("")),
            Piece::Output(name) => out.push_str(&format!("{GUEST_OUT}/{name}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_inputs_and_output_paths() {
        let inputs: IndexMap<String, String> = [("data".to_string(), "/in/data".to_string())].into_iter().collect();
        assert_eq!(render("--in={{inputs.data}} {{ outputs.lines }}", &inputs), "--in=/in/data /out/lines");
        assert_eq!(render("{{inputs.missing}}x", &inputs), "x");
        assert_eq!(placeholders("a {{inputs.x}} {{outputs.y}}").unwrap(), [("inputs", "x"), ("outputs", "y")]);
        assert!(placeholders("{{params.x}}").unwrap_err().contains("not a placeholder"));
        assert!(placeholders("{{inputs.x").unwrap_err().contains("without its"));
    }
}

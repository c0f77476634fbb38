//! Diagnostics: errors in a pipeline (or its inputs) found before anything runs, each naming
//! the file, the place in it and the fix.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One problem found before a run: the run does not start (exit code 2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    /// The file the problem is in (the pipeline, or a component file).
    pub file: String,
    /// Where in the document, as a path (`steps[0].exit_handler.exit.inputs.message`); empty
    /// for the whole file.
    pub path: String,
    /// The line (1-based), where known.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": at `{}`", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in a pipeline; the error type of loading and validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
pub struct Diagnostics {
    /// The problems, in document order where possible.
    pub errors: Vec<Diagnostic>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics { errors: vec![d] }
    }
}

/// A value shortened for a message.
pub(crate) fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 { format!("{}...", text.chars().take(40).collect::<String>()) } else { text }
}

/// Where the rule a message applies is stated, for the message to end with: `rule(6, "Body
/// outputs")` is `docs/semantics.md#rule-6-body-outputs`, the anchor GitHub and editors give
/// the heading.
pub(crate) fn rule(number: u8, title: &str) -> String {
    let slug: String = title.to_lowercase().split_whitespace().collect::<Vec<_>>().join("-");
    format!("docs/semantics.md#rule-{number}-{slug}")
}

#[cfg(test)]
mod tests {
    /// Ensures that every rule a message cites (`diag::rule(N, "Title")` anywhere in the
    /// source) is a heading of docs/semantics.md, so that the link leads somewhere.
    #[test]
    fn cited_rules_are_headings_of_the_semantics() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let semantics = std::fs::read_to_string(root.join("../docs/semantics.md")).unwrap();
        let mut cited = 0;
        let mut dirs = vec![root.join("src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for call in text.split("diag::rule(").skip(1) {
                    let Some((number, rest)) = call.split_once(", \"") else { continue };
                    if number.parse::<u8>().is_err() {
                        continue; // this test's own doc comment
                    }
                    let Some((title, _)) = rest.split_once('"') else { continue };
                    let heading = format!("### Rule {number}: {title}\n");
                    assert!(
                        semantics.contains(&heading),
                        "{}: no `{}` in docs/semantics.md",
                        path.display(),
                        heading.trim()
                    );
                    cited += 1;
                }
            }
        }
        assert!(cited >= 5, "found {cited} citations");
    }
}

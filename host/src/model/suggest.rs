//! "Did you mean": the name a place accepts that is closest to a name it does not know, for
//! messages about unknown fields, tasks, components, inputs and parameters.

/// The candidate closest to `name`, if one is close enough to be a likely typo (Jaro-Winkler
/// similarity of at least 0.8, as `retris` is to `retries`); of equally close ones, the first in
/// alphabetical order, so the answer does not depend on the candidates' order.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        let score = strsim::jaro_winkler(name, candidate);
        if score >= 0.8 && best.is_none_or(|(b, c)| score > b || (score == b && candidate < c)) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c)
}

/// ` (did you mean `X`?)` for the closest candidate, or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(name, candidates).map(|c| format!(" (did you mean `{c}`?)")).unwrap_or_default()
}

/// A serde message for people: an unknown field or variant (``unknown field `X`, expected one of
/// `a`, `b` ``, or ``expected `a` or `b` ``) gets the closest expected name suggested after it,
/// and Rust's type names (`expected u32`, `expected struct Task`) become words.
pub fn in_serde_message(message: &str) -> String {
    let message = without_rust_types(message);
    for what in ["unknown field `", "unknown variant `"] {
        let Some(start) = message.find(what).map(|i| i + what.len()) else { continue };
        let Some(len) = message[start..].find('`') else { continue };
        let name = &message[start..start + len];
        let expected = &message[start + len..];
        let candidates = expected.split('`').skip(2).step_by(2);
        let suggestion = did_you_mean(name, candidates);
        let at = start + len + 1;
        return format!("{}{suggestion}{}", &message[..at], &message[at..]);
    }
    message
}

/// What serde's `expected ...` says in Rust's terms, in words.
fn without_rust_types(message: &str) -> String {
    const WORDS: &[(&str, &str)] = &[
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number from 0 to 4294967295"),
        ("expected u64", "expected a whole number from 0 to 18446744073709551615"),
        ("expected usize", "expected a whole number, 0 or more"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected `true` or `false`"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a mapping"),
    ];
    let mut text = message.to_string();
    for (rust, words) in WORDS {
        if let Some(at) = text.find(rust)
            && !text[at + rust.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            text.replace_range(at..at + rust.len(), words);
        }
    }
    for kind in ["expected struct ", "expected enum "] {
        if let Some(at) = text.find(kind) {
            let end = text[at + kind.len()..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(text.len(), |e| at + kind.len() + e);
            let what = if kind.ends_with("struct ") { "expected a mapping" } else { "expected one of its names" };
            text.replace_range(at..end, what);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        assert_eq!(closest("retris", ["task", "retries", "backoff"]), Some("retries"));
        assert_eq!(closest("print_opp", ["fail_op", "print_op"]), Some("print_op"));
        assert_eq!(closest("mesage", ["message"]), Some("message"));
        assert_eq!(closest("zzz", ["task", "retries"]), None);
        assert_eq!(closest("x", []), None);
        assert_eq!(did_you_mean("tsk", ["task"]), " (did you mean `task`?)");
        assert_eq!(did_you_mean("qqq", ["task"]), "");
    }

    #[test]
    fn serde_messages_get_the_closest_expected_name() {
        assert_eq!(
            in_serde_message("unknown field `retris`, expected one of `task`, `retries`, `backoff`"),
            "unknown field `retris` (did you mean `retries`?), expected one of `task`, `retries`, `backoff`"
        );
        assert_eq!(
            in_serde_message("unknown variant `strng`, expected one of `int`, `string`"),
            "unknown variant `strng` (did you mean `string`?), expected one of `int`, `string`"
        );
        assert_eq!(
            in_serde_message("unknown field `itemz`, expected `name` or `items`"),
            "unknown field `itemz` (did you mean `items`?), expected `name` or `items`"
        );
        assert_eq!(
            in_serde_message("invalid value: integer `-1`, expected u32"),
            "invalid value: integer `-1`, expected a whole number from 0 to 4294967295"
        );
        assert_eq!(
            in_serde_message("invalid type: string \"x\", expected struct Task"),
            "invalid type: string \"x\", expected a mapping"
        );
        assert_eq!(
            in_serde_message("invalid type: integer `5`, expected a map"),
            "invalid type: integer `5`, expected a mapping"
        );
        assert_eq!(in_serde_message("expected a sequence"), "expected a list");
        let far = "unknown field `qqqq`, expected one of `task`, `retries`";
        assert_eq!(in_serde_message(far), far);
        assert_eq!(in_serde_message("invalid type: string"), "invalid type: string");
    }
}

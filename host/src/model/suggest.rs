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

/// A serde message about an unknown field or variant (``unknown field `X`, expected one of `a`,
/// `b` ``, or ``expected `a` or `b` ``), with the closest expected name suggested after the
/// unknown one; any other message as it is.
pub fn in_serde_message(message: &str) -> String {
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
    message.to_string()
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
        let far = "unknown field `qqqq`, expected one of `task`, `retries`";
        assert_eq!(in_serde_message(far), far);
        assert_eq!(in_serde_message("invalid type: string"), "invalid type: string");
    }
}

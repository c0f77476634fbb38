//! HTML text for the report: escaping, and values and logs cut to a bound so that one huge
//! output or log line cannot make the page unreadable.

use std::fmt::Write;

/// Appends `text` to `out`, escaped for HTML text and attribute values.
pub(super) fn push_esc(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `text`, escaped.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_esc(&mut out, text);
    out
}

/// Appends `text` escaped, cut after `max` bytes (at a character boundary) with a note of the
/// full size.
pub(super) fn push_cut(out: &mut String, text: &str, max: usize) {
    if text.len() <= max {
        return push_esc(out, text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    push_esc(out, &text[..end]);
    let _ = write!(out, "<span class=\"cut\">… ({} in all)</span>", bytes(text.len() as u64));
}

/// A byte count for people: `512 B`, `1.5 KiB`, `2.0 MiB`.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A duration in seconds for people: `350 µs`, `12.3 ms`, `4.56 s`, `2 min 5 s`.
pub(super) fn duration(secs: f64) -> String {
    match secs {
        s if s < 0.001 => format!("{:.0} µs", s * 1e6),
        s if s < 1.0 => format!("{:.1} ms", s * 1e3),
        s if s < 120.0 => format!("{s:.2} s"),
        s => format!("{} min {} s", (s / 60.0) as u64, (s % 60.0) as u64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ensures that markup in record text is shown as text, never interpreted.
    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    /// Ensures that a long text is cut at a character boundary and says how long it was.
    #[test]
    fn cuts_at_a_character_boundary() {
        let mut out = String::new();
        push_cut(&mut out, &"é".repeat(2000), 1001);
        assert!(out.starts_with(&"é".repeat(500)));
        assert!(!out.contains("é".repeat(501).as_str()));
        assert!(out.ends_with("(3.9 KiB in all)</span>"), "{out}");
    }
}

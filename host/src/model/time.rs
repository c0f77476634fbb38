//! Times as the record writes them: RFC 3339, UTC, with microseconds.

/// The current time in RFC 3339 with microseconds (`2026-11-24T18:16:00.123456Z`).
pub(crate) fn now() -> String {
    rfc3339_micros(std::time::SystemTime::now())
}

/// `time` in RFC 3339, UTC, with microseconds (as `humantime::format_rfc3339_micros` writes
/// it). Written by hand: a task records three timestamps, and going through `fmt` cost a few
/// percent of a microsecond task.
pub(crate) fn rfc3339_micros(time: std::time::SystemTime) -> String {
    let since = time.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let fields = [
        (year as u64, 4),
        (month as u64, 2),
        (day as u64, 2),
        (day_secs / 3_600, 2),
        (day_secs % 3_600 / 60, 2),
        (day_secs % 60, 2),
        (u64::from(since.subsec_micros()), 6),
    ];
    let mut out = [0u8; 27];
    let mut at = 0;
    for (i, (mut value, width)) in fields.into_iter().enumerate() {
        for digit in out[at..at + width].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
        at += width;
        // After the year, month, day, hour, minute, second and microseconds.
        out[at] = b"--T::.Z"[i];
        at += 1;
    }
    std::str::from_utf8(&out).expect("digits and separators are ASCII").to_owned()
}

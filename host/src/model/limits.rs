//! Limit values as pipeline files and the CLI write them: durations (`30s`, `1m 30s`, `500ms`,
//! or a number of seconds) and byte sizes (`256MiB`, `1GiB`, `64Mi`, or a number of bytes).

use std::borrow::Cow;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written for humans: `"30s"`, `"1m 30s"`, `"500ms"`, or a number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl std::str::FromStr for HumanDuration {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        parse_duration(text, false).map(HumanDuration)
    }
}

/// Parses a duration as [`HumanDuration`] and [`Wait`] write it: a number of seconds, or
/// humantime's text. Zero is refused unless `zero_ok` (a wait; limits must be positive).
fn parse_duration(text: &str, zero_ok: bool) -> Result<Duration, String> {
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && (secs > 0.0 || (zero_ok && secs == 0.0)) => Duration::from_secs_f64(secs),
        Ok(_) if zero_ok => return Err(format!("`{text}` is not a duration of 0 or more")),
        Ok(_) => return Err(format!("`{text}` is not a positive duration")),
        Err(_) => humantime::parse_duration(text)
            .map_err(|e| format!("`{text}` is not a duration ({e}); write it like `30s`, `1m 30s` or `500ms`"))?,
    };
    if duration.is_zero() && !zero_ok {
        return Err(format!("`{text}` is zero: a limit must be positive"));
    }
    Ok(duration)
}

impl std::fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// A wait written as a [`HumanDuration`] is, where zero makes sense (a retry's backoff: `0s`
/// retries at once, as KFP's `set_retry(backoff_duration='0s')` asks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait(pub Duration);

impl std::str::FromStr for Wait {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        parse_duration(text, true).map(Wait)
    }
}

impl std::fmt::Display for Wait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// A size in bytes written for humans: `"256MiB"`, `"1GiB"`, `"512KiB"`, `"64Mi"`, or a number
/// of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let n: u64 = digits.parse().map_err(|_| format!("`{text}` is not a size; write it like `256MiB` or `1GiB`"))?;
        let factor: u64 = match unit.trim() {
            "" | "B" => 1,
            "KiB" | "Ki" | "K" | "KB" | "kB" => 1 << 10,
            "MiB" | "Mi" | "M" | "MB" => 1 << 20,
            "GiB" | "Gi" | "G" | "GB" => 1 << 30,
            other => return Err(format!("`{text}`: unknown unit `{other}`; use KiB, MiB or GiB")),
        };
        let bytes = n.checked_mul(factor).ok_or_else(|| format!("`{text}` is too large"))?;
        if bytes == 0 {
            return Err(format!("`{text}` is zero: a limit must be positive"));
        }
        Ok(ByteSize(bytes))
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            b if b % (1 << 30) == 0 => write!(f, "{}GiB", b >> 30),
            b if b % (1 << 20) == 0 => write!(f, "{}MiB", b >> 20),
            b if b % (1 << 10) == 0 => write!(f, "{}KiB", b >> 10),
            b => write!(f, "{b}"),
        }
    }
}

macro_rules! text_or_number_serde {
    ($ty:ty, $schema_name:literal, $description:literal) => {
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = serde_json::Value::deserialize(d)?;
                let text = match &value {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    other => return Err(serde::de::Error::custom(format!("expected a string or a number, got {other}"))),
                };
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                $schema_name.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "description": $description, "type": ["string", "number"] })
            }
        }
    };
}

text_or_number_serde!(HumanDuration, "Duration", "A duration: \"30s\", \"1m 30s\", \"500ms\", or a number of seconds.");
text_or_number_serde!(Wait, "Wait", "A wait: \"0s\", \"500ms\", \"1m 30s\", or a number of seconds; zero is allowed.");
text_or_number_serde!(ByteSize, "ByteSize", "A size: \"256MiB\", \"1GiB\", \"64Mi\", or a number of bytes.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_may_be_zero_but_not_negative() {
        for zero in ["0s", "0", "0ms", "0.0"] {
            assert_eq!(zero.parse::<Wait>().unwrap().0, Duration::ZERO, "{zero}");
        }
        assert_eq!("1m 30s".parse::<Wait>().unwrap().0, Duration::from_secs(90));
        assert_eq!("2.5".parse::<Wait>().unwrap().0, Duration::from_millis(2500));
        assert!("-1".parse::<Wait>().unwrap_err().contains("0 or more"));
        assert!("5x".parse::<Wait>().unwrap_err().contains("not a duration"));
        assert!("0s".parse::<HumanDuration>().is_err(), "limits stay positive");
    }

    #[test]
    fn durations_and_sizes_parse_in_the_usual_spellings() {
        assert_eq!("1s".parse::<HumanDuration>().unwrap().0, Duration::from_secs(1));
        assert_eq!("1.5".parse::<HumanDuration>().unwrap().0, Duration::from_millis(1500));
        assert_eq!("1m 30s".parse::<HumanDuration>().unwrap().0, Duration::from_secs(90));
        assert!("0s".parse::<HumanDuration>().is_err());
        assert!("soon".parse::<HumanDuration>().unwrap_err().contains("like `30s`"));
        assert_eq!("64MiB".parse::<ByteSize>().unwrap().0, 64 << 20);
        assert_eq!("2Gi".parse::<ByteSize>().unwrap().0, 2 << 30);
        assert_eq!("4096".parse::<ByteSize>().unwrap().0, 4096);
        assert!("12 parsecs".parse::<ByteSize>().unwrap_err().contains("unknown unit"));
    }
}

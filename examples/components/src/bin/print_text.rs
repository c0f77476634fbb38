//! KFP's `print_op` of the loop samples: prints a value and returns the text it printed.
use wasmpipe_guest::{Value, component};

/// Prints `text` (a string as it is, any other value as JSON-like text), after sleeping
/// `sleep_ms` milliseconds if given, and returns what it printed.
#[component]
fn print_text(text: Value, sleep_ms: Option<i64>) -> String {
    if let Some(ms) = sleep_ms {
        std::thread::sleep(std::time::Duration::from_millis(ms.max(0) as u64));
    }
    let line = show(&text);
    println!("{line}");
    line
}

/// A value as text: strings without quotes.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!("[{}]", items.iter().map(quoted).collect::<Vec<_>>().join(", ")),
        Value::Dict(entries) => {
            let fields: Vec<String> = entries.iter().map(|(k, v)| format!("{k:?}: {}", quoted(v))).collect();
            format!("{{{}}}", fields.join(", "))
        }
    }
}

fn quoted(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("{s:?}"),
        other => show(other),
    }
}

fn main() {}

//! Reading a step: a group is told by its one key (`exit_handler`, `if`, `elif`, `else`,
//! `parallel_for`), anything else is a task. The step is read as it streams by, never buffered
//! whole (an untagged enum would buffer a loop with all its items, and try each kind in turn),
//! and a mistake inside it is reported at its own place (`steps[0].parallel_for.itemz`), not as
//! a step that "did not match any variant".

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::{ElifStep, ElseStep, ExitHandlerStep, IfStep, ParallelForStep, Step, Task};

/// The keys that make a step a group.
const GROUP_KEYS: &[&str] = &["exit_handler", "if", "elif", "else", "parallel_for"];

/// The fields of a task (as `Task` spells them; a unit test keeps the two in step).
pub(super) const TASK_FIELDS: &[&str] = &[
    "task",
    "component",
    "inputs",
    "after",
    "timeout",
    "memory",
    "fuel",
    "artifact_limit",
    "value_limit",
    "loop_item_limit",
    "ignore_upstream_failure",
    "cache",
    "retries",
    "backoff",
    "env",
    "host_env",
    "dirs",
    "network",
    "host",
];

/// What a step can be, for messages.
const KINDS: &str = "a step is either a task (with `task:` and `component:`) or a group (`exit_handler:`, `if:`, `elif:`, `else:` or `parallel_for:`)";

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Step, D::Error> {
        deserializer.deserialize_map(StepVisitor)
    }
}

struct StepVisitor;

impl<'de> Visitor<'de> for StepVisitor {
    type Value = Step;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a mapping: {KINDS}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Step, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom(format!("the step is empty: {KINDS}")));
        };
        let step = match key.as_str() {
            "exit_handler" => Step::ExitHandler(ExitHandlerStep { exit_handler: map.next_value()? }),
            "if" => Step::If(IfStep { branch: map.next_value()? }),
            "elif" => Step::Elif(ElifStep { elif: map.next_value()? }),
            "else" => Step::Else(ElseStep { branch: map.next_value()? }),
            "parallel_for" => Step::ParallelFor(ParallelForStep { parallel_for: map.next_value()? }),
            field if TASK_FIELDS.contains(&field) => {
                let rest = FirstKey { key: Some(key), map };
                return Task::deserialize(de::value::MapAccessDeserializer::new(rest)).map(Step::Task);
            }
            _ => return Err(unknown_first_key(&key, map)),
        };
        match map.next_key::<String>()? {
            None => Ok(step),
            Some(other) => Err(extra_key(&key, &other)),
        }
    }
}

/// The error for a step whose first key belongs to no kind of step: what the rest of its keys
/// say it was meant to be.
fn unknown_first_key<'de, A: MapAccess<'de>>(key: &str, mut map: A) -> A::Error {
    let others = match other_keys(&mut map) {
        Ok(others) => others,
        Err(e) => return e,
    };
    if others.iter().any(|k| k == "task") {
        return de::Error::unknown_field(key, TASK_FIELDS);
    }
    match others.iter().find(|k| GROUP_KEYS.contains(&k.as_str())) {
        Some(group) => extra_key(group, key),
        None => de::Error::custom(format!("unknown key `{key}`: {KINDS}")),
    }
}

/// The keys after the first one (whose value is next), their values skipped.
fn other_keys<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Vec<String>, A::Error> {
    map.next_value::<IgnoredAny>()?;
    let mut others = Vec::new();
    while let Some(other) = map.next_key::<String>()? {
        map.next_value::<IgnoredAny>()?;
        others.push(other);
    }
    Ok(others)
}

/// The error for a group step with a key besides its group's.
fn extra_key<E: de::Error>(group: &str, other: &str) -> E {
    E::custom(format!(
        "this `{group}:` group also has `{other}`, but a group step has only its one key: move `{other}` inside the group, or make it a step of its own"
    ))
}

/// A map whose first key was already read (to tell the kind of step): hands it back first,
/// then the rest of the map.
struct FirstKey<A> {
    key: Option<String>,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for FirstKey<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.key.take() {
            Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
            None => self.map.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint().map(|n| n + usize::from(self.key.is_some()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The task fields listed here are the ones `Task` has (from its schema).
    #[test]
    fn task_fields_match_the_task_type() {
        let schema = serde_json::to_value(schemars::schema_for!(Task)).unwrap();
        let mut fields: Vec<&str> = schema["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut listed = TASK_FIELDS.to_vec();
        fields.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, fields);
    }

    fn step(yaml: &str) -> Result<Step, String> {
        let value: serde_json::Value = serde_json::from_str(yaml).unwrap();
        serde_path_to_error::deserialize::<_, Step>(&value).map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    #[test]
    fn steps_are_told_apart_by_their_keys() {
        assert!(matches!(step(r#"{"component": "c", "task": "t"}"#), Ok(Step::Task(t)) if t.task == "t"));
        assert!(matches!(
            step(r#"{"parallel_for": {"items": [1, 2], "steps": []}}"#),
            Ok(Step::ParallelFor(p)) if p.parallel_for.items == serde_json::json!([1, 2])
        ));
        assert!(matches!(step(r#"{"else": {"steps": []}}"#), Ok(Step::Else(_))));
    }

    #[test]
    fn mistakes_are_named_where_they_are() {
        let e = step(r#"{"task": "t", "component": "c", "componnet": "c"}"#).unwrap_err();
        assert!(e.starts_with("componnet: unknown field `componnet`"), "{e}");
        let e = step(r#"{"componnet": "c", "task": "t"}"#).unwrap_err();
        assert!(e.contains("unknown field `componnet`, expected one of `task`"), "{e}");
        let e = step(r#"{"parallel_for": {"itemz": [], "steps": []}}"#).unwrap_err();
        assert!(e.starts_with("parallel_for.itemz: unknown field `itemz`"), "{e}");
        let e = step(r#"{"paralel_for": {"items": [], "steps": []}}"#).unwrap_err();
        assert!(e.contains("unknown key `paralel_for`: a step is either a task"), "{e}");
        let e = step(r#"{"name": "x", "if": {"condition": "true", "steps": []}}"#).unwrap_err();
        assert!(e.contains("this `if:` group also has `name`, but a group step has only its one key"), "{e}");
        let e = step(r#"{"if": {"condition": "true", "steps": []}, "name": "x"}"#).unwrap_err();
        assert!(e.contains("this `if:` group also has `name`"), "{e}");
        let e = step(r#"{}"#).unwrap_err();
        assert!(e.contains("the step is empty"), "{e}");
        let e = step(r#""t""#).unwrap_err();
        assert!(e.contains("expected a mapping: a step is either"), "{e}");
    }
}

//! Loading a pipeline file: YAML 1.2 (JSON is read the same way) into [`Pipeline`], keeping
//! the line of every node so that later errors can point at it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde_json::{Map, Value};

use super::diag::{Diagnostic, Diagnostics};
use super::{FORMAT_VERSION, Pipeline};

/// Where each node of a pipeline file is: its path (`steps[0].task`) and line.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// The file, as the user named it.
    pub file: PathBuf,
    lines: HashMap<String, usize>,
    /// The bytes of the paths in `lines`, within [`MAX_SOURCE_MAP_BYTES`].
    path_bytes: usize,
}

/// The longest path a node gets: the nodes below a longer one share its path (and so its
/// line). A hostile file (deep nesting, long keys) would otherwise make paths, and the memory
/// they take, grow with the square of its size.
const MAX_PATH: usize = 4096;

/// The most bytes of paths a source map keeps; nodes past it are found at an ancestor's line.
const MAX_SOURCE_MAP_BYTES: usize = 16 << 20;

impl SourceMap {
    /// A source map of `file` that knows no lines (for a file that could not be read).
    pub fn for_file(file: &Path) -> SourceMap {
        SourceMap { file: file.to_path_buf(), lines: HashMap::new(), path_bytes: 0 }
    }

    /// Keeps the line of the node at `path`, within the map's budget.
    fn record(&mut self, path: &str, line: usize) {
        if self.path_bytes + path.len() <= MAX_SOURCE_MAP_BYTES && !self.lines.contains_key(path) {
            self.path_bytes += path.len();
            self.lines.insert(path.to_string(), line);
        }
    }

    /// The line of the node at `path`, or of its nearest ancestor that has one.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.lines.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }

    /// A diagnostic at `path` in this file.
    pub fn error(&self, path: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.file.display().to_string(),
            path: path.to_string(),
            line: self.line(path),
            message: message.into(),
        }
    }
}

/// A parsed pipeline with its source map.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The pipeline.
    pub pipeline: Pipeline,
    /// Where each part of it is written.
    pub source: SourceMap,
    /// The directory component paths are relative to.
    pub base_dir: PathBuf,
}

/// Reads and parses a pipeline file.
pub fn load_file(path: &Path) -> Result<Loaded, Diagnostics> {
    let fail =
        |message: String| Diagnostic { file: path.display().to_string(), path: String::new(), line: None, message };
    let bytes =
        super::files::read_regular(path, "the pipeline file", super::files::MAX_PIPELINE_BYTES).map_err(fail)?;
    let text = String::from_utf8(bytes).map_err(|e| fail(format!("the pipeline file is not UTF-8 text: {e}")))?;
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_str(&text, path, &base_dir)
}

/// Parses pipeline text; `file` names it in errors, `base_dir` anchors component paths.
///
/// ```
/// use std::path::Path;
/// use wasmpipe::model::load::load_str;
///
/// let text = "version: 1\nname: hello\ncomponents: {echo: {path: echo.wasm}}\nsteps:\n  - {task: say, component: echo}\n";
/// let loaded = load_str(text, Path::new("hello.yaml"), Path::new(".")).unwrap();
/// assert_eq!(loaded.pipeline.name, "hello");
///
/// let errors = load_str("version: 1\nname: x\nstepz: []\n", Path::new("x.yaml"), Path::new(".")).unwrap_err();
/// assert!(errors.errors[0].message.contains("stepz"));
/// ```
pub fn load_str(text: &str, file: &Path, base_dir: &Path) -> Result<Loaded, Diagnostics> {
    let mut source = SourceMap::for_file(file);
    super::yaml_guard::check(text).map_err(|(line, message)| Diagnostic {
        file: file.display().to_string(),
        path: String::new(),
        line: Some(line),
        message,
    })?;
    let docs = MarkedYaml::load_from_str(text).map_err(|e| Diagnostic {
        file: file.display().to_string(),
        path: String::new(),
        line: Some(e.marker().line()),
        message: format!("not valid YAML or JSON: {} (column {})", e.info(), e.marker().col() + 1),
    })?;
    let doc = match docs.as_slice() {
        [doc] => doc,
        [] => {
            return Err(source
                .error("", "the file is empty: a pipeline needs `version`, `name`, `components` and `steps`")
                .into());
        }
        _ => {
            return Err(source.error("", "the file holds several YAML documents: keep one pipeline per file").into());
        }
    };
    let mut errors = Vec::new();
    let value = to_json(doc, String::new(), &mut source, &mut errors);
    if !errors.is_empty() {
        return Err(Diagnostics { errors });
    }
    check_version(&value, &source)?;
    let pipeline = deserialize::<Pipeline>(&value, "", &source)?;
    Ok(Loaded { pipeline, source, base_dir: base_dir.to_path_buf() })
}

fn check_version(value: &Value, source: &SourceMap) -> Result<(), Diagnostic> {
    match value.get("version") {
        Some(v) if v.as_u64() == Some(FORMAT_VERSION.into()) => Ok(()),
        Some(v) => Err(source.error(
            "version",
            format!("format version {v} is not supported: this wasmpipe reads `version: {FORMAT_VERSION}`"),
        )),
        None if value.is_object() => {
            Err(source.error("", format!("the `version` field is missing: add `version: {FORMAT_VERSION}` at the top")))
        }
        None => Err(source.error("", "a pipeline file is a mapping with `version`, `name`, `components` and `steps`")),
    }
}

/// Deserializes `value` (found at `base` in the file) into `T`; on failure the error names the
/// innermost place serde reached.
fn deserialize<T: serde::de::DeserializeOwned>(value: &Value, base: &str, source: &SourceMap) -> Result<T, Diagnostic> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = join(base, &e.path().to_string());
        source.error(&path, super::suggest::in_serde_message(&e.inner().to_string()))
    })
}

fn join(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest) {
        (_, "." | "") => base.to_string(),
        (true, _) => rest.to_string(),
        (false, r) if r.starts_with('[') => format!("{base}{r}"),
        (false, r) => format!("{base}.{r}"),
    }
}

fn to_json(node: &MarkedYaml<'_>, path: String, source: &mut SourceMap, errors: &mut Vec<Diagnostic>) -> Value {
    source.record(&path, node.span.start.line());
    match &node.data {
        YamlData::Value(scalar) => scalar_to_json(scalar),
        YamlData::Representation(text, _, _) => Value::String(text.to_string()),
        YamlData::Sequence(items) => {
            let line = node.span.start.line();
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                values.push(match &item.data {
                    // A scalar on its list's line (a flow list, `[1, 2, 3]`) is found at the
                    // list's line anyway: no entry of its own (a 10,000-item list would make
                    // 10,000 of them).
                    YamlData::Value(scalar) if item.span.start.line() == line => scalar_to_json(scalar),
                    _ if path.len() >= MAX_PATH => to_json(item, path.clone(), source, errors),
                    _ => to_json(item, format!("{path}[{i}]"), source, errors),
                });
            }
            Value::Array(values)
        }
        YamlData::Mapping(entries) => {
            let mut map = Map::new();
            for (key, item) in entries {
                let key = match &key.data {
                    YamlData::Value(Scalar::String(s)) => s.to_string(),
                    YamlData::Value(other) => match scalar_to_json(other) {
                        Value::String(s) => s,
                        v => v.to_string(),
                    },
                    _ => {
                        errors.push(source.error(&path, "a mapping key must be a plain scalar"));
                        continue;
                    }
                };
                let child = if path.is_empty() {
                    key.chars().take(MAX_PATH).collect()
                } else if path.len() >= MAX_PATH {
                    path.clone()
                } else {
                    format!("{path}.{key}")
                };
                let value = to_json(item, child, source, errors);
                map.insert(key, value);
            }
            Value::Object(map)
        }
        YamlData::Tagged(_, inner) => to_json(inner, path, source, errors),
        YamlData::Alias(_) | YamlData::BadValue => {
            errors.push(source.error(&path, "this YAML node could not be read (an unknown alias or a bad value)"));
            Value::Null
        }
    }
}

fn scalar_to_json(scalar: &Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::from(*i),
        Scalar::FloatingPoint(f) => super::value::float(f.into_inner()),
        Scalar::String(s) => Value::String(s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Loaded, Diagnostics> {
        load_str(text, Path::new("p.yaml"), Path::new("."))
    }

    #[test]
    fn yaml_1_2_keeps_yes_as_a_string_and_ints_as_ints() {
        let loaded = load(
            "version: 1\nname: p\ncomponents: {c: {path: c.wasm}}\nsteps:\n  - task: t\n    component: c\n    inputs: {a: yes, b: 3, c: 3.0}\n",
        )
        .unwrap();
        let super::super::Step::Task(task) = &loaded.pipeline.steps[0] else { panic!() };
        assert_eq!(task.inputs["a"], Value::String("yes".into()));
        assert!(task.inputs["b"].is_i64());
        assert!(task.inputs["c"].is_f64());
        assert_eq!(loaded.source.line("steps[0].inputs.b"), Some(7));
    }

    #[test]
    fn errors_inside_a_nested_step_name_the_field_and_line() {
        let err = load(
            "version: 1\nname: p\ncomponents: {c: {path: c.wasm}}\nsteps:\n  - exit_handler:\n      exit: {task: e, component: c}\n      steps:\n        - task: t\n          componnet: c\n",
        )
        .unwrap_err();
        let d = &err.errors[0];
        assert!(d.message.contains("unknown field `componnet`"), "{d}");
        assert!(d.path.starts_with("steps[0].exit_handler.steps[0]"), "{d}");
        assert_eq!(d.line, Some(9), "the line of the misspelled field");
    }

    #[test]
    fn items_of_a_list_have_their_own_lines() {
        let loaded = load(
            "version: 1\nname: p\ncomponents: {c: {path: c.wasm}}\nsteps:\n  - parallel_for:\n      name: fan\n      items: [1, 2,\n        3]\n      steps:\n        - task: t\n          component: c\n          inputs:\n            a:\n              - 1\n              - 2\n",
        )
        .unwrap();
        let line = |path: &str| loaded.source.line(path);
        assert_eq!(line("steps[0].parallel_for.items[0]"), Some(7), "on the list's line");
        assert_eq!(line("steps[0].parallel_for.items[2]"), Some(8), "on a line of its own");
        assert_eq!(line("steps[0].parallel_for.steps[0].inputs.a[1]"), Some(15), "a block list's item");
    }

    #[test]
    fn errors_inside_a_loop_name_the_field_and_line() {
        let err = load(
            "version: 1\nname: p\ncomponents: {c: {path: c.wasm}}\nsteps:\n  - parallel_for:\n      name: fan\n      itemz: [1, 2]\n      steps:\n        - {task: t, component: c}\n",
        )
        .unwrap_err();
        let d = &err.errors[0];
        assert!(d.message.contains("unknown field `itemz`"), "{d}");
        assert_eq!(d.path, "steps[0].parallel_for.itemz", "{d}");
        assert_eq!(d.line, Some(7), "the line of the misspelled field");
    }

    #[test]
    fn a_wrong_version_and_bad_yaml_are_reported_with_their_line() {
        let err = load("version: 2\nname: p\ncomponents: {}\nsteps: []\n").unwrap_err();
        assert!(err.errors[0].message.contains("`version: 1`"));
        assert_eq!(err.errors[0].line, Some(1));
        let err = load("version: 1\nname: [p\n").unwrap_err();
        assert!(err.errors[0].message.contains("not valid YAML"));
    }

    /// Ensures that a hostile file (250 levels of mappings with 4,000-character keys, 1 MB)
    /// cannot make the source map grow with the square of its size: paths stop growing at
    /// 4 KiB and the map keeps at most 16 MiB of them (it kept 300 MB for this file).
    #[test]
    fn deep_long_keys_keep_the_source_map_small() {
        let mut value = String::from("v");
        for i in (0..250).rev() {
            value = format!("{{? K{i:03}{} : {value}}}", "k".repeat(4000));
        }
        let text = format!("version: 1\nname: p\ncomponents: {{}}\nsteps: []\nx: {value}\n");
        let errors = match load_str(&text, Path::new("p.yaml"), Path::new(".")) {
            Ok(_) => panic!("`x` is not a pipeline field"),
            Err(d) => d.errors,
        };
        assert!(errors.iter().all(|e| e.path.len() <= MAX_PATH), "paths are bounded");
        let mut source = SourceMap::for_file(Path::new("p.yaml"));
        let _ =
            to_json(&saphyr::MarkedYaml::load_from_str(&text).unwrap()[0], String::new(), &mut source, &mut Vec::new());
        assert!(source.path_bytes <= MAX_SOURCE_MAP_BYTES);
        assert!(source.lines.keys().all(|p| p.len() <= MAX_PATH + 4100), "longest path");
        assert!(source.path_bytes < 2 << 20, "{} bytes of paths for a 1 MB file", source.path_bytes);
    }
}

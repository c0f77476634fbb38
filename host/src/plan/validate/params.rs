//! The run's parameter values (`docs/semantics.md`, rule 12, the run's inputs): defaults that
//! fit their declared type, `-p NAME=VALUE` and `-a NAME=PATH` that name declared parameters
//! and parse by their type, artifact paths that can be used, and a value for every parameter
//! that has no default.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Report, list_or_none};
use crate::model::artifact;
use crate::model::load::Loaded;
use crate::model::suggest::did_you_mean;
use crate::model::value::ValueType;
use crate::model::{Param, Pipeline};
use crate::plan::Params;

/// A parameter's value, or the path and the message of the problem that keeps it from one.
type Resolved = Result<Value, (String, String)>;

/// Resolves parameter values: declared defaults, overridden by `-p name=value` strings parsed by
/// the declared type. An artifact parameter is a host file or directory (its default is relative
/// to the pipeline file, `-a name=path` to the working directory), referenced where it is: tasks
/// get it read-only.
pub(crate) fn resolve_params(
    loaded: &Loaded,
    overrides: &[(String, String)],
    artifacts: &[(String, PathBuf)],
    report: &mut Report,
) -> Params {
    let (pipeline, source) = (&loaded.pipeline, &loaded.source);
    let mut values = Params::new();
    // A value replaces an earlier one (`-p` a default); a problem is reported.
    let mut keep = |name: &String, resolved: Resolved| match resolved {
        Ok(v) => {
            values.insert(name.clone(), v);
        }
        Err((path, message)) => report.errors.push(source.error(&path, message)),
    };
    for (name, param) in &pipeline.params {
        if let Some(default) = &param.default {
            keep(name, default_value(loaded, name, param, default));
        }
    }
    for (name, text) in overrides {
        keep(name, cli_value(pipeline, name, text));
    }
    for (name, file) in artifacts {
        keep(name, cli_artifact(pipeline, name, file));
    }
    for (name, param) in &pipeline.params {
        if !values.contains_key(name) && param.default.is_none() {
            report.errors.push(source.error(&format!("params.{name}"), no_value(name, param)));
        }
    }
    values
}

/// The value of the `default` of parameter `name`: an artifact's is a path relative to the
/// pipeline file, any other's must fit the declared type.
fn default_value(loaded: &Loaded, name: &str, param: &Param, default: &Value) -> Resolved {
    let at = |message: String| (format!("params.{name}.default"), message);
    if default.is_null() {
        // Optional, with no value unless `-p` gives one.
        return Ok(Value::Null);
    }
    if param.ty != ValueType::Artifact {
        return param
            .ty
            .coerce(default.clone())
            .map_err(|e| at(format!("the default of parameter `{name}` does not match its type: {e}")));
    }
    let Some(file) = default.as_str() else {
        return Err(at(format!(
            "the default of artifact parameter `{name}` must be a path (relative to the pipeline file)"
        )));
    };
    import_param(name, param, &loaded.base_dir.join(file))
        .map_err(|e| at(format!("{e}; fix the path or give another with `-a {name}=PATH`")))
}

/// The value of `-p name=text`: a declared parameter's, parsed by its type.
fn cli_value(pipeline: &Pipeline, name: &str, text: &str) -> Resolved {
    let Some(param) = pipeline.params.get(name) else {
        return Err((
            "params".into(),
            format!(
                "`-p {name}=...`: the pipeline has no parameter `{name}`{}; it declares: {}",
                did_you_mean(name, pipeline.params.keys().map(String::as_str)),
                declared(pipeline)
            ),
        ));
    };
    param
        .ty
        .parse_cli(text)
        .map_err(|e| (format!("params.{name}"), format!("`-p {name}={text}`: parameter `{name}` is {}: {e}", param.ty)))
}

/// The value of `-a name=file`: a declared artifact parameter's, `file` relative to the working
/// directory.
fn cli_artifact(pipeline: &Pipeline, name: &str, file: &Path) -> Resolved {
    let at = format!("params.{name}");
    match pipeline.params.get(name) {
        Some(p) if p.ty == ValueType::Artifact => {
            import_param(name, p, file).map_err(|e| (at, format!("`-a {name}=...`: {e}")))
        }
        Some(p) => Err((
            at,
            format!("`-a {name}=...`: parameter `{name}` is {}, not an artifact; set it with `-p {name}=VALUE`", p.ty),
        )),
        None => Err((
            "params".into(),
            format!(
                "`-a {name}=...`: the pipeline has no parameter `{name}`{}; it declares: {}",
                did_you_mean(name, pipeline.params.keys().map(String::as_str)),
                declared(pipeline)
            ),
        )),
    }
}

/// The message for parameter `name`, which has neither a default nor a value from the command line.
fn no_value(name: &str, param: &Param) -> String {
    let how = if param.ty == ValueType::Artifact { format!("-a {name}=PATH") } else { format!("-p {name}=VALUE") };
    format!("parameter `{name}` ({}) has no default: give it a value with `{how}`", param.ty)
}

/// The parameters `pipeline` declares, for messages.
fn declared(pipeline: &Pipeline) -> String {
    let known: Vec<&str> = pipeline.params.keys().map(String::as_str).collect();
    list_or_none(&known)
}

/// Artifact parameter `name`, given as host path `file`.
fn import_param(name: &str, param: &Param, file: &Path) -> Result<Value, String> {
    let kind = param.kind.as_deref().unwrap_or("Artifact");
    let file = std::path::absolute(file).map_err(|e| format!("artifact `{name}`: `{}`: {e}", file.display()))?;
    artifact::reference(name, &file, kind, param.directory).map(|a| a.to_value())
}

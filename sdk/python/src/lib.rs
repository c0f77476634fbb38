//! `wasmpipe._native`: runs a pipeline file in process with the same runner, sandbox and
//! semantics as `wasmpipe run`, and returns its record as JSON text (the Python package turns
//! it into a dict: `wasmpipe.run`). The interpreter is released while the run goes on, so
//! another Python thread may cancel it ([`CancelToken`]).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use wasmpipe::model::ByteSize;
use wasmpipe::model::policy::Quotas;
use wasmpipe::run::{CancelHandle, RunOptions, Runner};

/// One runner per process: components compiled once serve every run.
fn runner() -> PyResult<&'static Runner> {
    static RUNNER: OnceLock<Result<Runner, String>> = OnceLock::new();
    RUNNER
        .get_or_init(|| Runner::new().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| PyRuntimeError::new_err(format!("wasmpipe cannot start its runner: {e}")))
}

/// The runtime runs are driven on (worker threads of its own; the caller's thread waits).
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PyRuntimeError::new_err(format!("wasmpipe cannot start its runtime: {e}")))
}

/// Cancels a run from another thread, as Ctrl-C cancels `wasmpipe run`: running body tasks
/// stop, exit handlers still run; a second `cancel()` stops them too.
#[pyclass(frozen)]
struct CancelToken {
    handle: CancelHandle,
}

#[pymethods]
impl CancelToken {
    #[new]
    fn new() -> CancelToken {
        CancelToken { handle: CancelHandle::new() }
    }

    /// Cancels the run this token was given to (or, before it starts, makes it end at once).
    fn cancel(&self) {
        self.handle.cancel("cancel()");
    }
}

/// A duration as `wasmpipe run` takes it (`"30s"`, `"2m"`), or seconds.
fn duration(what: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
    let Some(value) = value else { return Ok(None) };
    if let Ok(seconds) = value.extract::<f64>() {
        return Duration::try_from_secs_f64(seconds)
            .map(Some)
            .map_err(|_| PyValueError::new_err(format!("{what}: {seconds} is not a duration in seconds")));
    }
    let text: String = value.extract().map_err(|_| PyValueError::new_err(format!("{what}: give seconds or a text like \"30s\"")))?;
    text.parse::<wasmpipe::model::HumanDuration>().map(|d| Some(d.0)).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// A size as `wasmpipe run` takes it (`"256MiB"`), or bytes.
fn size(what: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    let Some(value) = value else { return Ok(None) };
    if let Ok(bytes) = value.extract::<u64>() {
        return Ok(Some(bytes));
    }
    let text: String = value.extract().map_err(|_| PyValueError::new_err(format!("{what}: give bytes or a text like \"256MiB\"")))?;
    text.parse::<ByteSize>().map(|b| Some(b.0)).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// Runs the pipeline file `path` and returns its record as JSON text. `params` are `-p`
/// values (text, parsed by the declared types); the rest are `wasmpipe run`'s options. An
/// invalid pipeline raises `ValueError` with every problem, as `wasmpipe validate` lists them.
#[pyfunction]
#[pyo3(signature = (path, params=Vec::new(), artifacts=Vec::new(), run_dir=None, jobs=0, cache=false,
                    timeout=None, memory=None, deadline=None, memory_budget=None, write_record=true, cancel=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    path: PathBuf,
    params: Vec<(String, String)>,
    artifacts: Vec<(String, PathBuf)>,
    run_dir: Option<PathBuf>,
    jobs: usize,
    cache: bool,
    timeout: Option<&Bound<'_, PyAny>>,
    memory: Option<&Bound<'_, PyAny>>,
    deadline: Option<&Bound<'_, PyAny>>,
    memory_budget: Option<&Bound<'_, PyAny>>,
    write_record: bool,
    cancel: Option<&CancelToken>,
) -> PyResult<String> {
    let mut options = RunOptions { params, artifacts, jobs, cache, write_record, ..RunOptions::default() };
    if let Some(dir) = run_dir {
        options.run_dir = dir;
    }
    if let Some(t) = duration("timeout", timeout)? {
        options.limits.timeout = t;
    }
    if let Some(m) = size("memory", memory)? {
        options.limits.memory = usize::try_from(m).unwrap_or(usize::MAX);
    }
    options.deadline = duration("deadline", deadline)?;
    options.quotas = Quotas { memory: size("memory_budget", memory_budget)?, ..Quotas::default() };
    if let Some(token) = cancel {
        options.cancel = token.handle.clone();
    }
    let (runner, runtime) = (runner()?, runtime()?);
    let outcome = py.detach(|| {
        runtime.block_on(async {
            let prepared = runner.prepare_file(&path, &options).await.map_err(|d| d.to_string())?;
            let record = runner.run(&prepared, &options, &mut |_| {}).await;
            Ok::<_, String>(serde_json::to_string(&record).expect("a record serialises"))
        })
    });
    outcome.map_err(PyValueError::new_err)
}

/// The version of wasmpipe this module was built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CancelToken>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    // The WIT of the `task` world, for componentize-py when no wasmpipe repository is beside
    // the package (`wasmpipe._build.wit_dir`).
    m.add("WIT", include_str!("../../../wit/pipeline.wit"))?;
    Ok(())
}

//! The HTTP service: tenants upload components and pipelines, start runs, read their records
//! and their key-value store. One [`wasmpipe::run::Runner`] serves every tenant; each run gets
//! its tenant's store as `run_data`, the tenant's budgets and limits, and no record on disk.
//!
//! | request | what it does |
//! |---|---|
//! | `PUT /tenants/T/components/NAME` | stores the body (a `.wasm` component) as `NAME.wasm` |
//! | `PUT /tenants/T/pipelines/NAME` | checks the body (pipeline YAML or JSON) and stores it |
//! | `POST /tenants/T/runs[?wait=true]` | `{"pipeline": NAME, "params": {...}}`: starts a run; with `wait`, answers its record |
//! | `GET /tenants/T/runs/ID` | the run's record, or `{"state": "queued" or "running"}` (202) |
//! | `DELETE /tenants/T/runs/ID` | cancels the run (its exit handlers still run) |
//! | `GET /tenants/T/kv` | the tenant's key-value store |
//!
//! A tenant runs at most [`Config::runs_at_once`] runs at a time; up to [`Config::runs_queued`]
//! more wait for a turn, and more are refused (429), so one tenant's flood never takes another
//! tenant's turn. There is no authentication: put the service behind something that has.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use wasmpipe::model::policy::{Limits, Quotas};
use wasmpipe::model::value::ValueType;
use wasmpipe::run::{Cache, CancelHandle, RunOptions, Runner};

use crate::kv;
use crate::policy;

/// What the service allows each tenant.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where tenants' components and pipelines are kept (`ROOT/TENANT/...`).
    pub root: PathBuf,
    /// The compiled-component cache, shared by all tenants (None: compile in memory only).
    pub cache: Option<PathBuf>,
    /// Runs of one tenant at the same time.
    pub runs_at_once: usize,
    /// Runs of one tenant waiting for a turn; more are refused.
    pub runs_queued: usize,
    /// Tasks of one run at the same time.
    pub jobs: usize,
    /// Each run's budgets: memory, artifact bytes, log text.
    pub quotas: Quotas,
    /// Limits of tasks that set none.
    pub limits: Limits,
    /// Each run's deadline.
    pub deadline: Duration,
    /// Records of finished runs kept per tenant (the oldest are forgotten).
    pub records_kept: usize,
    /// The largest component upload.
    pub max_component_bytes: usize,
    /// Tenants the service holds at most (each made on first use).
    pub max_tenants: usize,
    /// Components, and pipelines, one tenant may have uploaded.
    pub max_uploads: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            root: PathBuf::from(".wasmpipe/plugin-host"),
            cache: None,
            runs_at_once: 2,
            runs_queued: 16,
            jobs: 2,
            quotas: Quotas { memory: Some(256 << 20), artifacts: Some(64 << 20), logs: Some(256 << 10) },
            limits: Limits { timeout: Duration::from_secs(10), memory: 64 << 20, ..Limits::default() },
            deadline: Duration::from_secs(60),
            records_kept: 100,
            max_component_bytes: 32 << 20,
            max_tenants: 1000,
            max_uploads: 64,
        }
    }
}

/// The service's state: the runner and the tenants.
pub struct App {
    runner: Runner,
    config: Config,
    tenants: Mutex<HashMap<String, Arc<Tenant>>>,
    next_run: AtomicU64,
}

/// One tenant: its store, its turns, its runs.
struct Tenant {
    dir: PathBuf,
    store: Arc<kv::Store>,
    turns: Semaphore,
    runs: Mutex<Runs>,
}

/// A tenant's runs, in the order they were started.
#[derive(Default)]
struct Runs {
    by_id: HashMap<String, Run>,
    order: VecDeque<String>,
    /// Runs queued or running.
    unfinished: usize,
}

impl Runs {
    /// Run `id`, or the refusal that there is none.
    fn get(&self, id: &str) -> Result<&Run, Refusal> {
        self.by_id.get(id).ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no run `{id:.64}` of this tenant")))
    }
}

struct Run {
    cancel: CancelHandle,
    status: Status,
}

enum Status {
    Queued,
    Running,
    /// The record, or why the pipeline could not run.
    Finished(Arc<Value>),
}

/// An error answer: a status and `{"error": ..., "problems": [...]}`.
struct Refusal(StatusCode, String, Vec<String>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let Refusal(status, error, problems) = self;
        let body =
            if problems.is_empty() { json!({"error": error}) } else { json!({"error": error, "problems": problems}) };
        (status, Json(body)).into_response()
    }
}

fn refuse(status: StatusCode, error: impl Into<String>) -> Refusal {
    Refusal(status, error.into(), Vec::new())
}

impl App {
    /// The service with `config`, offering the tenants' key-value store to their plugins.
    pub fn new(config: Config) -> anyhow::Result<Arc<App>> {
        let runner =
            Runner::with_cache(config.cache.clone().map(Cache::new))?.with_host_interfaces(kv::host_interfaces());
        Ok(Arc::new(App { runner, config, tenants: Mutex::default(), next_run: AtomicU64::new(1) }))
    }

    /// The HTTP routes.
    pub fn router(self: &Arc<App>) -> axum::Router {
        axum::Router::new()
            .route("/tenants/{tenant}/components/{name}", put(put_component))
            .route("/tenants/{tenant}/pipelines/{name}", put(put_pipeline))
            .route("/tenants/{tenant}/runs", post(start_run))
            .route("/tenants/{tenant}/runs/{id}", get(get_run).delete(cancel_run))
            .route("/tenants/{tenant}/kv", get(get_kv))
            .layer(DefaultBodyLimit::max(self.config.max_component_bytes))
            .with_state(self.clone())
    }

    /// Tenant `name` (made on first use), or a refusal of the name.
    fn tenant(&self, name: &str) -> Result<Arc<Tenant>, Refusal> {
        if !policy::is_name(name) {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!("`{name:.64}` is not a tenant name: 1 to 64 of a-z, 0-9, _ and -"),
            ));
        }
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        if !tenants.contains_key(name) && tenants.len() >= self.config.max_tenants {
            return Err(refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!("the service holds {} tenants, the most it may", tenants.len()),
            ));
        }
        let tenant = tenants.entry(name.to_string()).or_insert_with(|| {
            Arc::new(Tenant {
                dir: self.config.root.join(name),
                store: Arc::default(),
                turns: Semaphore::new(self.config.runs_at_once.max(1)),
                runs: Mutex::default(),
            })
        });
        Ok(tenant.clone())
    }

    /// The options of a run of `tenant`.
    fn options(&self, tenant: &Tenant, params: Vec<(String, String)>, cancel: CancelHandle) -> RunOptions {
        RunOptions {
            params,
            run_dir: tenant.dir.join("runs"),
            limits: self.config.limits,
            deadline: Some(self.config.deadline),
            cancel,
            jobs: self.config.jobs,
            write_record: false,
            quotas: self.config.quotas,
            run_data: Some(tenant.store.clone()),
            ..RunOptions::default()
        }
    }

    /// Prepares pipeline `name` of `tenant` (its text `text`) for a run with `options`: the
    /// service's own checks, then wasmpipe's. Returns the problems when it cannot run, and
    /// the components that will not load (their tasks fail with kind `load`) when it can.
    async fn prepare(
        &self,
        tenant: &Tenant,
        name: &str,
        text: &str,
        options: &RunOptions,
    ) -> Result<(wasmpipe::run::Prepared, Vec<String>), Vec<String>> {
        let components = tenant.dir.join("components");
        let file = PathBuf::from(format!("{name}.yaml"));
        let show = |d: &wasmpipe::model::diag::Diagnostic| d.to_string();
        let loaded = wasmpipe::model::load::load_str(text, &file, &components)
            .map_err(|d| d.errors.iter().map(show).collect::<Vec<_>>())?;
        let uploaded = |stem: &str| components.join(format!("{stem}.wasm")).is_file();
        let problems = policy::check(&loaded.pipeline, &uploaded);
        if !problems.is_empty() {
            return Err(problems
                .into_iter()
                .map(|(place, message)| format!("{name}.yaml: {place}: {message}"))
                .collect());
        }
        // Each component by its content: the runner compiles a file once per path, so a
        // component uploaded again under its name must come from a path of its own.
        let mut pipeline = loaded.pipeline;
        for component in pipeline.components.values_mut() {
            let Some(path) = &component.path else { continue };
            let bytes = std::fs::read(components.join(path)).map_err(|e| vec![format!("cannot read {path}: {e}")])?;
            let blob = tenant.dir.join("blobs").join(format!("{}.wasm", blake3::hash(&bytes).to_hex()));
            if !blob.is_file() {
                write_atomically(&blob, &bytes).map_err(|e| vec![format!("cannot store {path}: {e}")])?;
            }
            component.path = Some(blob.to_string_lossy().into_owned());
        }
        let prepared = self
            .runner
            .prepare_pipeline(pipeline, &components, options)
            .await
            .map_err(|d| d.errors.iter().map(show).collect::<Vec<_>>())?;
        let warnings = prepared.load_failures.iter().map(show).collect();
        Ok((prepared, warnings))
    }
}

/// Writes `bytes` to `path` whole or not at all (concurrent writers of one path each write a
/// file of their own; the last rename wins).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let temp = path.with_extension(format!("part-{}-{n}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

/// Refuses a new file in `dir` (with `extension`) past `max` of them; replacing one is fine.
fn check_room(dir: &Path, path: &Path, extension: &str, max: usize, what: &str) -> Result<(), Refusal> {
    if path.exists() {
        return Ok(());
    }
    let count = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().filter(|e| e.path().extension().is_some_and(|x| x == extension)).count())
        .unwrap_or(0);
    if count >= max {
        return Err(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("the tenant has {count} {what}s, the most it may: replace one"),
        ));
    }
    Ok(())
}

fn check_name(what: &str, name: &str) -> Result<(), Refusal> {
    if policy::is_name(name) {
        Ok(())
    } else {
        Err(refuse(StatusCode::BAD_REQUEST, format!("`{name:.64}` is not a {what} name: 1 to 64 of a-z, 0-9, _ and -")))
    }
}

fn server_error(what: &str, e: std::io::Error) -> Refusal {
    refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("cannot {what}: {e}"))
}

async fn put_component(
    State(app): State<Arc<App>>,
    UrlPath((tenant, name)): UrlPath<(String, String)>,
    body: Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let tenant = app.tenant(&tenant)?;
    check_name("component", &name)?;
    if !body.starts_with(b"\0asm") {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "component `{name}` is not WebAssembly (it does not start with `\\0asm`): upload the .wasm file itself"
            ),
        ));
    }
    let path = tenant.dir.join("components").join(format!("{name}.wasm"));
    check_room(&tenant.dir.join("components"), &path, "wasm", app.config.max_uploads, "component")?;
    write_atomically(&path, &body).map_err(|e| server_error("store the component", e))?;
    Ok((StatusCode::CREATED, Json(json!({"component": name, "bytes": body.len()}))))
}

async fn put_pipeline(
    State(app): State<Arc<App>>,
    UrlPath((tenant, name)): UrlPath<(String, String)>,
    body: Bytes,
) -> Result<impl IntoResponse, Refusal> {
    let tenant = app.tenant(&tenant)?;
    check_name("pipeline", &name)?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| refuse(StatusCode::UNPROCESSABLE_ENTITY, format!("pipeline `{name}` is not UTF-8 text: {e}")))?;
    // A required parameter gets its value at run time: checked here with a stand-in of its type.
    let stand_ins = wasmpipe::model::load::load_str(text, Path::new(&format!("{name}.yaml")), Path::new("."))
        .map(|loaded| {
            let required = loaded.pipeline.params.into_iter().filter(|(_, p)| p.default.is_none());
            required.map(|(k, p)| (k, stand_in(p.ty).to_string())).collect()
        })
        .unwrap_or_default();
    let options = app.options(&tenant, stand_ins, CancelHandle::new());
    let warnings = match app.prepare(&tenant, &name, text, &options).await {
        Ok((_, warnings)) => warnings,
        Err(problems) => {
            return Err(Refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("pipeline `{name}` cannot run here"),
                problems,
            ));
        }
    };
    let path = tenant.dir.join("pipelines").join(format!("{name}.yaml"));
    check_room(&tenant.dir.join("pipelines"), &path, "yaml", app.config.max_uploads, "pipeline")?;
    write_atomically(&path, text.as_bytes()).map_err(|e| server_error("store the pipeline", e))?;
    Ok((StatusCode::CREATED, Json(json!({"pipeline": name, "warnings": warnings}))))
}

/// A value of type `ty`, in `-p` form, for checking a pipeline before it has its parameters.
fn stand_in(ty: ValueType) -> &'static str {
    match ty {
        ValueType::Int | ValueType::Float => "0",
        ValueType::Bool => "false",
        ValueType::List => "[]",
        ValueType::Dict => "{}",
        ValueType::String | ValueType::Any | ValueType::Artifact => "x",
    }
}

/// The body of `POST /tenants/T/runs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    pipeline: String,
    #[serde(default)]
    params: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct RunQuery {
    #[serde(default)]
    wait: bool,
}

async fn start_run(
    State(app): State<Arc<App>>,
    UrlPath(tenant_name): UrlPath<String>,
    Query(query): Query<RunQuery>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let tenant = app.tenant(&tenant_name)?;
    let request: RunRequest = serde_json::from_slice(&body).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            format!("the body is not a run request ({e}): send {{\"pipeline\": NAME, \"params\": {{...}}}}"),
        )
    })?;
    check_name("pipeline", &request.pipeline)?;
    let path = tenant.dir.join("pipelines").join(format!("{}.yaml", request.pipeline));
    let text = std::fs::read_to_string(&path).map_err(|_| {
        refuse(
            StatusCode::NOT_FOUND,
            format!(
                "no pipeline `{}`: PUT it to /tenants/{tenant_name}/pipelines/{} first",
                request.pipeline, request.pipeline
            ),
        )
    })?;
    // `-p` form: strings as they are, other values as JSON.
    let params =
        request.params.into_iter().map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), String::from))).collect();
    let id = format!("run-{}", app.next_run.fetch_add(1, Ordering::Relaxed));
    let cancel = CancelHandle::new();
    {
        let mut runs = tenant.runs.lock().unwrap_or_else(PoisonError::into_inner);
        if runs.unfinished >= app.config.runs_at_once + app.config.runs_queued {
            return Err(refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "tenant `{tenant_name}` has {} runs queued or running, the most it may have: wait for one to end",
                    runs.unfinished
                ),
            ));
        }
        runs.unfinished += 1;
        runs.by_id.insert(id.clone(), Run { cancel: cancel.clone(), status: Status::Queued });
        runs.order.push_back(id.clone());
    }
    let handle = tokio::spawn(run_in_turn(app.clone(), tenant, request.pipeline, text, params, id.clone(), cancel));
    if query.wait {
        let record = handle.await.map_err(|e| {
            refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("the run failed inside the service: {e}"))
        })?;
        return Ok((StatusCode::OK, Json(record.as_ref().clone())).into_response());
    }
    Ok((StatusCode::ACCEPTED, Json(json!({"run": id, "state": "queued"}))).into_response())
}

/// Runs one run when its tenant has a turn free, and keeps its record.
async fn run_in_turn(
    app: Arc<App>,
    tenant: Arc<Tenant>,
    pipeline: String,
    text: String,
    params: Vec<(String, String)>,
    id: String,
    cancel: CancelHandle,
) -> Arc<Value> {
    // Counted out however this ends, a panic included.
    let _unfinished = Unfinished(tenant.clone());
    let _turn = tenant.turns.acquire().await.expect("the semaphore is never closed");
    set_status(&tenant, &id, Status::Running);
    let options = app.options(&tenant, params, cancel);
    let result = match app.prepare(&tenant, &pipeline, &text, &options).await {
        Ok((prepared, _)) => {
            let record = app.runner.run(&prepared, &options, &mut |_| {}).await;
            // The record is all a tenant gets back: the run's artifacts are not kept on disk.
            let _ = std::fs::remove_dir_all(options.run_dir.join(&record.run_id));
            serde_json::to_value(&record).unwrap_or_else(|e| json!({"state": "error", "error": e.to_string()}))
        }
        Err(problems) => json!({"state": "invalid", "errors": problems}),
    };
    let mut record = result;
    record["service_run"] = json!(id);
    let record = Arc::new(record);
    let mut runs = tenant.runs.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(run) = runs.by_id.get_mut(&id) {
        run.status = Status::Finished(record.clone());
    }
    forget_old(&mut runs, app.config.records_kept);
    record
}

/// Counts a run out of its tenant's unfinished runs when dropped.
struct Unfinished(Arc<Tenant>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        self.0.runs.lock().unwrap_or_else(PoisonError::into_inner).unfinished -= 1;
    }
}

fn set_status(tenant: &Tenant, id: &str, status: Status) {
    if let Some(run) = tenant.runs.lock().unwrap_or_else(PoisonError::into_inner).by_id.get_mut(id) {
        run.status = status;
    }
}

/// Forgets the oldest finished runs past `kept`.
fn forget_old(runs: &mut Runs, kept: usize) {
    let finished = |runs: &Runs, id: &str| matches!(runs.by_id.get(id).map(|r| &r.status), Some(Status::Finished(_)));
    while runs.order.len() > kept {
        let Some(position) = runs.order.iter().position(|id| finished(runs, id)) else { break };
        let id = runs.order.remove(position).expect("found");
        runs.by_id.remove(&id);
    }
}

async fn get_run(
    State(app): State<Arc<App>>,
    UrlPath((tenant, id)): UrlPath<(String, String)>,
) -> Result<Response, Refusal> {
    let tenant = app.tenant(&tenant)?;
    let runs = tenant.runs.lock().unwrap_or_else(PoisonError::into_inner);
    let run = runs.get(&id)?;
    Ok(match &run.status {
        Status::Queued => (StatusCode::ACCEPTED, Json(json!({"run": id, "state": "queued"}))).into_response(),
        Status::Running => (StatusCode::ACCEPTED, Json(json!({"run": id, "state": "running"}))).into_response(),
        Status::Finished(record) => (StatusCode::OK, Json(record.as_ref().clone())).into_response(),
    })
}

async fn cancel_run(
    State(app): State<Arc<App>>,
    UrlPath((tenant, id)): UrlPath<(String, String)>,
) -> Result<Response, Refusal> {
    let tenant = app.tenant(&tenant)?;
    let runs = tenant.runs.lock().unwrap_or_else(PoisonError::into_inner);
    let run = runs.get(&id)?;
    run.cancel.cancel("DELETE");
    Ok((StatusCode::ACCEPTED, Json(json!({"run": id, "cancelled": true}))).into_response())
}

async fn get_kv(State(app): State<Arc<App>>, UrlPath(tenant): UrlPath<String>) -> Result<Json<Value>, Refusal> {
    let tenant = app.tenant(&tenant)?;
    Ok(Json(json!(tenant.store.snapshot())))
}

//! Loading components: read, compile, link against the sandbox's imports, call `describe` once
//! (in a sandbox with default limits), and keep the result ([`LoadedComponent`]). A load failure
//! becomes a [`LoadError`] that says what is wrong and what to do.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use wasmtime::Engine;
use wasmtime::component::{ComponentExportIndex, Linker};
use wasmtime_wasi::p2::bindings::CommandPre;

use super::capture::Capture;
use super::compiled_cache::{Compiled, CompiledCache, Origin};
use super::engine::{self, EngineKind};
use super::host_interfaces::HostInterfaces;
use super::sandbox::{self, HostState};
use super::wit::{COMPONENT_INTERFACE, TaskPre, types, v0_1};
use super::wit_compat::Convert;
use super::wit_value::signature_from_wit;
use crate::model::CommandSpec;
use crate::model::component::{ComponentSource, LoadError, Signature};
use crate::model::files::{MAX_COMPONENT_BYTES, read_regular};
use crate::model::policy::Limits;

/// A loaded component: compiled, linked, described.
pub struct LoadedComponent {
    /// The file it came from.
    pub path: PathBuf,
    /// The engine it was compiled for, which its stores must use.
    pub engine: Engine,
    /// Which kind of engine that is.
    pub kind: EngineKind,
    /// The blake3 hash of the component's bytes (hex), part of the output cache's keys.
    pub digest: String,
    /// Ready to instantiate, once per attempt.
    pub pre: Pre,
    /// Its inputs and outputs.
    pub signature: Signature,
    /// For a WASI command: its arguments, environment and where its outputs come from.
    pub command: Option<CommandSpec>,
    /// The interfaces a component imports, as it names them (`acme:host/kv@0.1.0`); empty for
    /// a core module, and for a component answered from the signature cache.
    pub imports: Vec<String>,
}

/// A compiled and linked component, ready to instantiate.
pub enum Pre {
    /// A wasmpipe task component (the `wasmpipe:pipeline/task` world), and the index of its
    /// `run` export, type-checked once when `describe` was called.
    Task(TaskBindings, ComponentExportIndex),
    /// A WASI preview-2 command component (exports `wasi:cli/run`).
    Command(CommandPre<HostState>),
    /// A WASI preview-1 command module (exports `_start`).
    Module(wasmtime::InstancePre<HostState>),
    /// A task component checked from the cache and not linked ([`Loader::check_source`]): only
    /// its signature is known. Never run.
    Unlinked,
}

/// A task component ready to instantiate, by the version of the world it implements.
pub enum TaskBindings {
    /// `wasmpipe:pipeline@0.2.0`, the current version.
    Current(TaskPre<HostState>),
    /// `wasmpipe:pipeline@0.1.0`: values cross through `wit_compat.rs`.
    V0_1(v0_1::TaskPre<HostState>),
}

impl TaskBindings {
    /// The component, linked and ready to instantiate.
    pub fn instance_pre(&self) -> &wasmtime::component::InstancePre<HostState> {
        match self {
            TaskBindings::Current(pre) => pre.instance_pre(),
            TaskBindings::V0_1(pre) => pre.instance_pre(),
        }
    }
}

/// Loads components and keeps each one loaded (or its load error) for the life of the loader.
pub struct Loader {
    engine: Engine,
    kind: EngineKind,
    disk: Option<CompiledCache>,
    /// How many components this loader compiled, and how many it loaded from the disk cache.
    compiled: AtomicUsize,
    from_cache: AtomicUsize,
    /// Links components; built on first use (a check answered from the cache needs none).
    linker: std::sync::OnceLock<Linker<HostState>>,
    /// Links preview-1 command modules; built on first use (most pipelines have none).
    module_linker: std::sync::OnceLock<wasmtime::Linker<HostState>>,
    cache: Mutex<HashMap<SourceKey, Result<Arc<LoadedComponent>, LoadError>>>,
    /// The embedder's host interfaces, in the linker of components.
    host: HostInterfaces,
}

/// What a loaded component is kept under: its file, and its command spec if any.
type SourceKey = (PathBuf, Option<String>);

impl Loader {
    /// A loader for the shared engine of `kind`, with compiled components cached in `disk`.
    pub fn new(kind: EngineKind, disk: Option<CompiledCache>) -> anyhow::Result<Loader> {
        Loader::with_host(kind, disk, HostInterfaces::new())
    }

    /// A loader whose components may import the embedder's `host` interfaces too.
    pub fn with_host(kind: EngineKind, disk: Option<CompiledCache>, host: HostInterfaces) -> anyhow::Result<Loader> {
        let engine = engine::shared_engine(kind)?;
        Ok(Loader {
            engine,
            kind,
            disk,
            compiled: AtomicUsize::new(0),
            from_cache: AtomicUsize::new(0),
            linker: std::sync::OnceLock::new(),
            module_linker: std::sync::OnceLock::new(),
            cache: Mutex::new(HashMap::new()),
            host,
        })
    }

    /// How many components this loader has compiled, and how many it loaded from disk.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.compiled.load(Ordering::Relaxed), self.from_cache.load(Ordering::Relaxed))
    }

    /// Loads the component at `path` (a wasmpipe component), or returns what was found wrong
    /// with it the first time.
    pub async fn load(&self, path: &Path) -> Result<Arc<LoadedComponent>, LoadError> {
        self.load_source(&ComponentSource { path: path.to_path_buf(), command: None }).await
    }

    /// Loads a component or a WASI command, or returns what was found wrong with it the first
    /// time.
    pub(crate) async fn load_source(&self, source: &ComponentSource) -> Result<Arc<LoadedComponent>, LoadError> {
        let key = source.key();
        if let Some(hit) = self.cache.lock().unwrap().get(&key) {
            return hit.clone();
        }
        let result = self.load_uncached(source).await.map(Arc::new);
        self.cache.lock().unwrap().insert(key, result.clone());
        result
    }

    /// What a check needs of a component: its signature, and whether it loads. A task component
    /// whose signature the disk cache keeps (stored by this version of wasmpipe after it compiled,
    /// linked and described the same bytes on an engine of this configuration) is answered from
    /// the cache, unlinked ([`Pre::Unlinked`]); anything else is loaded in full.
    pub(crate) async fn check_source(&self, source: &ComponentSource) -> Result<Arc<LoadedComponent>, LoadError> {
        if let Some(hit) = self.cache.lock().unwrap().get(&source.key()) {
            return hit.clone();
        }
        // Which host interfaces a component imports is known only from loading it.
        if source.command.is_none()
            && self.host.names().next().is_none()
            && let Ok(bytes) = read_binary(&source.path)
            && binary_layer(&bytes, &source.path) == Ok(Layer::Component)
        {
            let digest = blake3::hash(&bytes).to_hex().to_string();
            if let Some(signature) = self.cached_signature(&digest) {
                self.from_cache.fetch_add(1, Ordering::Relaxed);
                return Ok(Arc::new(LoadedComponent {
                    path: source.path.clone(),
                    engine: self.engine.clone(),
                    kind: self.kind,
                    digest,
                    pre: Pre::Unlinked,
                    signature,
                    command: None,
                    imports: Vec::new(),
                }));
            }
        }
        self.load_source(source).await
    }

    fn compile<T: Compiled>(&self, bytes: &[u8], digest: &str, path: &Path) -> Result<T, LoadError> {
        let compiled = match &self.disk {
            Some(disk) => disk.load_or_compile(&self.engine, bytes, digest),
            None => T::new(&self.engine, bytes).map(|c| (c, Origin::Compiled)),
        };
        let (compiled, origin) = compiled.map_err(|e| LoadError {
            message: format!("component `{}` does not compile: {e:#}", path.display()),
            in_describe: false,
        })?;
        match origin {
            Origin::Compiled => self.compiled.fetch_add(1, Ordering::Relaxed),
            Origin::Cached => self.from_cache.fetch_add(1, Ordering::Relaxed),
        };
        Ok(compiled)
    }

    async fn load_uncached(&self, source: &ComponentSource) -> Result<LoadedComponent, LoadError> {
        let path = &source.path;
        let shown = path.display();
        let fail = |message: String| LoadError { message, in_describe: false };
        let bytes = read_binary(path).map_err(fail)?;
        let digest = blake3::hash(&bytes).to_hex().to_string();
        let layer = binary_layer(&bytes, path).map_err(fail)?;
        let done = |pre: Pre, signature: Signature, imports: Vec<String>| LoadedComponent {
            path: path.to_path_buf(),
            engine: self.engine.clone(),
            kind: self.kind,
            digest: digest.clone(),
            pre,
            signature,
            command: source.command.clone(),
            imports,
        };
        let imports_of = |component: &wasmtime::component::Component| -> Vec<String> {
            component.component_type().imports(&self.engine).map(|(name, _)| name.to_string()).collect()
        };
        let missing_import = |e: wasmtime::Error, what: &str| {
            fail(format!("component `{shown}` needs an import that wasmpipe does not provide ({e:#}); {what}"))
        };
        match (&source.command, layer) {
            (None, Layer::Module) => Err(fail(format!(
                "`{shown}` is a core WebAssembly module, not a component: build it for wasm32-wasip2 (`cargo build --target wasm32-wasip2`) or wrap it with `wasm-tools component new`; a plain WASI command runs when the pipeline declares it with `command:`"
            ))),
            (Some(spec), Layer::Module) => {
                let module: wasmtime::Module = self.compile(&bytes, &digest, path)?;
                if module.get_export("_start").is_none() {
                    return Err(fail(format!(
                        "`{shown}` is a core module without a `_start` export: a command module needs one (build a WASI command, not a library)"
                    )));
                }
                let pre = self
                    .module_linker()
                    .map_err(|e| fail(format!("cannot link `{shown}`: {e:#}")))?
                    .instantiate_pre(&module)
                    .map_err(|e| missing_import(e, "commands may import WASI preview 1 only"))?;
                Ok(done(Pre::Module(pre), Signature::of_command(spec), Vec::new()))
            }
            (Some(spec), Layer::Component) => {
                let component: wasmtime::component::Component = self.compile(&bytes, &digest, path)?;
                let imports = imports_of(&component);
                let pre = self
                    .linker()
                    .map_err(|e| fail(format!("cannot link `{shown}`: {e:#}")))?
                    .instantiate_pre(&component)
                    .map_err(|e| missing_import(e, "commands may import WASI 0.2 only"))?;
                let pre = CommandPre::new(pre).map_err(|e| {
                    fail(format!("component `{shown}` is not a WASI command: it must export `wasi:cli/run` ({e:#})"))
                })?;
                Ok(done(Pre::Command(pre), Signature::of_command(spec), imports))
            }
            (None, Layer::Component) => {
                let component: wasmtime::component::Component = self.compile(&bytes, &digest, path)?;
                let imports = imports_of(&component);
                let pre = self
                    .linker()
                    .map_err(|e| fail(format!("cannot link `{shown}`: {e:#}")))?
                    .instantiate_pre(&component)
                    .map_err(|e| missing_import(e, &self.may_import()))?;
                // The current version of the world, else 0.1.0 (`wit_compat.rs`).
                let (pre, interface) = match TaskPre::new(pre.clone()) {
                    Ok(current) => (TaskBindings::Current(current), COMPONENT_INTERFACE),
                    Err(e) => match v0_1::TaskPre::new(pre) {
                        Ok(old) => (TaskBindings::V0_1(old), v0_1::COMPONENT_INTERFACE),
                        Err(_) => {
                            return Err(fail(format!(
                                "component `{shown}` does not implement the wasmpipe:pipeline/task world: it must export `{COMPONENT_INTERFACE}` (or `{}` of an earlier version) ({e:#}); build it with the wasmpipe guest SDK or against wit/pipeline.wit, or declare it as a WASI command with `command:`",
                                v0_1::COMPONENT_INTERFACE
                            )));
                        }
                    },
                };
                let signature = match self.cached_signature(&digest) {
                    Some(signature) => signature,
                    None => {
                        let signature = self.describe(&pre, &shown).await?;
                        if let Some(disk) = &self.disk {
                            disk.store_signature(&self.engine, &digest, self.kind, &signature);
                        }
                        signature
                    }
                };
                // The bindings' loader (`TaskPre::new`) type-checked every export (`run`
                // included) of this component; attempts then look `run` up by index.
                let run = component
                    .get_export_index(None, interface)
                    .and_then(|iface| component.get_export_index(Some(&iface), "run"))
                    .ok_or_else(|| fail(format!("component `{shown}` has no `run` export")))?;
                Ok(done(Pre::Task(pre, run), signature, imports))
            }
        }
    }
}

impl Loader {
    /// The linker of components.
    fn linker(&self) -> anyhow::Result<&Linker<HostState>> {
        built_once(&self.linker, || {
            let mut linker = sandbox::linker(&self.engine)?;
            self.host.add_to(&mut linker)?;
            Ok(linker)
        })
    }

    /// What a task component may import, for the error of one that imports something else.
    fn may_import(&self) -> String {
        let host: Vec<String> = self.host.names().map(|n| format!(", {n}")).collect();
        format!("components may import WASI 0.2, wasmpipe:pipeline/host{} only", host.concat())
    }

    /// The linker of preview-1 command modules.
    fn module_linker(&self) -> anyhow::Result<&wasmtime::Linker<HostState>> {
        built_once(&self.module_linker, || sandbox::module_linker(&self.engine))
    }

    /// The signature the disk cache keeps for the component `digest` on this loader's engine.
    fn cached_signature(&self, digest: &str) -> Option<Signature> {
        self.disk.as_ref()?.signature(&self.engine, digest, self.kind)
    }

    /// Calls the component's `describe` and checks what it returns.
    async fn describe(&self, pre: &TaskBindings, shown: &std::path::Display<'_>) -> Result<Signature, LoadError> {
        let fail = |message: String| LoadError { message, in_describe: false };
        let signature = describe(&self.engine, self.kind.fuel, pre).await.map_err(|e| LoadError {
            message: format!("component `{shown}` failed in `describe`: {e}"),
            in_describe: true,
        })?;
        check_describe_size(&signature)
            .map_err(|e| fail(format!("component `{shown}` describes itself too big: {e}")))?;
        signature_from_wit(signature).map_err(|e| fail(format!("component `{shown}` describes itself wrongly: {e}")))
    }
}

/// What `cell` holds, built by `build` the first time (a failed build is tried again next time).
fn built_once<T>(cell: &std::sync::OnceLock<T>, build: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<&T> {
    if let Some(value) = cell.get() {
        return Ok(value);
    }
    let value = build()?;
    Ok(cell.get_or_init(|| value))
}

/// Calls `describe` in a fresh sandbox with the default limits.
async fn describe(engine: &Engine, fuel: bool, pre: &TaskBindings) -> Result<types::Signature, String> {
    let limits = Limits::default();
    let mut store = sandbox::new_store(engine, &limits, &Default::default(), fuel, Capture::new(limits.output))?;
    let call = async {
        match pre {
            TaskBindings::Current(pre) => {
                let task = pre.instantiate_async(&mut store).await?;
                task.wasmpipe_pipeline_component().call_describe(&mut store).await
            }
            TaskBindings::V0_1(pre) => {
                let task = pre.instantiate_async(&mut store).await?;
                Ok(task.wasmpipe_pipeline_component().call_describe(&mut store).await?.convert())
            }
        }
    };
    match tokio::time::timeout(limits.timeout, call).await {
        Ok(Ok(signature)) => Ok(signature),
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(_) => Err(format!("it did not return within {:?}", limits.timeout)),
    }
}

/// The most inputs and outputs a component may describe.
pub(crate) const MAX_PORTS: usize = 1000;

/// The most bytes of text (names, descriptions, default values) a component's `describe` may
/// return.
pub(crate) const MAX_DESCRIBE_BYTES: u64 = 1 << 20;

/// Refuses a signature with more than [`MAX_PORTS`] ports or more than [`MAX_DESCRIBE_BYTES`] of
/// text: `describe` runs for every load and its result lives as long as the run, so a hostile
/// component must not make it big.
fn check_describe_size(signature: &types::Signature) -> Result<(), String> {
    let ports = signature.inputs.len() + signature.outputs.len();
    if ports > MAX_PORTS {
        return Err(format!("{ports} inputs and outputs, over the limit of {MAX_PORTS}"));
    }
    let value_bytes = |v: &types::Value| {
        v.nodes
            .iter()
            .map(|n| match n {
                types::Node::Str(s) => s.len() as u64 + 8,
                types::Node::DictOf(entries) => entries.iter().map(|(k, _)| k.len() as u64 + 8).sum::<u64>() + 8,
                types::Node::ListOf(items) => items.len() as u64 * 4 + 8,
                _ => 8,
            })
            .sum::<u64>()
    };
    let port_type_bytes = |t: &types::PortType| match t {
        types::PortType::Artifact(a) => a.kind.len() as u64,
        _ => 0,
    };
    let bytes = signature.name.len() as u64
        + signature.description.len() as u64
        + signature
            .inputs
            .iter()
            .map(|i| {
                (i.name.len() + i.description.len()) as u64
                    + port_type_bytes(&i.type_)
                    + i.default.as_ref().map_or(0, value_bytes)
            })
            .sum::<u64>()
        + signature
            .outputs
            .iter()
            .map(|o| (o.name.len() + o.description.len()) as u64 + port_type_bytes(&o.type_))
            .sum::<u64>();
    if bytes > MAX_DESCRIBE_BYTES {
        return Err(format!(
            "about {bytes} bytes of names, descriptions and defaults, over the limit of {MAX_DESCRIBE_BYTES}"
        ));
    }
    Ok(())
}

/// Reads a component file; a `.wat` file is parsed from the text format (as the wasmtime CLI
/// accepts it) into binary, so digests and the compile cache see the binary.
fn read_binary(path: &Path) -> Result<Vec<u8>, String> {
    let shown = path.display();
    let bytes = read_regular(path, "component", MAX_COMPONENT_BYTES)
        .map_err(|e| format!("{e}; build the component, or fix its `path` in the pipeline"))?;
    if bytes.starts_with(b"\0asm") || path.extension().is_none_or(|e| e != "wat") {
        return Ok(bytes);
    }
    wat::parse_bytes(&bytes).map(|b| b.into_owned()).map_err(|mut e| {
        e.set_path(path);
        format!("`{shown}` is not valid WebAssembly text: {e}")
    })
}

/// Whether a binary is a component or a core module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    Component,
    Module,
}

/// Tells apart a component, a core module and other files, with a message for each kind that
/// cannot be used.
fn binary_layer(bytes: &[u8], path: &Path) -> Result<Layer, String> {
    let shown = path.display();
    if bytes.starts_with(b"\0asm") {
        return match bytes.get(4..8) {
            Some([0x0d, 0x00, 0x01, 0x00]) => Ok(Layer::Component),
            Some([0x01, 0x00, 0x00, 0x00]) => Ok(Layer::Module),
            _ => Err(format!(
                "`{shown}` is WebAssembly of an unknown version or layer; rebuild it with a current toolchain"
            )),
        };
    }
    if bytes.is_empty() {
        return Err(format!("`{shown}` is empty: rebuild the component"));
    }
    Err(format!(
        "`{shown}` is not a WebAssembly component (it does not start with `\\0asm`); point the pipeline at the `.wasm` file the build produces"
    ))
}

impl AsRef<Signature> for LoadedComponent {
    fn as_ref(&self) -> &Signature {
        &self.signature
    }
}

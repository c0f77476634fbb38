//! Runs one attempt of one task in wasmtime: a fresh store from the component's cached
//! `InstancePre`, one call of `run`, and a verdict: typed outputs, or a [`Failure`] of the
//! right kind. A trapped store is dropped with the attempt and never entered again.

use super::attempt_dirs::AttemptDirs;
use super::capture::Capture;
use super::command;
use super::loader::{LoadedComponent, Pre, TaskBindings};
use super::sandbox::{self, Access, AttemptPolicy, HostState};
use super::verdict::{self, AttemptOutcome};
use super::wit::{types, v0_1};
use super::wit_compat::Convert;
use crate::model::outcome::{Failure, FailureKind};
use wasmtime::component::{ComponentType, Lift, Lower};

/// Runs `component` once with `inputs` under `policy`, writing its output to `capture`.
/// `dirs` holds the attempt's artifact directories, when it has artifact inputs or outputs;
/// output artifacts are checked there (the caller publishes them).
pub async fn run_attempt(
    component: &LoadedComponent,
    ctx: types::Context,
    inputs: &[(String, types::InputValue)],
    policy: AttemptPolicy<'_>,
    dirs: Option<&AttemptDirs>,
    capture: Capture,
) -> AttemptOutcome {
    let AttemptPolicy { limits, grants, run_data } = policy;
    let (pre, run) = match &component.pre {
        Pre::Task(pre, run) => (pre, run),
        Pre::Command(_) | Pre::Module(_) => {
            return command::run_attempt(component, inputs, policy, dirs, capture).await;
        }
        Pre::Unlinked => unreachable!("a component loaded for a check is never run"),
    };
    let access = Access {
        grants: Some(grants),
        preopens: dirs.map(AttemptDirs::preopens).unwrap_or_default(),
        run_data,
        ..Access::default()
    };
    let mut store = match sandbox::new_store(&component.engine, limits, &access, component.kind.fuel, capture.clone()) {
        Ok(store) => store,
        Err(message) => {
            return AttemptOutcome { result: Err(Failure::new(FailureKind::Input, message)), logs: Vec::new() };
        }
    };
    let call = async {
        let instance = pre.instance_pre().instantiate_async(&mut store).await?;
        match pre {
            TaskBindings::Current(_) => call_run(&mut store, &instance, run, &ctx, inputs).await,
            TaskBindings::V0_1(_) => {
                let ctx: v0_1::types::Context = ctx.clone().convert();
                let inputs: Vec<(String, v0_1::types::InputValue)> = inputs.to_vec().convert();
                let result =
                    call_run::<_, _, v0_1::types::OutputValue>(&mut store, &instance, run, &ctx, &inputs).await?;
                Ok(result.map(Convert::convert))
            }
        }
    };
    // A spinning guest yields at every epoch tick and a blocked one awaits a host future, so the
    // timer fires in both cases and dropping the call stops the guest.
    let called = tokio::time::timeout(limits.timeout, call).await;
    let logs = capture.lines();
    let result = match called {
        Err(_elapsed) => Err(verdict::timeout(limits)),
        Ok(Err(error)) => Err(verdict::classify(&error, &store.data().limiter, limits, &logs)),
        Ok(Ok(Err(message))) => Err(Failure::new(FailureKind::Error, message)),
        Ok(Ok(Ok(outputs))) => verdict::check_outputs(component, outputs, dirs, limits),
    };
    AttemptOutcome { result, logs }
}

/// Calls `run` of a task component instance, with the types of the version of the world it
/// implements (`C`, `I`, `O`: its context, input and output values). The bindings' own path
/// type-checks every export on every instantiation (4% of a short task's cost); the loader
/// checked them once, when it called `describe` through the bindings of that version, and a
/// component's types never change.
async fn call_run<'a, C, I, O>(
    store: &mut wasmtime::Store<HostState>,
    instance: &wasmtime::component::Instance,
    run: &wasmtime::component::ComponentExportIndex,
    ctx: &'a C,
    inputs: &'a [(String, I)],
) -> wasmtime::Result<Result<Vec<(String, O)>, String>>
where
    C: ComponentType + Lower + Sync,
    I: ComponentType + Lower + Sync,
    O: ComponentType + Lift + Send + Sync + 'static,
{
    let func =
        instance.get_func(&mut *store, run).ok_or_else(|| wasmtime::format_err!("the instance has no `run` export"))?;
    // SAFETY: `run` of this component was type-checked against exactly these types by the
    // bindings of its version when the loader called `describe` (the bindings' `new` checks
    // every export), and `run_attempt` picks `C`, `I` and `O` of that same version.
    let typed = unsafe {
        wasmtime::component::TypedFunc::<(&'a C, &'a [(String, I)]), (Result<Vec<(String, O)>, String>,)>::new_unchecked(
            func,
        )
    };
    let (result,) = typed.call_async(&mut *store, (ctx, inputs)).await?;
    Ok(result)
}

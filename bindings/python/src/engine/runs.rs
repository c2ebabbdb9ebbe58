//! Runs: start (async or blocking), resume, regenerate, approve, reject,
//! stop, report. Async custom nodes run on the caller's event loop, which is
//! registered under the execution's id before the run launches.

use std::future::Future;
use std::sync::Arc;

use lekhika_core::exec::EngineError;
use lekhika_core::store::ExecutionStatus;
use lekhika_core::{RunHandle, RunOptions};
use pyo3::prelude::*;

use super::{Lekhika, LOCAL};
use crate::convert::Json;
use crate::errors;
use crate::outcome::RunOutcome;
use crate::run::{block_until_done, Run};

type Lk = Arc<lekhika::Lekhika>;

/// The event loop of the coroutine being run (call inside `aio::spawn` futures).
fn current_loop() -> PyResult<(pyo3_async_runtimes::TaskLocals, Py<PyAny>)> {
    Python::attach(|py| {
        let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
        let event_loop = locals.event_loop(py).unbind();
        Ok((locals, event_loop))
    })
}

impl Lekhika {
    /// Validate now; the returned future records the execution and launches
    /// it with the caller's event loop registered for async custom nodes.
    fn starting(
        &self,
        flow: &Bound<'_, PyAny>,
        input: Option<&Bound<'_, PyAny>>,
        user: String,
        opts: RunOptions,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<impl Future<Output = PyResult<Run>> + Send + 'static> {
        let doc = self.checked(flow, &opts)?;
        let input = crate::convert::input(input)?;
        let (lk, loops) = (self.inner.clone(), self.loops.clone());
        Ok(async move {
            let (locals, event_loop) = current_loop()?;
            let rec = lk
                .engine
                .create(&user, &doc, &input, &opts, ExecutionStatus::Running)
                .await
                .map_err(errors::from_engine)?;
            loops.insert(&rec.id, event_loop);
            match lk.engine.resume(&user, &rec.id).await {
                Ok(h) => Ok(Run::launch(h, loops, on_event, Some(locals))),
                Err(e) => {
                    loops.remove(&rec.id);
                    Err(errors::from_engine(e))
                }
            }
        })
    }

    /// Launch with `make` on the caller's event loop; resolves to a `Run`.
    fn launch<'py, F, Fut>(
        &self,
        py: Python<'py>,
        id: String,
        on_event: Option<Py<PyAny>>,
        make: F,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: FnOnce(Lk) -> Fut + Send + 'static,
        Fut: Future<Output = Result<RunHandle, EngineError>> + Send + 'static,
    {
        let (lk, loops) = (self.inner.clone(), self.loops.clone());
        crate::aio::spawn(py, async move {
            let (locals, event_loop) = current_loop()?;
            loops.insert(&id, event_loop);
            match make(lk).await {
                Ok(h) => Ok(Run::launch(h, loops, on_event, Some(locals))),
                Err(e) => {
                    loops.remove(&id);
                    Err(errors::from_engine(e))
                }
            }
        })
    }
}

#[pymethods]
impl Lekhika {
    /// Start a run (a coroutine resolving to a `Run`). Inputs are checked
    /// against the flow's input form; the user's tier is checked.
    #[pyo3(signature = (flow, input = None, *, user = LOCAL.to_string(), provider = None, model = None, max_concurrency = None, execution_id = None, models = None, on_event = None))]
    #[allow(clippy::too_many_arguments)]
    fn start<'py>(
        &self,
        py: Python<'py>,
        flow: &Bound<'py, PyAny>,
        input: Option<&Bound<'py, PyAny>>,
        user: String,
        provider: Option<String>,
        model: Option<String>,
        max_concurrency: Option<usize>,
        execution_id: Option<String>,
        models: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = self.options(provider, model, max_concurrency, execution_id, models)?;
        let fut = self.starting(flow, input, user, opts, on_event)?;
        crate::aio::spawn(py, fut)
    }

    /// Start a run and wait for it (a coroutine resolving to a `RunOutcome`).
    /// Events go to `on_event` (sync or async). With `check=True` (the
    /// default) a run that did not complete raises its `RunError`.
    /// Cancelling the awaiting task stops the run.
    #[pyo3(signature = (flow, input = None, *, user = LOCAL.to_string(), provider = None, model = None, max_concurrency = None, execution_id = None, models = None, on_event = None, check = true))]
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &self,
        py: Python<'py>,
        flow: &Bound<'py, PyAny>,
        input: Option<&Bound<'py, PyAny>>,
        user: String,
        provider: Option<String>,
        model: Option<String>,
        max_concurrency: Option<usize>,
        execution_id: Option<String>,
        models: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
        check: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = self.options(provider, model, max_concurrency, execution_id, models)?;
        let fut = self.starting(flow, input, user, opts, on_event)?;
        crate::aio::spawn(py, async move { fut.await?.state.wait(check).await })
    }

    /// `run`, blocking: the GIL is released while the engine works;
    /// `on_event` is called from engine threads (keep it quick); Ctrl-C stops the run.
    #[pyo3(signature = (flow, input = None, *, user = LOCAL.to_string(), provider = None, model = None, max_concurrency = None, execution_id = None, models = None, on_event = None, check = true))]
    #[allow(clippy::too_many_arguments)]
    fn run_blocking(
        &self,
        py: Python<'_>,
        flow: &Bound<'_, PyAny>,
        input: Option<&Bound<'_, PyAny>>,
        user: String,
        provider: Option<String>,
        model: Option<String>,
        max_concurrency: Option<usize>,
        execution_id: Option<String>,
        models: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
        check: bool,
    ) -> PyResult<RunOutcome> {
        let opts = self.options(provider, model, max_concurrency, execution_id, models)?;
        let doc = self.checked(flow, &opts)?;
        let input = crate::convert::input(input)?;
        let lk = self.inner.clone();
        let handle = crate::aio::block_on(py, lk.engine.start(&user, &doc, &input, &opts))
            .map_err(errors::from_engine)?;
        let run = Run::launch(handle, self.loops.clone(), on_event, None);
        block_until_done(py, &run.state, check)
    }

    /// Continue a paused, stopped or failed execution; only unfinished work runs.
    #[pyo3(signature = (execution_id, *, user = LOCAL.to_string(), on_event = None))]
    fn resume<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        user: String,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = execution_id.clone();
        self.launch(py, id, on_event, move |lk| async move {
            lk.engine.resume(&user, &execution_id).await
        })
    }

    /// Re-run `node` and everything downstream, with an extra instruction.
    #[pyo3(signature = (execution_id, node, instruction = None, *, user = LOCAL.to_string(), on_event = None))]
    fn regenerate<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        node: String,
        instruction: Option<String>,
        user: String,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = execution_id.clone();
        self.launch(py, id, on_event, move |lk| async move {
            lk.engine
                .regenerate(&user, &execution_id, &node, instruction.as_deref())
                .await
        })
    }

    /// Approve the output waiting at approval gate `node` (optionally edited) and continue.
    #[pyo3(signature = (execution_id, node, edited = None, *, user = LOCAL.to_string(), on_event = None))]
    fn approve<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        node: String,
        edited: Option<&Bound<'py, PyAny>>,
        user: String,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let edited = edited
            .filter(|e| !e.is_none())
            .map(crate::convert::py_to_value)
            .transpose()?;
        let id = execution_id.clone();
        self.launch(py, id, on_event, move |lk| async move {
            lk.engine.approve(&user, &execution_id, &node, edited).await
        })
    }

    /// Reject the output at gate `node`: the reviewed node is regenerated with `instruction`.
    #[pyo3(signature = (execution_id, node, instruction, *, user = LOCAL.to_string(), on_event = None))]
    fn reject<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        node: String,
        instruction: String,
        user: String,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let id = execution_id.clone();
        self.launch(py, id, on_event, move |lk| async move {
            lk.engine
                .reject(&user, &execution_id, &node, &instruction)
                .await
        })
    }

    /// Ask a run to stop wherever it runs (this process or another), through the store.
    #[pyo3(signature = (execution_id, *, user = LOCAL.to_string()))]
    fn stop<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        user: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            lk.engine
                .stop(&user, &execution_id)
                .await
                .map_err(errors::from_engine)
        })
    }

    /// Status and analytics: per-node timings, usage, cost, attempts; totals per provider.
    #[pyo3(signature = (execution_id, *, user = LOCAL.to_string()))]
    fn report<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        user: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let r = lk
                .engine
                .report(&user, &execution_id)
                .await
                .map_err(errors::from_engine)?;
            Ok(Json(serde_json::to_value(r).unwrap_or_default()))
        })
    }

    /// `report`, blocking.
    #[pyo3(signature = (execution_id, *, user = LOCAL.to_string()))]
    fn report_blocking(
        &self,
        py: Python<'_>,
        execution_id: String,
        user: String,
    ) -> PyResult<Json> {
        let lk = self.inner.clone();
        let r = crate::aio::block_on(py, lk.engine.report(&user, &execution_id))
            .map_err(errors::from_engine)?;
        Ok(Json(serde_json::to_value(r).unwrap_or_default()))
    }
}

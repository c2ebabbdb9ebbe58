//! Runs: start (async or blocking), resume, regenerate, approve, reject,
//! stop, report. Async custom nodes run on the caller's event loop, which is
//! registered under the execution's id before the run launches.

use std::future::Future;
use std::sync::Arc;

use lekhika::{LekhikaError, RunRequest};
use lekhika_core::store::ExecutionStatus;
use lekhika_core::RunHandle;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use super::{Lekhika, LOCAL};
use crate::convert::{request, Json};
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
    /// The returned future starts the run with the caller's event loop
    /// registered (under the execution's id, chosen now) for async custom nodes.
    fn starting(
        &self,
        mut req: RunRequest,
        on_event: Option<Py<PyAny>>,
    ) -> impl Future<Output = PyResult<Run>> + Send + 'static {
        let id = req.ensure_id().to_string();
        let lk = self.inner.clone();
        self.launching(id, on_event, move || async move { lk.start(req).await })
    }

    /// A future that registers the caller's event loop under `id`, then
    /// launches with `make` and resolves to a `Run`.
    fn launching<F, Fut>(
        &self,
        id: String,
        on_event: Option<Py<PyAny>>,
        make: F,
    ) -> impl Future<Output = PyResult<Run>> + Send + 'static
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<RunHandle, LekhikaError>> + Send + 'static,
    {
        let loops = self.loops.clone();
        async move {
            let (locals, event_loop) = current_loop()?;
            loops.insert(&id, event_loop);
            match make().await {
                Ok(h) => Ok(Run::launch(h, loops, on_event, Some(locals))),
                Err(e) => {
                    loops.remove(&id);
                    Err(errors::from_lekhika(e))
                }
            }
        }
    }

    /// [`Self::launching`], spawned as a coroutine.
    fn launch<'py, F, Fut>(
        &self,
        py: Python<'py>,
        id: String,
        on_event: Option<Py<PyAny>>,
        make: F,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        F: FnOnce(Lk) -> Fut + Send + 'static,
        Fut: Future<Output = Result<RunHandle, LekhikaError>> + Send + 'static,
    {
        let lk = self.inner.clone();
        crate::aio::spawn(py, self.launching(id, on_event, move || make(lk)))
    }
}

#[pymethods]
impl Lekhika {
    /// Start a run (a coroutine resolving to a `Run`). `options`: `user`,
    /// `provider`, `model`, `models` ({node: {provider, model}}),
    /// `max_concurrency`, `execution_id`, `engine_id`, `host`. Inputs are
    /// checked against the flow's input form, the user's tier and the
    /// providers the flow calls.
    #[pyo3(signature = (flow, input = None, *, on_event = None, **options))]
    fn start<'py>(
        &self,
        py: Python<'py>,
        flow: &Bound<'py, PyAny>,
        input: Option<&Bound<'py, PyAny>>,
        on_event: Option<Py<PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.starting(request(flow, input, options)?, on_event);
        crate::aio::spawn(py, fut)
    }

    /// Start a run and wait for it (a coroutine resolving to a `RunOutcome`).
    /// Events go to `on_event` (sync or async). With `check=True` (the
    /// default) a run that did not complete raises its `RunError`.
    /// Cancelling the awaiting task stops the run.
    #[pyo3(signature = (flow, input = None, *, on_event = None, check = true, **options))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        flow: &Bound<'py, PyAny>,
        input: Option<&Bound<'py, PyAny>>,
        on_event: Option<Py<PyAny>>,
        check: bool,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.starting(request(flow, input, options)?, on_event);
        crate::aio::spawn(py, async move { fut.await?.state.wait(check).await })
    }

    /// `run`, blocking: the GIL is released while the engine works;
    /// `on_event` is called from engine threads (keep it quick); Ctrl-C stops the run.
    #[pyo3(signature = (flow, input = None, *, on_event = None, check = true, **options))]
    fn run_blocking(
        &self,
        py: Python<'_>,
        flow: &Bound<'_, PyAny>,
        input: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
        check: bool,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<RunOutcome> {
        let req = request(flow, input, options)?;
        let lk = self.inner.clone();
        let handle = crate::aio::block_on(py, async move { lk.start(req).await })
            .map_err(errors::from_lekhika)?;
        let run = Run::launch(handle, self.loops.clone(), on_event, None);
        block_until_done(py, &run.state, check)
    }

    /// Queue a run for workers sharing the store (a coroutine resolving to its id).
    #[pyo3(signature = (flow, input = None, **options))]
    fn submit<'py>(
        &self,
        py: Python<'py>,
        flow: &Bound<'py, PyAny>,
        input: Option<&Bound<'py, PyAny>>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = request(flow, input, options)?;
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            lk.submit(req).await.map_err(errors::from_lekhika)
        })
    }

    /// Claim the next queued execution (or one whose runner died) as
    /// `worker` and run it under a lease of `lease` seconds; a coroutine
    /// resolving to its `Run`, or None when the queue is idle.
    #[pyo3(signature = (worker, *, lease = 15.0, on_event = None))]
    fn claim<'py>(
        &self,
        py: Python<'py>,
        worker: String,
        lease: f64,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lease = lekhika::lease_seconds(lease).map_err(errors::from_lekhika)?;
        let (lk, loops) = (self.inner.clone(), self.loops.clone());
        crate::aio::spawn(py, async move {
            let (locals, event_loop) = current_loop()?;
            match lk
                .claim(&worker, lease)
                .await
                .map_err(errors::from_lekhika)?
            {
                Some(h) => {
                    loops.insert(h.execution_id(), event_loop);
                    Ok(Some(Run::launch(h, loops, on_event, Some(locals))))
                }
                None => Ok(None),
            }
        })
    }

    /// Continue a paused, stopped, failed or interrupted execution: only
    /// unfinished work runs, recorded replies are replayed. Waits while
    /// another runner may be dead; raises `Busy` if a live one holds it.
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
            lk.resume(&user, &execution_id, &mut |_| {}).await
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
            lk.regenerate(&user, &execution_id, &node, instruction.as_deref())
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
            lk.approve(&user, &execution_id, &node, edited).await
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
            lk.reject(&user, &execution_id, &node, &instruction).await
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
            lk.stop(&user, &execution_id)
                .await
                .map_err(errors::from_lekhika)
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
                .report(&user, &execution_id)
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json::of(&r))
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
        let r = crate::aio::block_on(py, async move { lk.report(&user, &execution_id).await })
            .map_err(errors::from_lekhika)?;
        Ok(Json::of(&r))
    }

    /// The settings an execution was started with (what `resume` uses).
    #[pyo3(signature = (execution_id, *, user = LOCAL.to_string()))]
    fn settings<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        user: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let s = lk
                .settings(&user, &execution_id)
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json::of(&s))
        })
    }

    /// The user's executions, oldest first; with `status`, only those in it
    /// (`running`, `interrupted`, `paused`, `completed`, ...).
    #[pyo3(signature = (*, user = LOCAL.to_string(), status = None))]
    fn list_executions<'py>(
        &self,
        py: Python<'py>,
        user: String,
        status: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let status = match status {
            Some(s) => Some(ExecutionStatus::parse(&s).ok_or_else(|| {
                errors::from_lekhika(LekhikaError::InvalidArgument(format!(
                    "unknown status `{s}`"
                )))
            })?),
            None => None,
        };
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let v = lk
                .list_executions(&user, status)
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json::of(&v))
        })
    }

    /// Every live runner lease in the store, across tenants: which worker
    /// holds which execution, since when and until when (ids only).
    fn runners<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let v = lk.runners().await.map_err(errors::from_lekhika)?;
            Ok(Json::of(&v))
        })
    }

    /// The replies the user's later runs with `reuse=True` can be served
    /// from, what they cost, and how many have been reused.
    #[pyo3(signature = (*, user = LOCAL.to_string()))]
    fn reuse_stats<'py>(&self, py: Python<'py>, user: String) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let v = lk.reuse_stats(&user).await.map_err(errors::from_lekhika)?;
            Ok(Json::of(&v))
        })
    }

    /// Forget the user's reusable replies (their runs keep their journals);
    /// returns how many were reusable.
    #[pyo3(signature = (*, user = LOCAL.to_string()))]
    fn clear_reuse<'py>(&self, py: Python<'py>, user: String) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            lk.clear_reuse(&user).await.map_err(errors::from_lekhika)
        })
    }
}

//! `Run`: a running execution. Its events as an async iterator or a
//! callback, stop, and its outcome (awaitable or blocking).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lekhika_core::exec::EngineError;
use lekhika_core::{CancellationToken, Event, EventStream, RunHandle, RunOutcome as RsOutcome};
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use tokio::sync::watch;

use crate::convert::{value_to_py, Json};
use crate::errors;
use crate::loops::Loops;
use crate::outcome::RunOutcome;

/// Stops the run when dropped before being disarmed: a cancelled asyncio
/// task drops the Rust future it awaited, and that stops the run.
pub struct StopOnDrop(Option<CancellationToken>);

impl StopOnDrop {
    pub fn new(t: &CancellationToken) -> Self {
        Self(Some(t.clone()))
    }
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.cancel();
        }
    }
}

#[derive(Default)]
struct Events {
    stream: Option<EventStream>,
    /// Read ahead by `wait` (to learn how the run ended), not yet handed out.
    backlog: VecDeque<Event>,
    ended: bool,
}

type Finished = Option<Result<RsOutcome, EngineError>>;

pub struct RunState {
    id: String,
    stop: CancellationToken,
    events: tokio::sync::Mutex<Events>,
    outcome: watch::Receiver<Finished>,
    /// Events go to an `on_event` callback instead of the iterator.
    forwarded: bool,
    /// The first exception raised by `on_event`; it stopped the run.
    callback_error: Mutex<Option<PyErr>>,
    /// Set when the `on_event` forwarder has delivered its last event.
    forwarder_done: watch::Sender<bool>,
}

/// A running (or finished) execution.
///
/// `async for event in run` yields event dicts; `await run.wait()` gives the
/// `RunOutcome`. Awaiting either ties the run to the awaiting asyncio task:
/// cancelling that task stops the run (finished work is kept; `resume`
/// continues). Use `asyncio.shield` to await without that tie.
#[pyclass(module = "lekhika", frozen)]
pub struct Run {
    pub state: Arc<RunState>,
}

impl Run {
    /// Take over a started run. With `on_event`, a task forwards every event
    /// to it (async callbacks are awaited on `locals`' event loop).
    pub fn launch(
        mut handle: RunHandle,
        loops: Loops,
        on_event: Option<Py<PyAny>>,
        locals: Option<TaskLocals>,
    ) -> Self {
        let rt = pyo3_async_runtimes::tokio::get_runtime();
        let id = handle.execution_id().to_string();
        let stop = handle.stop_token();
        let stream = handle.events();
        let (tx, rx) = watch::channel(None);
        let done_id = id.clone();
        rt.spawn(async move {
            let outcome = handle.wait().await;
            loops.remove(&done_id);
            let _ = tx.send(Some(outcome));
        });
        let state = Arc::new(RunState {
            id,
            stop,
            events: tokio::sync::Mutex::new(Events::default()),
            outcome: rx,
            forwarded: on_event.is_some(),
            callback_error: Mutex::new(None),
            forwarder_done: watch::channel(false).0,
        });
        let run = Self { state };
        run.attach_stream(stream, on_event, locals);
        run
    }

    fn attach_stream(
        &self,
        stream: Option<EventStream>,
        on_event: Option<Py<PyAny>>,
        locals: Option<TaskLocals>,
    ) {
        let Some(mut stream) = stream else { return };
        let Some(cb) = on_event else {
            if let Ok(mut ev) = self.state.events.try_lock() {
                ev.stream = Some(stream);
            }
            return;
        };
        let state = self.state.clone();
        pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
            while let Some(event) = stream.recv().await {
                let end = event.kind.is_terminal();
                if let Err(e) = deliver(&cb, locals.as_ref(), &event).await {
                    state.fail_callback(e);
                    break;
                }
                if end {
                    break;
                }
            }
            state.forwarder_done.send_replace(true);
        });
    }
}

/// Call `cb(event)`; await the result if it is awaitable.
async fn deliver(cb: &Py<PyAny>, locals: Option<&TaskLocals>, event: &Event) -> PyResult<()> {
    let value = serde_json::to_value(event).unwrap_or_default();
    let pending = tokio::task::block_in_place(|| {
        Python::attach(|py| -> PyResult<Option<_>> {
            let r = cb.call1(py, (value_to_py(py, &value)?,))?;
            let r = r.bind(py);
            if !r.hasattr("__await__")? {
                return Ok(None);
            }
            match locals {
                Some(l) => pyo3_async_runtimes::into_future_with_locals(l, r.clone()).map(Some),
                None => Err(errors::config("on_event returned an awaitable, but this run has no event loop; pass a plain function")),
            }
        })
    })?;
    if let Some(fut) = pending {
        fut.await?;
    }
    Ok(())
}

impl RunState {
    fn fail_callback(&self, e: PyErr) {
        if let Ok(mut slot) = self.callback_error.lock() {
            slot.get_or_insert(e);
        }
        self.stop.cancel();
    }

    /// Wait for the outcome; `check` raises unless it completed.
    pub async fn wait(self: &Arc<Self>, check: bool) -> PyResult<RunOutcome> {
        let guard = StopOnDrop::new(&self.stop);
        let mut rx = self.outcome.clone();
        let finished = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| errors::from_engine(EngineError::Task("the run task vanished".into())))?
            .clone();
        guard.disarm();
        let outcome = match finished {
            Some(r) => r.map_err(errors::from_engine)?,
            None => return Err(errors::from_engine(EngineError::Task("no outcome".into()))),
        };
        if self.forwarded {
            // Let `on_event` see the last event before the outcome is handed out.
            let mut done = self.forwarder_done.subscribe();
            let _ = tokio::time::timeout(Duration::from_secs(30), done.wait_for(|d| *d)).await;
        }
        if let Some(e) = self.callback_error.lock().ok().and_then(|mut s| s.take()) {
            return Err(e);
        }
        let outcome = RunOutcome::new(outcome);
        if check {
            if let Some(e) = Python::attach(|py| errors::from_outcome(py, &outcome)) {
                return Err(e);
            }
        }
        Ok(outcome)
    }

    /// The next event, or `None` after the terminal one.
    async fn next_event(self: &Arc<Self>) -> PyResult<Option<Event>> {
        if self.forwarded {
            return Err(errors::config(
                "this run's events go to its on_event callback",
            ));
        }
        let guard = StopOnDrop::new(&self.stop);
        let mut ev = self.events.lock().await;
        let next = match ev.backlog.pop_front() {
            Some(e) => Some(e),
            None if ev.ended => None,
            None => match ev.stream.as_mut() {
                Some(s) => s.recv().await,
                None => None,
            },
        };
        guard.disarm();
        match &next {
            Some(e) if e.kind.is_terminal() => ev.ended = true,
            None => ev.ended = true,
            _ => {}
        }
        Ok(next)
    }
}

fn event_json(e: Event) -> Json {
    Json(serde_json::to_value(e).unwrap_or_default())
}

#[pymethods]
impl Run {
    /// The execution's id (use it to resume, regenerate, report, export).
    #[getter(execution_id)]
    fn py_execution_id(&self) -> &str {
        &self.state.id
    }

    /// Stop the run now: in-flight calls are aborted, finished work is kept.
    fn stop(&self) {
        self.state.stop.cancel();
    }

    /// Await the outcome. With `check=True`, raise the matching `RunError`
    /// unless the run completed.
    #[pyo3(signature = (check = false))]
    fn wait<'py>(&self, py: Python<'py>, check: bool) -> PyResult<Bound<'py, PyAny>> {
        let state = self.state.clone();
        crate::aio::spawn(py, async move { state.wait(check).await })
    }

    /// Block until the run ends (the GIL is released meanwhile; Ctrl-C stops the run).
    #[pyo3(signature = (check = false))]
    fn wait_blocking(&self, py: Python<'_>, check: bool) -> PyResult<RunOutcome> {
        block_until_done(py, &self.state, check)
    }

    /// The next event dict, or None when the run is over.
    fn next_event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = self.state.clone();
        crate::aio::spawn(
            py,
            async move { Ok(state.next_event().await?.map(event_json)) },
        )
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let state = self.state.clone();
        crate::aio::spawn(py, async move {
            match state.next_event().await? {
                Some(e) => Ok(event_json(e)),
                None => Err(PyStopAsyncIteration::new_err(())),
            }
        })
    }

    fn __repr__(&self) -> String {
        format!("Run(execution_id={:?})", self.state.id)
    }
}

/// Wait with the GIL released, waking every 100 ms to let Python handle
/// signals (Ctrl-C stops the run and raises KeyboardInterrupt).
pub fn block_until_done(
    py: Python<'_>,
    state: &Arc<RunState>,
    check: bool,
) -> PyResult<RunOutcome> {
    let rt = pyo3_async_runtimes::tokio::get_runtime();
    loop {
        let mut rx = state.outcome.clone();
        let done = py.detach(|| {
            rt.block_on(async {
                tokio::time::timeout(Duration::from_millis(100), rx.wait_for(Option::is_some))
                    .await
                    .is_ok()
            })
        });
        if done {
            break;
        }
        if let Err(e) = py.check_signals() {
            state.stop.cancel();
            return Err(e);
        }
    }
    py.detach(|| rt.block_on(state.wait(check)))
}

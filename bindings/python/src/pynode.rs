//! Custom node kinds written in Python: a Rust [`Node`] whose `run` calls a
//! Python function (sync or `async def`) with the node's context as a dict
//! and takes its JSON-able return value as the node's output.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use lekhika_core::{Node, NodeContext, NodeError, NodeOutput, Registry};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::convert::{py_to_value, value_to_py};
use crate::errors;
use crate::loops::Loops;

/// Register `kind` as a node kind that calls `func(ctx)`.
pub fn register(reg: &mut Registry, kind: String, func: Arc<Py<PyAny>>, loops: Loops) {
    let k = kind.clone();
    reg.register(&k, move |spec, _| {
        Ok(Box::new(PyNode {
            kind: kind.clone(),
            func: func.clone(),
            config: Value::Object(spec.config.clone()),
            loops: loops.clone(),
        }) as Box<dyn Node>)
    });
}

struct PyNode {
    kind: String,
    func: Arc<Py<PyAny>>,
    config: Value,
    loops: Loops,
}

/// `ctx["progress"](message)`: report progress from a Python node.
#[pyclass(module = "lekhika", frozen)]
pub struct Progress {
    tx: mpsc::UnboundedSender<String>,
}

#[pymethods]
impl Progress {
    fn __call__(&self, message: String) {
        let _ = self.tx.send(message);
    }
}

/// The `concurrent.futures.Future` of an async node's coroutine, cancelled
/// if the node is dropped (run stopped, timeout) before it finishes.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Option<Py<PyAny>>>>);

impl Pending {
    fn set(&self, f: Option<Py<PyAny>>) {
        if let Ok(mut s) = self.0.lock() {
            *s = f;
        }
    }
}

struct CancelOnDrop(Pending);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let fut = self.0 .0.lock().ok().and_then(|mut s| s.take());
        if let Some(f) = fut {
            Python::attach(|py| {
                let _ = f.call_method0(py, "cancel");
            });
        }
    }
}

fn context_value(ctx: &NodeContext, kind: &str, config: &Value) -> Value {
    lekhika::api::HostNodeCall::of(ctx, kind, config).to_value()
}

#[async_trait]
impl Node for PyNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let payload = context_value(ctx, &self.kind, &self.config);
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let pending = Pending::default();
        let guard = CancelOnDrop(pending.clone());
        let func = self.func.clone();
        let loops = self.loops.clone();
        let exec_id = ctx.execution_id().to_string();
        let mut call = tokio::task::spawn_blocking(move || {
            Python::attach(|py| {
                let event_loop = loops.get(py, &exec_id);
                call_python(py, &func, &payload, tx, event_loop, &pending)
            })
        });
        let result = loop {
            tokio::select! {
                r = &mut call => break r,
                Some(m) = rx.recv() => ctx.progress(m),
                _ = ctx.cancellation().cancelled() => return Err(NodeError::Cancelled),
            }
        };
        while let Ok(m) = rx.try_recv() {
            ctx.progress(m);
        }
        drop(guard);
        let value = result.map_err(|e| {
            NodeError::failed(format!("python node `{}` did not finish: {e}", self.kind))
        })??;
        Ok(NodeOutput::new(value))
    }
}

fn call_python(
    py: Python<'_>,
    func: &Py<PyAny>,
    payload: &Value,
    tx: mpsc::UnboundedSender<String>,
    event_loop: Option<Py<PyAny>>,
    pending: &Pending,
) -> Result<Value, NodeError> {
    let fail = |e: PyErr| errors::node_failure(py, &e);
    let ctx = value_to_py(py, payload).map_err(fail)?;
    if let Ok(d) = ctx.cast::<PyDict>() {
        d.set_item("progress", Py::new(py, Progress { tx }).map_err(fail)?)
            .map_err(fail)?;
    }
    let out = func.bind(py).call1((ctx,)).map_err(fail)?;
    let asyncio = py.import("asyncio").map_err(fail)?;
    let is_coro = asyncio
        .call_method1("iscoroutine", (&out,))
        .and_then(|b| b.is_truthy())
        .map_err(fail)?;
    let out = if !is_coro {
        out
    } else {
        let usable = event_loop.filter(|l| {
            let l = l.bind(py);
            let running = l
                .call_method0("is_running")
                .and_then(|b| b.is_truthy())
                .unwrap_or(false);
            let closed = l
                .call_method0("is_closed")
                .and_then(|b| b.is_truthy())
                .unwrap_or(true);
            running && !closed
        });
        match usable {
            Some(l) => {
                let fut = asyncio
                    .call_method1("run_coroutine_threadsafe", (&out, l))
                    .map_err(fail)?;
                pending.set(Some(fut.clone().unbind()));
                // `result()` waits on a lock, which releases the GIL.
                let r = fut.call_method0("result");
                pending.set(None);
                r.map_err(fail)?
            }
            None => asyncio.call_method1("run", (&out,)).map_err(fail)?,
        }
    };
    py_to_value(&out).map_err(|e| {
        NodeError::failed(format!(
            "the node returned a value that is not JSON-able: {e}"
        ))
    })
}

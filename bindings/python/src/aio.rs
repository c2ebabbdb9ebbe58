//! Rust futures as Python coroutines. The asyncio future (pyo3-async-runtimes,
//! cancelled with its task) is only created when the coroutine first runs,
//! inside the event loop, so `asyncio.run(lk.report(id))` and
//! `asyncio.create_task(lk.run(...))` work like with any `async def`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::IntoPyObjectExt;

type BoxFut = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

/// A Rust future waiting for its coroutine to be awaited.
#[pyclass(module = "lekhika._lekhika", frozen)]
pub struct Deferred(Mutex<Option<BoxFut>>);

#[pymethods]
impl Deferred {
    fn __call__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self
            .0
            .lock()
            .ok()
            .and_then(|mut f| f.take())
            .ok_or_else(|| PyRuntimeError::new_err("cannot reuse already awaited coroutine"))?;
        pyo3_async_runtimes::tokio::future_into_py(py, fut)
    }
}

pub fn spawn<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let boxed: BoxFut = Box::pin(async move {
        let value = fut.await?;
        Python::attach(|py| value.into_py_any(py))
    });
    let deferred = Py::new(py, Deferred(Mutex::new(Some(boxed))))?;
    py.import("lekhika._aio")?
        .getattr("wrap")?
        .call1((deferred,))
}

/// Run `fut` to its end on the engine's runtime with the GIL released (the
/// `*_blocking` methods).
pub fn block_on<F: Future + Send>(py: Python<'_>, fut: F) -> F::Output
where
    F::Output: Send,
{
    let rt = pyo3_async_runtimes::tokio::get_runtime();
    py.detach(|| rt.block_on(fut))
}

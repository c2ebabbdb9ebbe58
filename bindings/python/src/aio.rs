//! Rust futures as Python coroutines: pyo3-async-runtimes gives an
//! `asyncio.Future` (bound to the running loop, cancelled with the task);
//! `lekhika._aio.wrap` makes it a coroutine so `asyncio.create_task` and
//! friends accept it.

use std::future::Future;

use pyo3::prelude::*;

pub fn spawn<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let future = pyo3_async_runtimes::tokio::future_into_py(py, fut)?;
    py.import("lekhika._aio")?.getattr("wrap")?.call1((future,))
}

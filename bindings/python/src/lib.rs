//! Python bindings for Lekhika: a thin layer over the `lekhika` facade
//! crate. Every method converts arguments, calls Rust, and converts the
//! result; the engine, stores, providers and exporters do the work.
//!
//! Async methods return asyncio awaitables (pyo3-async-runtimes on a shared
//! tokio runtime); blocking helpers release the GIL while Rust works.

mod aio;
mod book;
mod config;
mod convert;
mod engine;
mod errors;
mod loops;
mod outcome;
mod pynode;
mod run;

use pyo3::prelude::*;

#[pymodule]
fn _lekhika(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<engine::Lekhika>()?;
    m.add_class::<run::Run>()?;
    m.add_class::<outcome::RunOutcome>()?;
    m.add_class::<book::ExportedFile>()?;
    m.add_class::<pynode::Progress>()?;
    m.add_class::<aio::Deferred>()?;
    m.add_function(wrap_pyfunction!(engine::api_methods, m)?)?;
    m.add("ALL_FORMATS", lekhika::ALL_FORMATS.to_vec())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    Ok(())
}

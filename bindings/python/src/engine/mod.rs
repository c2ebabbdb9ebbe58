//! `Lekhika`: the host API (the `lekhika` crate's `Lekhika`) for Python.
//! Opening and flows here; runs in `runs.rs`, books in `books.rs`, wallets
//! in `wallets.rs`. Every method converts its arguments, calls the host API
//! and converts the result; nothing else.

mod books;
mod runs;
mod wallets;

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{flow_doc, request, settings, Json};
use crate::errors;
use crate::loops::Loops;

/// The user of calls that name none.
const LOCAL: &str = lekhika::DEFAULT_USER;

/// Lekhika's engine with its store, providers, model catalog and custom node kinds.
///
/// Create it with `await lekhika.Lekhika.open(...)` (or `open_blocking`).
#[pyclass(module = "lekhika", frozen)]
pub struct Lekhika {
    inner: Arc<lekhika::Lekhika>,
    loops: Loops,
}

/// Every method of the host API (snake_case), for parity checks.
#[pyfunction]
pub fn api_methods() -> Vec<&'static str> {
    lekhika::api::METHODS.to_vec()
}

#[pymethods]
impl Lekhika {
    /// Open a store and assemble the engine (a coroutine).
    ///
    /// - `store`: SQLite path, "sqlite::memory:" or "postgres://..." (default: the user's SQLite file).
    /// - `providers`: provider rows `[{"name", "kind"?, "api_key", "base_url"?, "is_active"?}]`.
    /// - `catalog`: model catalog (prices, default models) as a dict, JSON string or path.
    /// - `fallbacks`: `{primary: ["secondary", {"provider", "model"}]}`, tried when a provider fails.
    /// - `nodes`: custom node kinds, `{"kind": function(ctx) -> JSON-able}`; sync or async.
    #[staticmethod]
    #[pyo3(signature = (store = None, *, providers = None, providers_file = None, providers_from_env = false, catalog = None, max_concurrency = None, lease = None, fallbacks = None, nodes = None))]
    #[allow(clippy::too_many_arguments)]
    fn open<'py>(
        py: Python<'py>,
        store: Option<PathBuf>,
        providers: Option<&Bound<'py, PyAny>>,
        providers_file: Option<PathBuf>,
        providers_from_env: bool,
        catalog: Option<&Bound<'py, PyAny>>,
        max_concurrency: Option<usize>,
        lease: Option<f64>,
        fallbacks: Option<&Bound<'py, PyAny>>,
        nodes: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let loops = Loops::default();
        let cfg = crate::config::build(
            store,
            providers,
            providers_file,
            providers_from_env,
            catalog,
            max_concurrency,
            lease,
            fallbacks,
            nodes,
            &loops,
        )?;
        crate::aio::spawn(py, async move {
            let inner = lekhika::Lekhika::open(cfg)
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Lekhika {
                inner: Arc::new(inner),
                loops,
            })
        })
    }

    /// `open`, blocking (the GIL is released while the store opens).
    #[staticmethod]
    #[pyo3(signature = (store = None, *, providers = None, providers_file = None, providers_from_env = false, catalog = None, max_concurrency = None, lease = None, fallbacks = None, nodes = None))]
    #[allow(clippy::too_many_arguments)]
    fn open_blocking(
        py: Python<'_>,
        store: Option<PathBuf>,
        providers: Option<&Bound<'_, PyAny>>,
        providers_file: Option<PathBuf>,
        providers_from_env: bool,
        catalog: Option<&Bound<'_, PyAny>>,
        max_concurrency: Option<usize>,
        lease: Option<f64>,
        fallbacks: Option<&Bound<'_, PyAny>>,
        nodes: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Lekhika> {
        let loops = Loops::default();
        let cfg = crate::config::build(
            store,
            providers,
            providers_file,
            providers_from_env,
            catalog,
            max_concurrency,
            lease,
            fallbacks,
            nodes,
            &loops,
        )?;
        let inner =
            crate::aio::block_on(py, lekhika::Lekhika::open(cfg)).map_err(errors::from_lekhika)?;
        Ok(Lekhika {
            inner: Arc::new(inner),
            loops,
        })
    }

    /// Create or upgrade the PostgreSQL schema with an owner/admin URL (a
    /// coroutine); returns the migrations applied.
    #[staticmethod]
    fn migrate(py: Python<'_>, admin_url: String) -> PyResult<Bound<'_, PyAny>> {
        crate::aio::spawn(py, async move {
            lekhika::Lekhika::migrate(&admin_url)
                .await
                .map_err(errors::from_lekhika)
        })
    }

    /// Typeset a manuscript file (Markdown with front matter, or a book's
    /// JSON) without a store (a coroutine; the work runs on a blocking
    /// thread): `ExportedFile`s in `formats` (default: all five).
    #[staticmethod]
    #[pyo3(signature = (path, formats = None, *, options = None))]
    fn export_manuscript<'py>(
        py: Python<'py>,
        path: PathBuf,
        formats: Option<Vec<String>>,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = options.map(crate::convert::py_to_value).transpose()?;
        crate::aio::spawn(py, async move {
            let files = tokio::task::spawn_blocking(move || {
                lekhika::Lekhika::export_manuscript(&path, formats.as_deref(), options.as_ref())
            })
            .await
            .map_err(|e| errors::config(format!("export task failed: {e}")))?
            .map_err(errors::from_lekhika)?;
            Ok(files
                .into_iter()
                .map(crate::book::ExportedFile::from)
                .collect::<Vec<_>>())
        })
    }

    /// `export_manuscript`, then write the files (atomically) into `out_dir`; their paths.
    #[staticmethod]
    #[pyo3(signature = (path, out_dir, formats = None, *, options = None))]
    fn write_manuscript<'py>(
        py: Python<'py>,
        path: PathBuf,
        out_dir: PathBuf,
        formats: Option<Vec<String>>,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = options.map(crate::convert::py_to_value).transpose()?;
        crate::aio::spawn(py, async move {
            let paths = tokio::task::spawn_blocking(move || {
                lekhika::Lekhika::write_manuscript(
                    &path,
                    formats.as_deref(),
                    &out_dir,
                    options.as_ref(),
                )
            })
            .await
            .map_err(|e| errors::config(format!("export task failed: {e}")))?
            .map_err(errors::from_lekhika)?;
            Ok(paths
                .into_iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect::<Vec<_>>())
        })
    }

    /// Every node kind this engine knows (built-ins and custom).
    fn node_kinds(&self) -> Vec<String> {
        self.inner.node_kinds()
    }

    /// Parse and validate a flow (dict, JSON string or path): its nodes in
    /// run order and its input form. Raises `FlowError` listing every problem.
    #[pyo3(signature = (flow, **options))]
    fn validate(
        &self,
        flow: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Json> {
        let info = self
            .inner
            .validate(&flow_doc(flow)?, &settings(options)?)
            .map_err(errors::from_lekhika)?;
        Ok(Json::of(&info))
    }

    /// `validate`, and check that every provider the flow calls is
    /// configured (`ConfigError` says what to set).
    #[pyo3(signature = (flow, **options))]
    fn check_flow(
        &self,
        flow: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Json> {
        let info = self
            .inner
            .check_flow(&flow_doc(flow)?, &settings(options)?)
            .map_err(errors::from_lekhika)?;
        Ok(Json::of(&info))
    }

    /// Worst-case tokens and wallet cost of a run, per node and in total; calls no model.
    #[pyo3(signature = (flow, input = None, **options))]
    fn estimate(
        &self,
        flow: &Bound<'_, PyAny>,
        input: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Json> {
        let est = self
            .inner
            .estimate(&request(flow, input, options)?)
            .map_err(errors::from_lekhika)?;
        Ok(Json::of(&est))
    }

    fn __repr__(&self) -> String {
        format!("Lekhika(kinds={:?})", self.inner.node_kinds())
    }
}

//! `Lekhika`: the assembled engine (store, providers, catalog, custom
//! kinds). Opening it and flows here; runs in `runs.rs`, books in `books.rs`.

mod books;
mod runs;

use std::path::PathBuf;
use std::sync::Arc;

use lekhika_core::exec::EngineError;
use lekhika_core::RunOptions;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::convert::{document, Json};
use crate::errors;
use crate::flow::Flow;
use crate::loops::Loops;
use crate::wallet::Wallets;

/// The user of calls that name none.
const LOCAL: &str = "local";

/// Lekhika's engine with its store, providers, model catalog and custom node kinds.
///
/// Create it with `await lekhika.Lekhika.open(...)` (or `open_blocking`).
#[pyclass(module = "lekhika", frozen)]
pub struct Lekhika {
    inner: Arc<lekhika::Lekhika>,
    loops: Loops,
}

impl Lekhika {
    fn options(
        &self,
        provider: Option<String>,
        model: Option<String>,
        max_concurrency: Option<usize>,
        execution_id: Option<String>,
        models: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<RunOptions> {
        let (provider, model) = self
            .inner
            .resolve_models(provider.as_deref(), model.as_deref())
            .map_err(errors::from_lekhika)?;
        Ok(RunOptions {
            provider,
            model,
            max_concurrency,
            execution_id,
            models: match models {
                Some(m) if !m.is_none() => serde_json::from_value(crate::convert::py_to_value(m)?)
                    .map_err(|e| {
                        errors::config(format!(
                            "models: expected {{node: {{\"provider\": .., \"model\": ..}}}}: {e}"
                        ))
                    })?,
                _ => Default::default(),
            },
            ..RunOptions::default()
        })
    }

    /// Load and validate, and check that every provider it calls is configured.
    fn checked(&self, flow: &Bound<'_, PyAny>, opts: &RunOptions) -> PyResult<Value> {
        let doc = document(flow, "flow")?;
        let loaded = self
            .inner
            .engine
            .load(&doc, opts)
            .map_err(errors::from_engine)?;
        self.inner
            .check_providers(&loaded)
            .map_err(errors::from_lekhika)?;
        Ok(doc)
    }
}

#[pymethods]
impl Lekhika {
    /// Open a store and assemble the engine (a coroutine).
    ///
    /// - `store`: SQLite path, "sqlite::memory:" or "postgres://..." (default: the user's SQLite file).
    /// - `providers`: provider rows `[{"name", "kind"?, "api_key", "base_url"?, "is_active"?}]`.
    /// - `catalog`: model catalog (prices, default models) as a dict, JSON string or path.
    /// - `nodes`: custom node kinds, `{"kind": function(ctx) -> JSON-able}`; sync or async.
    #[staticmethod]
    #[pyo3(signature = (store = None, *, providers = None, providers_file = None, providers_from_env = false, catalog = None, max_concurrency = None, nodes = None))]
    #[allow(clippy::too_many_arguments)]
    fn open<'py>(
        py: Python<'py>,
        store: Option<PathBuf>,
        providers: Option<&Bound<'py, PyAny>>,
        providers_file: Option<PathBuf>,
        providers_from_env: bool,
        catalog: Option<&Bound<'py, PyAny>>,
        max_concurrency: Option<usize>,
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
    #[pyo3(signature = (store = None, *, providers = None, providers_file = None, providers_from_env = false, catalog = None, max_concurrency = None, nodes = None))]
    #[allow(clippy::too_many_arguments)]
    fn open_blocking(
        py: Python<'_>,
        store: Option<PathBuf>,
        providers: Option<&Bound<'_, PyAny>>,
        providers_file: Option<PathBuf>,
        providers_from_env: bool,
        catalog: Option<&Bound<'_, PyAny>>,
        max_concurrency: Option<usize>,
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

    /// Create or upgrade the PostgreSQL schema (run once with an admin URL
    /// before opening the store with the application role's URL). Returns the
    /// migrations applied.
    #[staticmethod]
    fn migrate_postgres(py: Python<'_>, admin_url: String) -> PyResult<Bound<'_, PyAny>> {
        crate::aio::spawn(py, async move {
            lekhika::store::PgStore::migrate(&admin_url)
                .await
                .map_err(|e| errors::store_open(&e.to_string()))
        })
    }

    /// Every node kind this engine knows (built-ins and custom).
    #[getter]
    fn node_kinds(&self) -> Vec<String> {
        self.inner.engine.registry().kinds()
    }

    /// Wallets and tier policies.
    #[getter]
    fn wallets(&self) -> Wallets {
        Wallets {
            store: self.inner.stores.wallet.clone(),
        }
    }

    /// Load and validate a flow (dict, JSON string or path). Raises `FlowError`.
    #[pyo3(signature = (flow, *, provider = None, model = None))]
    fn load_flow(
        &self,
        flow: &Bound<'_, PyAny>,
        provider: Option<String>,
        model: Option<String>,
    ) -> PyResult<Flow> {
        let opts = self.options(provider, model, None, None, None)?;
        let doc = document(flow, "flow")?;
        let loaded = self
            .inner
            .engine
            .load(&doc, &opts)
            .map_err(errors::from_engine)?;
        Ok(Flow::new(doc, &loaded))
    }

    /// Every problem of a flow as `[{"scope", "id", "message"}]` (empty when valid).
    fn validate_flow(&self, flow: &Bound<'_, PyAny>) -> PyResult<Json> {
        let doc = document(flow, "flow")?;
        match self.inner.engine.load(&doc, &RunOptions::default()) {
            Ok(_) => Ok(Json(Value::Array(Vec::new()))),
            Err(EngineError::Flow(f)) => {
                Ok(Json(serde_json::to_value(f.problems).unwrap_or_default()))
            }
            Err(e) => Err(errors::from_engine(e)),
        }
    }

    /// Raise `ConfigError` naming what to set if a provider the flow calls is not configured.
    fn check_providers(&self, flow: &Bound<'_, PyAny>) -> PyResult<()> {
        self.checked(flow, &RunOptions::default()).map(|_| ())
    }

    /// Worst-case tokens and wallet cost of a run, per node and in total; calls no model.
    #[pyo3(signature = (flow, input = None, *, provider = None, model = None))]
    fn estimate(
        &self,
        flow: &Bound<'_, PyAny>,
        input: Option<&Bound<'_, PyAny>>,
        provider: Option<String>,
        model: Option<String>,
    ) -> PyResult<Json> {
        let opts = self.options(provider, model, None, None, None)?;
        let doc = document(flow, "flow")?;
        let input = crate::convert::input(input)?;
        let est = self
            .inner
            .engine
            .estimate(&doc, &input, &opts)
            .map_err(errors::from_engine)?;
        Ok(Json(serde_json::to_value(est).unwrap_or_default()))
    }

    fn __repr__(&self) -> String {
        format!("Lekhika(kinds={:?})", self.inner.engine.registry().kinds())
    }
}

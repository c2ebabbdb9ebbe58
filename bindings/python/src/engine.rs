//! `Lekhika`: the assembled engine (store, providers, catalog, custom
//! kinds). Flows, runs, reports and book exports.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use lekhika_core::exec::EngineError;
use lekhika_core::store::ExecutionStatus;
use lekhika_core::{RunHandle, RunOptions};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::Value;

use crate::book::{self, ExportedFile};
use crate::convert::{document, Json};
use crate::errors;
use crate::flow::Flow;
use crate::loops::Loops;
use crate::outcome::RunOutcome;
use crate::run::{block_until_done, Run};
use crate::wallet::Wallets;

const LOCAL: &str = "local";

/// Lekhika's engine with its store, providers, model catalog and custom node kinds.
///
/// Create it with `await lekhika.Lekhika.open(...)` (or `open_blocking`).
#[pyclass(module = "lekhika", frozen)]
pub struct Lekhika {
    inner: Arc<lekhika::Lekhika>,
    loops: Loops,
}

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

    /// Validate now; the returned future records the execution and launches
    /// it with the caller's event loop registered for async custom nodes.
    #[allow(clippy::too_many_arguments)]
    fn starting(
        &self,
        flow: &Bound<'_, PyAny>,
        input: Option<&Bound<'_, PyAny>>,
        user: String,
        provider: Option<String>,
        model: Option<String>,
        max_concurrency: Option<usize>,
        execution_id: Option<String>,
        models: Option<&Bound<'_, PyAny>>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<impl Future<Output = PyResult<Run>> + Send + 'static> {
        let opts = self.options(provider, model, max_concurrency, execution_id, models)?;
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
        let rt = pyo3_async_runtimes::tokio::get_runtime();
        let inner = py
            .detach(|| rt.block_on(lekhika::Lekhika::open(cfg)))
            .map_err(errors::from_lekhika)?;
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
        let fut = self.starting(
            flow,
            input,
            user,
            provider,
            model,
            max_concurrency,
            execution_id,
            models,
            on_event,
        )?;
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
        let fut = self.starting(
            flow,
            input,
            user,
            provider,
            model,
            max_concurrency,
            execution_id,
            models,
            on_event,
        )?;
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
        let rt = pyo3_async_runtimes::tokio::get_runtime();
        let handle = py
            .detach(|| rt.block_on(async { lk.engine.start(&user, &doc, &input, &opts).await }))
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
        let rt = pyo3_async_runtimes::tokio::get_runtime();
        let r = py
            .detach(|| rt.block_on(async { lk.engine.report(&user, &execution_id).await }))
            .map_err(errors::from_engine)?;
        Ok(Json(serde_json::to_value(r).unwrap_or_default()))
    }

    /// The compiled book (output of the flow's last `compile` node).
    #[pyo3(signature = (execution_id, *, user = LOCAL.to_string()))]
    fn compiled_book<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        user: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let v = lk
                .compiled_book(&user, &execution_id)
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json(v))
        })
    }

    /// Render the finished book in `formats` (default: all of pdf, epub,
    /// docx, html, md) to `ExportedFile`s; also stored as artifacts.
    /// `options` (trim, font_size_pt, margins_mm, chapters_on_recto,
    /// labels) default to those of the flow's export node.
    #[pyo3(signature = (execution_id, formats = None, *, user = LOCAL.to_string(), options = None))]
    fn export_book<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        formats: Option<Vec<String>>,
        user: String,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        let options = options.map(crate::convert::py_to_value).transpose()?;
        crate::aio::spawn(py, async move {
            book::export(&lk, &user, &execution_id, formats, options)
                .await
                .map(|files| {
                    files
                        .into_iter()
                        .map(ExportedFile::from)
                        .collect::<Vec<_>>()
                })
        })
    }

    /// `export_book`, then write the files into `out_dir`; returns their paths.
    #[pyo3(signature = (execution_id, out_dir, formats = None, *, user = LOCAL.to_string(), options = None))]
    fn write_book<'py>(
        &self,
        py: Python<'py>,
        execution_id: String,
        out_dir: PathBuf,
        formats: Option<Vec<String>>,
        user: String,
        options: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        let options = options.map(crate::convert::py_to_value).transpose()?;
        crate::aio::spawn(py, async move {
            book::write(&lk, &user, &execution_id, formats, &out_dir, options).await
        })
    }

    fn __repr__(&self) -> String {
        format!("Lekhika(kinds={:?})", self.inner.engine.registry().kinds())
    }
}

//! The `Lekhika` class: the host API (`lekhika::Lekhika`) for Node. Opening
//! and flows here; runs in `runs.rs`, books in `books.rs`, wallets in
//! `wallets.rs`. Each method converts arguments, calls the host API and
//! returns its value's JSON form; nothing else.

use std::sync::Arc;

use lekhika::{FlowDoc, OpenSettings, RunRequest, RunSettings};
use napi_derive::napi;
use serde_json::Value;

use crate::custom_node::{self, Dispatcher};
use crate::error::{invalid_argument, js};
use crate::json::{or_null, to_json};

/// An assembled engine with its store, providers and catalog.
#[napi]
pub struct Lekhika {
    pub(crate) inner: Arc<lekhika::Lekhika>,
}

/// Every method of the host API, in snake_case (the JS class has them in camelCase).
#[napi]
pub fn api_methods() -> Vec<String> {
    lekhika::api::METHODS
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Open Lekhika. `options` is the JSON form of `lekhika::OpenSettings`
/// (`store`, `providers`, `providers_file`, `providers_from_env`,
/// `catalog`, `max_concurrency`, `lease`); `customKinds` are node kinds
/// served by `dispatch` (the JS wrapper's custom-node dispatcher).
#[napi]
pub async fn open(
    options: Option<Value>,
    custom_kinds: Option<Vec<String>>,
    #[napi(ts_arg_type = "((call: string) => Promise<string>) | undefined | null")]
    dispatch: Option<Dispatcher>,
) -> napi::Result<Lekhika> {
    let mut cfg = OpenSettings::from_json(or_null(options))
        .and_then(OpenSettings::into_config)
        .map_err(js)?;
    let kinds = custom_kinds.unwrap_or_default();
    if !kinds.is_empty() {
        let dispatch =
            Arc::new(dispatch.ok_or_else(|| invalid_argument("custom kinds need a dispatcher"))?);
        cfg.register.push(Box::new(move |r| {
            custom_node::register(r, &kinds, &dispatch)
        }));
    }
    let lk = lekhika::Lekhika::open(cfg).await.map_err(js)?;
    Ok(Lekhika {
        inner: Arc::new(lk),
    })
}

/// Create or upgrade the PostgreSQL schema with an owner/admin URL; the migrations applied.
#[napi]
pub async fn migrate(admin_url: String) -> napi::Result<Vec<String>> {
    lekhika::Lekhika::migrate(&admin_url).await.map_err(js)
}

/// Typeset a manuscript file without a store (on a blocking thread).
#[napi]
pub async fn export_manuscript(
    path: String,
    formats: Option<Vec<String>>,
    options: Option<Value>,
) -> napi::Result<Vec<crate::books::ExportedFile>> {
    let files = tokio::task::spawn_blocking(move || {
        lekhika::Lekhika::export_manuscript(
            std::path::Path::new(&path),
            formats.as_deref(),
            options.as_ref().filter(|v| !v.is_null()),
        )
    })
    .await
    .map_err(|e| napi::Error::from_reason(format!("export task failed: {e}")))?
    .map_err(js)?;
    Ok(files
        .into_iter()
        .map(|f| crate::books::ExportedFile {
            name: f.name,
            mime: f.mime,
            bytes: napi::bindgen_prelude::Buffer::from(f.bytes),
        })
        .collect())
}

/// `exportManuscript`, then write the files (atomically) into `dir`; their paths.
#[napi]
pub async fn write_manuscript(
    path: String,
    dir: String,
    formats: Option<Vec<String>>,
    options: Option<Value>,
) -> napi::Result<Vec<String>> {
    let paths = tokio::task::spawn_blocking(move || {
        lekhika::Lekhika::write_manuscript(
            std::path::Path::new(&path),
            formats.as_deref(),
            std::path::Path::new(&dir),
            options.as_ref().filter(|v| !v.is_null()),
        )
    })
    .await
    .map_err(|e| napi::Error::from_reason(format!("export task failed: {e}")))?
    .map_err(js)?;
    Ok(paths
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect())
}

/// A flow (object, JSON text or file path).
pub(crate) fn flow_doc(flow: Value) -> napi::Result<FlowDoc> {
    FlowDoc::from_value(flow).map_err(js)
}

/// Run settings from their JSON form (unknown keys are errors).
pub(crate) fn settings(options: Option<Value>) -> napi::Result<RunSettings> {
    RunSettings::from_json(or_null(options)).map_err(js)
}

/// A run request from a flow, inputs and settings.
pub(crate) fn request(
    flow: Value,
    input: Option<Value>,
    options: Option<Value>,
) -> napi::Result<RunRequest> {
    Ok(RunRequest::new(
        flow_doc(flow)?,
        or_null(input),
        settings(options)?,
    ))
}

#[napi]
impl Lekhika {
    /// Node kinds this engine knows (built-ins, `export`, custom kinds).
    #[napi]
    pub fn node_kinds(&self) -> Vec<String> {
        self.inner.node_kinds()
    }

    /// Parse and validate a flow: `{nodes, inputs}`; throws `FlowError`
    /// listing every problem.
    #[napi]
    pub fn validate(&self, flow: Value, options: Option<Value>) -> napi::Result<Value> {
        let info = self
            .inner
            .validate(&flow_doc(flow)?, &settings(options)?)
            .map_err(js)?;
        Ok(to_json(&info))
    }

    /// `validate`, and check every provider the flow calls is configured.
    #[napi]
    pub fn check_flow(&self, flow: Value, options: Option<Value>) -> napi::Result<Value> {
        let info = self
            .inner
            .check_flow(&flow_doc(flow)?, &settings(options)?)
            .map_err(js)?;
        Ok(to_json(&info))
    }

    /// Worst-case tokens and wallet cost of a run, without calling any model.
    #[napi]
    pub fn estimate(
        &self,
        flow: Value,
        input: Option<Value>,
        options: Option<Value>,
    ) -> napi::Result<Value> {
        let est = self
            .inner
            .estimate(&request(flow, input, options)?)
            .map_err(js)?;
        Ok(to_json(&est))
    }
}

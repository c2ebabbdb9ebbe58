//! The `Lekhika` class: open, flows, runs (start, resume, regenerate,
//! approve, reject, stop), estimates and status reports.

use std::sync::Arc;

use lekhika::core::RunOptions;
use napi_derive::napi;
use serde_json::{json, Value};

use crate::config::{to_config, OpenOptions};
use crate::custom_node::{self, Dispatcher};
use crate::error::{js, BindError, BindResult};
use crate::run::Run;
use crate::source::{camel_record, flow_document, object_or_empty};
use crate::types::{Estimate, FlowInfo, FlowNode};

/// Per-run options (stored with the execution, so resume uses the same).
#[napi(object)]
#[derive(Default)]
pub struct RunOptionsInput {
    /// Override every text node's provider.
    pub provider: Option<String>,
    /// Override every text node's model.
    pub model: Option<String>,
    /// Nodes at once for this run.
    pub max_concurrency: Option<u32>,
    /// The host's engine id (the seed's `userEngineId`).
    pub engine_id: Option<String>,
    /// Host-defined JSON stored with the execution.
    pub host: Option<Value>,
    /// Provider and/or model per node id (a map's writer included); wins
    /// over `provider`/`model`.
    pub models: Option<std::collections::HashMap<String, NodeModelInput>>,
    /// Use this id for the new execution (e.g. the frontend's own
    /// executionId) instead of a generated one: 1–128 letters, digits,
    /// `-_.:`; unique.
    pub execution_id: Option<String>,
}

impl From<Option<RunOptionsInput>> for RunOptionsWrap {
    fn from(o: Option<RunOptionsInput>) -> Self {
        let o = o.unwrap_or_default();
        Self(RunOptions {
            provider: o.provider,
            model: o.model,
            max_concurrency: o.max_concurrency.map(|n| n as usize),
            engine_id: o.engine_id,
            host: o.host.unwrap_or(Value::Null),
            execution_id: o.execution_id,
            models: o
                .models
                .unwrap_or_default()
                .into_iter()
                .map(|(node, c)| {
                    let choice = lekhika::core::node::ModelChoice {
                        provider: c.provider,
                        model: c.model,
                    };
                    (node, choice)
                })
                .collect(),
            ..RunOptions::default()
        })
    }
}

/// A provider and/or model for one node.
#[napi(object)]
pub struct NodeModelInput {
    pub provider: Option<String>,
    pub model: Option<String>,
}

pub struct RunOptionsWrap(pub RunOptions);

/// An assembled engine with its store, providers and catalog.
#[napi]
pub struct Lekhika {
    pub(crate) inner: Arc<lekhika::Lekhika>,
}

/// Open Lekhika. `customKinds` are node kinds served by `dispatch` (the JS
/// wrapper's custom-node dispatcher).
#[napi]
pub async fn open(
    options: Option<OpenOptions>,
    custom_kinds: Option<Vec<String>>,
    #[napi(ts_arg_type = "((call: string) => Promise<string>) | undefined | null")]
    dispatch: Option<Dispatcher>,
) -> napi::Result<Lekhika> {
    let mut cfg = to_config(options.unwrap_or(OpenOptions {
        store: None,
        providers_from_env: None,
        providers_file: None,
        providers: None,
        catalog_file: None,
        catalog_json: None,
        max_concurrency: None,
    }))
    .map_err(js)?;
    let kinds = custom_kinds.unwrap_or_default();
    if !kinds.is_empty() {
        let dispatch = Arc::new(dispatch.ok_or_else(|| {
            js(BindError::invalid_argument(
                "custom kinds need a dispatcher",
            ))
        })?);
        cfg.register.push(Box::new(move |r| {
            custom_node::register(r, &kinds, &dispatch)
        }));
    }
    let lk = lekhika::Lekhika::open(cfg).await.map_err(js)?;
    Ok(Lekhika {
        inner: Arc::new(lk),
    })
}

impl Lekhika {
    fn load(&self, flow: &Value, opts: &RunOptions) -> BindResult<lekhika::core::Flow> {
        let loaded = self.inner.engine.load(flow, opts)?;
        self.inner.check_providers(&loaded)?;
        Ok(loaded)
    }
}

#[napi]
impl Lekhika {
    /// Node kinds this engine knows (built-ins, `export`, custom kinds).
    #[napi]
    pub fn kinds(&self) -> Vec<String> {
        self.inner.engine.registry().kinds()
    }

    /// Parse and validate a flow (object, JSON text or file path); throws
    /// `FlowError` listing every problem.
    #[napi]
    pub fn validate_flow(
        &self,
        flow: Value,
        options: Option<RunOptionsInput>,
    ) -> napi::Result<FlowInfo> {
        let doc = flow_document(flow).map_err(js)?;
        let opts = RunOptionsWrap::from(options).0;
        let f = self.inner.engine.load(&doc, &opts).map_err(js)?;
        let order = f.graph.topo_order().unwrap_or_default();
        Ok(FlowInfo {
            nodes: order
                .iter()
                .map(|&i| FlowNode {
                    id: f.graph.ids[i].to_string(),
                    kind: f.nodes[i].kind.clone(),
                })
                .collect(),
            input_fields: f
                .input_fields
                .iter()
                .filter_map(|x| serde_json::to_value(x).ok())
                .collect(),
        })
    }

    /// Every provider the flow calls must be configured; throws `ConfigError` saying what to set.
    #[napi]
    pub fn check_providers(
        &self,
        flow: Value,
        options: Option<RunOptionsInput>,
    ) -> napi::Result<()> {
        let doc = flow_document(flow).map_err(js)?;
        self.load(&doc, &RunOptionsWrap::from(options).0)
            .map(|_| ())
            .map_err(js)
    }

    /// Worst-case tokens and cost of a run, without calling any model.
    #[napi]
    pub fn estimate(
        &self,
        flow: Value,
        input: Option<Value>,
        options: Option<RunOptionsInput>,
    ) -> napi::Result<Estimate> {
        let doc = flow_document(flow).map_err(js)?;
        let input = object_or_empty(input, "input").map_err(js)?;
        let opts = RunOptionsWrap::from(options).0;
        self.inner
            .engine
            .estimate(&doc, &input, &opts)
            .map(Into::into)
            .map_err(js)
    }

    /// Start a run of `flow` for `user`.
    #[napi]
    pub async fn start(
        &self,
        user: String,
        flow: Value,
        input: Option<Value>,
        options: Option<RunOptionsInput>,
    ) -> napi::Result<Run> {
        let doc = flow_document(flow).map_err(js)?;
        let input = object_or_empty(input, "input").map_err(js)?;
        let opts = RunOptionsWrap::from(options).0;
        self.load(&doc, &opts).map_err(js)?;
        let h = self
            .inner
            .engine
            .start(&user, &doc, &input, &opts)
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Continue an execution from its checkpoint: only unfinished work runs.
    #[napi]
    pub async fn resume(&self, user: String, execution_id: String) -> napi::Result<Run> {
        let h = self
            .inner
            .engine
            .resume(&user, &execution_id)
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Re-run `node` and everything downstream of it, with an extra instruction.
    #[napi]
    pub async fn regenerate(
        &self,
        user: String,
        execution_id: String,
        node: String,
        instruction: Option<String>,
    ) -> napi::Result<Run> {
        let h = self
            .inner
            .engine
            .regenerate(&user, &execution_id, &node, instruction.as_deref())
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Approve the output waiting at an approval gate (optionally edited) and continue.
    #[napi]
    pub async fn approve(
        &self,
        user: String,
        execution_id: String,
        node: String,
        edited: Option<Value>,
    ) -> napi::Result<Run> {
        let h = self
            .inner
            .engine
            .approve(&user, &execution_id, &node, edited)
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Reject the output at an approval gate: the reviewed node is regenerated with the instruction.
    #[napi]
    pub async fn reject(
        &self,
        user: String,
        execution_id: String,
        node: String,
        instruction: String,
    ) -> napi::Result<Run> {
        let h = self
            .inner
            .engine
            .reject(&user, &execution_id, &node, &instruction)
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Ask a run to stop, wherever it runs (this process or another sharing the store).
    #[napi]
    pub async fn stop(&self, user: String, execution_id: String) -> napi::Result<()> {
        self.inner
            .engine
            .stop(&user, &execution_id)
            .await
            .map_err(js)
    }

    /// Status and analytics of an execution (camelCase keys).
    #[napi]
    pub async fn report(&self, user: String, execution_id: String) -> napi::Result<Value> {
        let r = self
            .inner
            .engine
            .report(&user, &execution_id)
            .await
            .map_err(js)?;
        Ok(camel_record(serde_json::to_value(r).unwrap_or(Value::Null)))
    }

    /// The user's executions, newest last: `{id, status, message, reason, engineId, createdAtMs, updatedAtMs}`.
    #[napi]
    pub async fn list_executions(&self, user: String) -> napi::Result<Vec<Value>> {
        let list = self
            .inner
            .stores
            .executions
            .list_executions(&user)
            .await
            .map_err(js)?;
        Ok(list
            .into_iter()
            .map(|r| {
                json!({"id": r.id, "status": r.status.as_str(), "message": r.message, "reason": r.reason,
                       "engineId": r.engine_id, "createdAtMs": r.created_at_ms, "updatedAtMs": r.updated_at_ms})
            })
            .collect())
    }
}

//! What a node kind written in the host's language (Python, JS) receives:
//! one plain value, built here once for every binding.

use lekhika_core::NodeContext;
use serde::Serialize;
use serde_json::{Map, Value};

/// The map item a host node runs for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostItem {
    pub index: u32,
    pub item: Value,
    pub prev_item: Value,
    pub next_item: Value,
    pub previous: Value,
    pub results: Value,
}

/// One call of a host-written node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostNodeCall {
    pub kind: String,
    pub node_id: String,
    pub execution_id: String,
    /// The user the run belongs to.
    pub user: String,
    /// The node's `data` from the flow document (policy keys removed).
    pub config: Value,
    /// The run's inputs.
    pub input: Value,
    /// Outputs of the direct upstream nodes, by node id.
    pub upstream: Map<String, Value>,
    /// The map item, when the node runs inside a map.
    pub item: Option<HostItem>,
    /// Extra instruction (regenerate, a rejected approval, failed validation).
    pub instruction: Option<String>,
    /// 1 for the first try.
    pub attempt: u32,
}

impl HostNodeCall {
    pub fn of(ctx: &NodeContext, kind: &str, config: &Value) -> Self {
        Self {
            kind: kind.to_string(),
            node_id: ctx.node_id().to_string(),
            execution_id: ctx.execution_id().to_string(),
            user: ctx.owner().to_string(),
            config: config.clone(),
            input: ctx.input().clone(),
            upstream: ctx
                .upstream_outputs()
                .into_iter()
                .map(|(id, v)| (id.to_string(), (*v).clone()))
                .collect(),
            item: ctx.item().map(|i| HostItem {
                index: i.index,
                item: i.item.clone(),
                prev_item: i.prev_item.clone(),
                next_item: i.next_item.clone(),
                previous: i.previous.clone(),
                results: i.results.clone(),
            }),
            instruction: ctx.instruction().map(str::to_string),
            attempt: ctx.attempt(),
        }
    }

    /// Its JSON form.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

//! Execution analytics: per-node timings, usage, cost and attempts, and
//! totals per provider (what `lekhika status` shows).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Engine, EngineError};
use crate::provider::Usage;
use crate::store::{ExecutionStatus, NodeKey};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    pub node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    pub duration_ms: i64,
    pub usage: Usage,
    pub cost: u64,
    pub attempts: u32,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub metrics: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProviderTotals {
    pub calls: u64,
    pub usage: Usage,
    pub cost: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionReport {
    pub execution_id: String,
    pub status: ExecutionStatus,
    pub message: Option<String>,
    pub reason: Option<String>,
    pub epoch: u32,
    pub nodes_total: usize,
    pub nodes_done: usize,
    pub nodes: Vec<NodeReport>,
    pub providers: BTreeMap<String, ProviderTotals>,
    pub usage: Usage,
    pub cost: u64,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Engine {
    /// Status and analytics of an execution.
    pub async fn report(&self, owner: &str, id: &str) -> Result<ExecutionReport, EngineError> {
        let rec = self.store().get_execution(owner, id).await?;
        let nodes_total = rec.flow.node_count();
        let results = self.store().node_results(owner, id).await?;
        let mut report = ExecutionReport {
            execution_id: rec.id,
            status: rec.status,
            message: rec.message,
            reason: rec.reason,
            epoch: rec.epoch,
            nodes_total,
            nodes_done: 0,
            nodes: Vec::with_capacity(results.len()),
            providers: BTreeMap::new(),
            usage: Usage::default(),
            cost: 0,
            created_at_ms: rec.created_at_ms,
            updated_at_ms: rec.updated_at_ms,
        };
        for (key, r) in results {
            if key.step_index().is_some() {
                // Saved steps are counted in their node's own result.
                continue;
            }
            let NodeKey { node, item } = key;
            if item.is_none() {
                report.nodes_done += 1;
            }
            report.usage.add(r.usage);
            report.cost += r.cost;
            if let Some(p) = &r.provider {
                let t = report.providers.entry(p.clone()).or_default();
                t.calls += 1;
                t.usage.add(r.usage);
                t.cost += r.cost;
            }
            report.nodes.push(NodeReport {
                node,
                item,
                duration_ms: r.finished_at_ms - r.started_at_ms,
                usage: r.usage,
                cost: r.cost,
                attempts: r.attempts,
                provider: r.provider,
                model: r.model,
                metrics: r.metrics,
            });
        }
        Ok(report)
    }
}

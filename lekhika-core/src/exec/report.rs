//! Execution analytics: per-node timings, usage, cost and attempts, and
//! totals per provider (what `lekhika status` shows).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Engine, EngineError};
use crate::provider::Usage;
use crate::store::{ExecutionStatus, NodeKey, RunnerInfo};

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
    /// Complete model replies this node (or item) recorded.
    #[serde(default)]
    pub calls: u64,
    /// HTTP requests they took (retries, fallbacks and failed tries included).
    #[serde(default)]
    pub requests: u64,
    /// Replies served from earlier runs (`--reuse`).
    #[serde(default)]
    pub reused: u64,
    /// Each provider/model this node called, with its share.
    #[serde(default)]
    pub models: Vec<ModelUse>,
}

/// One provider/model's share of a node's calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelUse {
    pub provider: String,
    pub model: String,
    pub calls: u64,
    pub requests: u64,
    pub usage: Usage,
    pub cost: u64,
}

/// LongWriter length scores of the book's chapters (map items with a length budget).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LengthSummary {
    pub chapters: u64,
    pub mean: f64,
    pub min: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProviderTotals {
    /// Complete replies.
    pub calls: u64,
    /// HTTP requests sent to this provider (what its server saw).
    #[serde(default)]
    pub requests: u64,
    /// Requests that brought no kept reply: retried faults, tries before a
    /// fallback, cut streams, calls that failed.
    #[serde(default)]
    pub retries: u64,
    pub usage: Usage,
    pub cost: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionReport {
    pub execution_id: String,
    /// As a user should read it: `running` only while a live runner holds
    /// the lease; `interrupted` when its runner died (resume continues it).
    pub status: ExecutionStatus,
    /// Who holds (or last held) the runner lease, while it is held.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub runner: Option<RunnerInfo>,
    pub message: Option<String>,
    pub reason: Option<String>,
    pub epoch: u32,
    pub nodes_total: usize,
    pub nodes_done: usize,
    pub nodes: Vec<NodeReport>,
    pub providers: BTreeMap<String, ProviderTotals>,
    /// Every recorded model call of the execution (all attempts, nested
    /// work and unfinished nodes included, and calls abandoned mid-reply).
    pub usage: Usage,
    /// The part of `usage` Lekhika estimated: servers that reported no
    /// usage, and abandoned calls (see `lekhika_core::tokens`).
    #[serde(default)]
    pub usage_estimated: Usage,
    /// What the wallet was charged (abandoned calls are not charged).
    pub cost: u64,
    /// Complete model replies recorded in the call journal.
    pub calls: u64,
    /// HTTP requests to providers, every try included: what their servers saw.
    #[serde(default)]
    pub requests: u64,
    /// Requests that brought no kept reply (`requests - calls`).
    #[serde(default)]
    pub retries: u64,
    /// Length scores of the chapters written so far (none without budgets).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub length: Option<LengthSummary>,
    /// Calls given up mid-reply (a cut stream retried, a stop); their
    /// tokens are in `usage`.
    #[serde(default)]
    pub abandoned_calls: u64,
    /// Replies served from the user's earlier runs (`--reuse`): no request,
    /// no charge, not in `calls`, `usage` or `cost`; `reused_usage` is what
    /// they took when they were asked.
    #[serde(default)]
    pub reused_calls: u64,
    #[serde(default)]
    pub reused_usage: Usage,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl Engine {
    /// Status and analytics of an execution.
    pub async fn report(&self, owner: &str, id: &str) -> Result<ExecutionReport, EngineError> {
        let rec = self.store().get_execution(owner, id).await?;
        let nodes_total = rec.flow.node_count();
        let results = self.store().node_results(owner, id).await?;
        let calls = self.store().calls(owner, id).await?;
        let mut report = ExecutionReport {
            execution_id: rec.id.clone(),
            status: rec.live_status(),
            runner: rec.runner.clone().filter(|r| r.is_live()),
            message: rec.message,
            reason: rec.reason,
            epoch: rec.epoch,
            nodes_total,
            nodes_done: 0,
            nodes: Vec::with_capacity(results.len()),
            providers: BTreeMap::new(),
            usage: Usage::default(),
            usage_estimated: Usage::default(),
            cost: 0,
            calls: 0,
            requests: 0,
            retries: 0,
            length: None,
            abandoned_calls: 0,
            reused_calls: 0,
            reused_usage: Usage::default(),
            created_at_ms: rec.created_at_ms,
            updated_at_ms: rec.updated_at_ms,
        };
        if report.status == ExecutionStatus::Interrupted && report.message.is_none() {
            report.message = Some(format!(
                "interrupted: the process running it stopped without finishing; continue with `lekhika resume {id}`"
            ));
        }
        let mut by_unit: BTreeMap<NodeKey, Vec<ModelUse>> = BTreeMap::new();
        let mut reused_by_unit: BTreeMap<NodeKey, u64> = BTreeMap::new();
        for c in &calls {
            if c.reused_from.is_some() {
                report.reused_calls += 1;
                report.reused_usage.add(c.usage);
                *reused_by_unit
                    .entry(NodeKey {
                        node: c.node.clone(),
                        item: c.item,
                    })
                    .or_default() += 1;
                continue;
            }
            let cost = u64::try_from(c.cost.max(0)).unwrap_or(0);
            let reply = u64::from(c.is_reply());
            let requests = u64::from(c.requests);
            report.usage.add(c.usage);
            if c.usage_estimated() {
                report.usage_estimated.add(c.usage);
            }
            if c.is_abandoned() {
                report.abandoned_calls += 1;
            }
            report.calls += reply;
            report.requests = report.requests.saturating_add(requests);
            report.cost = report.cost.saturating_add(cost);
            let t = report.providers.entry(c.provider.clone()).or_default();
            t.calls += reply;
            t.requests = t.requests.saturating_add(requests);
            t.retries = t.requests.saturating_sub(t.calls);
            t.usage.add(c.usage);
            t.cost = t.cost.saturating_add(cost);
            let uses = by_unit
                .entry(NodeKey {
                    node: c.node.clone(),
                    item: c.item,
                })
                .or_default();
            let at = match uses
                .iter()
                .position(|u| u.provider == c.provider && u.model == c.model)
            {
                Some(i) => i,
                None => {
                    uses.push(ModelUse {
                        provider: c.provider.clone(),
                        model: c.model.clone(),
                        calls: 0,
                        requests: 0,
                        usage: Usage::default(),
                        cost: 0,
                    });
                    uses.len() - 1
                }
            };
            if let Some(u) = uses.get_mut(at) {
                u.calls += reply;
                u.requests = u.requests.saturating_add(requests);
                u.usage.add(c.usage);
                u.cost = u.cost.saturating_add(cost);
            }
        }
        report.retries = report.requests.saturating_sub(report.calls);
        // Checkpoints of earlier versions have no journal: count their results.
        let legacy = calls.is_empty();
        for (key, r) in results {
            if key.is_legacy_step() {
                continue;
            }
            let models = by_unit.remove(&key).unwrap_or_default();
            let reused = reused_by_unit.remove(&key).unwrap_or(0);
            let NodeKey { node, item } = key;
            if item.is_none() {
                report.nodes_done += 1;
            }
            if legacy {
                report.usage.add(r.usage);
                report.cost = report.cost.saturating_add(r.cost);
                if let Some(p) = &r.provider {
                    let t = report.providers.entry(p.clone()).or_default();
                    t.calls += 1;
                    t.usage.add(r.usage);
                    t.cost = t.cost.saturating_add(r.cost);
                }
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
                calls: models.iter().map(|u| u.calls).sum(),
                requests: models.iter().map(|u| u.requests).sum(),
                reused,
                models,
            });
        }
        report.length = length_summary(&report.nodes);
        Ok(report)
    }
}

/// Mean and minimum length score over the map items that report one.
fn length_summary(nodes: &[NodeReport]) -> Option<LengthSummary> {
    let scores: Vec<f64> = nodes
        .iter()
        .filter(|n| n.item.is_some())
        .filter_map(|n| n.metrics.get("length_score").and_then(Value::as_f64))
        .collect();
    if scores.is_empty() {
        return None;
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    Some(LengthSummary {
        chapters: scores.len() as u64,
        mean: (mean * 10.0).round() / 10.0,
        min: scores.iter().copied().fold(f64::INFINITY, f64::min),
    })
}

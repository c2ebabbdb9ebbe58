//! Plain data handed to JS (TypeScript interfaces are generated from these).

use lekhika::core::exec::estimate::{Estimate as CoreEstimate, NodeEstimate as CoreNodeEstimate};
use lekhika::core::provider::Usage as CoreUsage;
use lekhika::core::wallet::{
    LedgerEntry as CoreLedgerEntry, TierPolicy as CoreTierPolicy, Wallet as CoreWallet,
};
use lekhika::core::RunOutcome as CoreOutcome;
use napi_derive::napi;
use serde_json::Value;

use crate::error::{BindError, BindResult};

fn num(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[napi(object)]
pub struct Usage {
    pub input_tokens: i64,
    pub output_tokens: i64,
}

impl From<CoreUsage> for Usage {
    fn from(u: CoreUsage) -> Self {
        Self {
            input_tokens: num(u.input_tokens),
            output_tokens: num(u.output_tokens),
        }
    }
}

/// How a run ended.
#[napi(object)]
pub struct RunOutcome {
    pub execution_id: String,
    /// `pending`, `running`, `paused`, `stopped`, `completed` or `failed`.
    pub status: String,
    pub message: Option<String>,
    /// `insufficient_tokens`, `awaiting_approval`, `provider_error`, `stopped`, ...
    pub reason: Option<String>,
    /// The node that paused or failed the run.
    pub node: Option<String>,
    pub usage: Usage,
    /// Wallet tokens charged over the whole execution.
    pub cost: i64,
}

impl From<CoreOutcome> for RunOutcome {
    fn from(o: CoreOutcome) -> Self {
        Self {
            execution_id: o.execution_id,
            status: o.status.as_str().to_string(),
            message: o.message,
            reason: o.reason,
            node: o.node,
            usage: o.usage.into(),
            cost: o.cost,
        }
    }
}

#[napi(object)]
pub struct NodeEstimate {
    pub node: String,
    pub provider: String,
    pub model: String,
    pub calls: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Wallet tokens; absent when the model has no price.
    pub cost: Option<i64>,
}

/// Worst-case tokens and wallet cost of a run, computed without calling any model.
#[napi(object)]
pub struct Estimate {
    pub nodes: Vec<NodeEstimate>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost: i64,
    /// `provider/model` pairs without a price.
    pub missing_prices: Vec<String>,
}

impl From<CoreEstimate> for Estimate {
    fn from(e: CoreEstimate) -> Self {
        Self {
            nodes: e.nodes.into_iter().map(node_estimate).collect(),
            input_tokens: num(e.input_tokens),
            output_tokens: num(e.output_tokens),
            cost: e.cost,
            missing_prices: e.missing_prices,
        }
    }
}

fn node_estimate(n: CoreNodeEstimate) -> NodeEstimate {
    NodeEstimate {
        node: n.node,
        provider: n.provider,
        model: n.model,
        calls: num(n.calls),
        input_tokens: num(n.input_tokens),
        output_tokens: num(n.output_tokens),
        cost: n.cost,
    }
}

/// A user's token wallet. `totalEarned - totalSpent == balance + reserved`.
#[napi(object)]
pub struct Wallet {
    pub user_id: String,
    pub balance: i64,
    pub reserved: i64,
    pub total_earned: i64,
    pub total_spent: i64,
    pub level: Option<String>,
    pub current_period: Option<String>,
}

impl From<CoreWallet> for Wallet {
    fn from(w: CoreWallet) -> Self {
        Self {
            user_id: w.user_id,
            balance: w.balance,
            reserved: w.reserved,
            total_earned: w.total_earned,
            total_spent: w.total_spent,
            level: w.level,
            current_period: w.current_period,
        }
    }
}

#[napi(object)]
pub struct LedgerEntry {
    pub user_id: String,
    pub key: String,
    /// `grant`, `reserve`, `settle` or `release`.
    pub kind: String,
    pub amount: i64,
    pub execution_id: Option<String>,
    pub node_id: Option<String>,
    pub note: Option<String>,
    pub created_at_ms: i64,
}

impl From<CoreLedgerEntry> for LedgerEntry {
    fn from(e: CoreLedgerEntry) -> Self {
        let kind = serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Self {
            user_id: e.user_id,
            key: e.key,
            kind,
            amount: e.amount,
            execution_id: e.execution_id,
            node_id: e.node_id,
            note: e.note,
            created_at_ms: e.created_at_ms,
        }
    }
}

/// What a tier may use and spend (the seed's `level_token_policies` row).
#[napi(object)]
pub struct TierPolicy {
    pub level: String,
    pub monthly_allocation: i64,
    pub per_execution_limit: Option<i64>,
    pub allowed_models: Option<Vec<String>>,
    pub allowed_node_kinds: Option<Vec<String>>,
    pub allowed_export_formats: Option<Vec<String>>,
}

impl From<CoreTierPolicy> for TierPolicy {
    fn from(p: CoreTierPolicy) -> Self {
        Self {
            level: p.level,
            monthly_allocation: p.monthly_allocation,
            per_execution_limit: p.per_execution_limit,
            allowed_models: p.features.allowed_models,
            allowed_node_kinds: p.features.allowed_node_kinds,
            allowed_export_formats: p.features.allowed_export_formats,
        }
    }
}

impl TryFrom<TierPolicy> for CoreTierPolicy {
    type Error = BindError;
    fn try_from(p: TierPolicy) -> BindResult<Self> {
        if p.level.trim().is_empty() {
            return Err(BindError::invalid_argument("a tier policy needs a level"));
        }
        Ok(Self {
            level: p.level,
            monthly_allocation: p.monthly_allocation,
            per_execution_limit: p.per_execution_limit,
            features: lekhika::core::wallet::TierFeatures {
                allowed_models: p.allowed_models,
                allowed_node_kinds: p.allowed_node_kinds,
                allowed_export_formats: p.allowed_export_formats,
            },
        })
    }
}

/// A node of a validated flow.
#[napi(object)]
pub struct FlowNode {
    pub id: String,
    pub kind: String,
}

/// What `validateFlow` found: the nodes in run order and the input form.
#[napi(object)]
pub struct FlowInfo {
    pub nodes: Vec<FlowNode>,
    /// The input form fields (`{name, type, required, default, ...}`).
    pub input_fields: Vec<Value>,
}

/// An exported book file.
#[napi(object)]
pub struct ExportedFile {
    pub name: String,
    pub mime: String,
    pub bytes: napi::bindgen_prelude::Buffer,
}

//! The [`Node`] trait hosts implement for custom kinds, its context, the
//! registry mapping kind → factory, and the built-in kinds.

pub mod builtin;
pub(crate) mod context;
pub(crate) mod error;
mod policy;
pub(crate) mod registry;
pub(crate) mod schema;
pub(crate) mod schema_bounds;
pub mod sizing;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::exec::work::Job;
pub use context::{ItemScope, NodeContext};
pub use error::{NodeError, NodeFailure};
pub use policy::{NodePolicy, OutputValidator, RetryPolicy};
pub use registry::{BuiltNode, ModelChoice, NodeFactory, Registry, Warnings, UI_KEYS};
pub use sizing::{TokenSpan, Work};

/// Where a node uses a template variable (for load-time validation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarUse {
    pub path: Vec<String>,
    /// Used inside a map item, where `item.*` and friends exist.
    pub in_item: bool,
}

/// What a node produced.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NodeOutput {
    pub output: Value,
    /// Node-specific numbers worth keeping (word counts, scores...).
    #[serde(default)]
    pub metrics: Value,
}

impl NodeOutput {
    pub fn new(output: Value) -> Self {
        Self {
            output,
            metrics: Value::Null,
        }
    }
}

/// The AI work of one node on one model, for cost estimates: what a
/// typical run does and the most the flow's limits allow (see [`sizing`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CallEstimate {
    /// What kind of call: text is priced per token, images per image,
    /// speech per character (`Work::units`).
    #[serde(default)]
    pub kind: crate::store::CallKind,
    pub provider: String,
    pub model: String,
    pub expected: Work,
    pub worst: Work,
}

/// Helps nodes estimate: known input values, sizes of upstream outputs and
/// list lengths.
pub trait EstimateScope {
    /// Tokens a template variable expands to (expected and at most).
    fn var_tokens(&self, path: &[String]) -> TokenSpan;
    /// A resolved input value, if the path names a run input.
    fn input(&self, path: &[String]) -> Option<Value>;
    /// How many entries the list a variable names has (chapters of a map's
    /// output, of a continuity pass...), when that is known before the run.
    fn items(&self, path: &[String]) -> Option<u64>;
}

/// A unit of work in a flow. Built once per flow load from its config
/// (parse config in the factory, so a bad config fails at load, not at run).
///
/// Cancellation: long awaits should race `ctx.cancelled()`; the executor
/// also drops the node's future when the run is stopped.
#[async_trait]
pub trait Node: Send + Sync {
    /// Run once. The executor handles retries, timeouts, output validators,
    /// checkpointing and events around this call.
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError>;

    /// Template variables this node uses.
    fn variables(&self) -> Vec<VarUse> {
        Vec::new()
    }

    /// Input form fields this node declares (only `input` nodes do).
    fn input_fields(&self) -> Vec<builtin::input::InputField> {
        Vec::new()
    }

    /// Models this node may call (for tier checks).
    fn models(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Its models with the kind of call each gets, which says how it is
    /// priced (text per token, images per image, speech per character).
    /// Default: every model of [`Node::models`] for text.
    fn model_calls(&self) -> Vec<(String, String, crate::store::CallKind)> {
        self.models()
            .into_iter()
            .map(|(p, m)| (p, m, crate::store::CallKind::Text))
            .collect()
    }

    /// Export formats this node produces (for tier checks).
    fn export_formats(&self) -> Vec<String> {
        Vec::new()
    }

    /// Its AI calls, expected and at worst, for estimates.
    fn estimate(&self, _scope: &dyn EstimateScope) -> Vec<CallEstimate> {
        Vec::new()
    }

    /// Size in tokens of this node's output (for downstream prompts).
    fn output_tokens(&self, _scope: &dyn EstimateScope) -> TokenSpan {
        TokenSpan::ZERO
    }

    /// Entries of this node's output list (chapters), when known before the run.
    fn output_items(&self, _scope: &dyn EstimateScope) -> Option<u64> {
        None
    }

    /// Its output is its input (an approval gate): estimates use the
    /// upstream nodes' sizes.
    fn passes_through(&self) -> bool {
        false
    }

    /// Apply a run-wide provider/model override (e.g. `--provider`).
    fn override_model(&mut self, _provider: Option<&str>, _model: Option<&str>) {}
}

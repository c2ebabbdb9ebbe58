//! The executor: scheduling, attempts, metering, events, and the [`Engine`]
//! API hosts call.

pub(crate) mod abandoned;
pub(crate) mod attempt;
mod builder;
pub(crate) mod calls;
mod engine;
mod error;
pub mod estimate;
mod events;
mod interventions;
pub(crate) mod journal;
mod launch;
mod lease;
pub(crate) mod meter;
pub mod report;
mod runner;
pub(crate) mod scheduler;
pub(crate) mod shared;
mod tier;
pub(crate) mod work;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub use builder::{EngineBuilder, DEFAULT_LEASE};
pub use engine::{Engine, LoadedFlow};
pub use error::EngineError;
pub use events::{Event, EventKind, EventSink, EventStream, MAX_PENDING_DELTAS};
pub use interventions::Approval;

use crate::provider::Usage;
use crate::store::ExecutionStatus;

/// Options of one execution, stored with it (so resume uses the same).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    /// Override every text node's provider.
    pub provider: Option<String>,
    /// Override every text node's model.
    pub model: Option<String>,
    /// Provider and/or model per node id (a map's, a continuity pass's
    /// inner calls included); wins over `provider`/`model`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, crate::node::ModelChoice>,
    /// Nodes at once for this run.
    pub max_concurrency: Option<usize>,
    pub engine_id: Option<String>,
    /// Extra instruction per node (regenerate, rejected approvals).
    pub instructions: BTreeMap<String, String>,
    /// Approved gates, with the edited output if any.
    pub approvals: BTreeMap<String, Value>,
    /// Host-defined options (e.g. the CLI's output formats).
    pub host: Value,
    /// Serve a call from the same user's earlier runs when an identical
    /// one (provider, model, parameters, the full request) was paid for
    /// there: no request, no charge (`--reuse`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reuse: bool,
    /// Nodes regenerated in this execution: their calls are always asked
    /// anew, never served from earlier runs.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub ask_anew: std::collections::BTreeSet<String>,
    /// The new execution's id, chosen by the host (e.g. its frontend's own
    /// execution id) instead of a generated one: 1–128 ASCII letters,
    /// digits, `-`, `_`, `.` or `:`, unique in the store. Used by
    /// `create`/`start`/`submit` only; not stored with the options. A taken
    /// id is a `StoreError::Conflict` (e.g. a client retrying its request).
    #[serde(skip_serializing)]
    pub execution_id: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub execution_id: String,
    pub status: ExecutionStatus,
    pub message: Option<String>,
    /// `insufficient_tokens`, `awaiting_approval`, `provider_error`, `stopped`, ...
    pub reason: Option<String>,
    /// The node that paused or failed the run.
    pub node: Option<String>,
    /// Totals over the whole execution (every recorded call): what the
    /// wallet paid.
    pub usage: Usage,
    pub cost: i64,
    /// Why the node failed, for a failed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::node::NodeFailure>,
    /// The output under review, for a run paused at an approval gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Value>,
}

/// A running execution.
pub struct RunHandle {
    execution_id: String,
    owner: String,
    events: Option<EventStream>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<RunOutcome>,
}

impl RunHandle {
    pub fn execution_id(&self) -> &str {
        &self.execution_id
    }
    /// The user the run belongs to (a worker learns it when it claims).
    pub fn owner(&self) -> &str {
        &self.owner
    }
    /// The run's events (once; later calls return `None`).
    pub fn events(&mut self) -> Option<EventStream> {
        self.events.take()
    }
    /// Stop the run: in-flight calls are aborted, finished work is kept.
    pub fn stop(&self) {
        self.cancel.cancel();
    }
    /// A token that stops the run when cancelled (e.g. from a signal handler).
    pub fn stop_token(&self) -> CancellationToken {
        self.cancel.clone()
    }
    /// Wait for the run to end. Events not taken before are dropped (and no
    /// longer built), so a host that only waits pays nothing for them.
    pub async fn wait(mut self) -> Result<RunOutcome, EngineError> {
        drop(self.events.take());
        self.task
            .await
            .map_err(|e| EngineError::Task(e.to_string()))
    }
}

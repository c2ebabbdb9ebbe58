//! Storage traits the host implements (or takes from `lekhika-store`):
//! executions with their per-node checkpoints, artifacts (book files) and
//! books, and the work queue that lets many workers share one database.
//!
//! Every call is scoped by the owning user: a store must never return or
//! change a record owned by somebody else. Cross-tenant access is only ever
//! offered by explicit, separately named admin methods on concrete stores.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::flow::FlowJson;
use crate::provider::Usage;

/// Lifecycle of an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    /// Queued, not yet claimed by a worker.
    Pending,
    Running,
    /// Waiting for tokens or an approval; `resume` continues it.
    Paused,
    Stopped,
    Completed,
    Failed,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "stopped" => Self::Stopped,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
    /// Finished for good (resume will not run it again unless regenerated).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed)
    }
}

/// One execution of a flow: the seed's `engine_executions` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub id: String,
    pub owner: String,
    pub engine_id: Option<String>,
    /// The flow document as started (React Flow JSON), kept as text.
    pub flow: FlowJson,
    /// The user's inputs (the brief).
    pub input: serde_json::Value,
    /// Run options (provider override, concurrency, formats...), host-defined JSON.
    #[serde(default)]
    pub options: serde_json::Value,
    pub status: ExecutionStatus,
    /// Why it failed, stopped or paused, in words a user can act on.
    pub message: Option<String>,
    /// Machine-readable pause / failure reason (`insufficient_tokens`, `awaiting_approval`, ...).
    pub reason: Option<String>,
    /// Incremented by every start or resume; part of every ledger key so a
    /// crashed attempt's reservations never collide with a new one's.
    pub epoch: u32,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

/// Identifies one checkpoint entry: a node, one item of a map node, or one
/// saved step of a node's own work (items from [`STEP_BASE`] up; see
/// [`NodeKey::step`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeKey {
    pub node: String,
    pub item: Option<u32>,
}

impl NodeKey {
    pub fn node(node: impl Into<String>) -> Self {
        Self {
            node: node.into(),
            item: None,
        }
    }
    pub fn item(node: impl Into<String>, item: u32) -> Self {
        Self {
            node: node.into(),
            item: Some(item),
        }
    }
    /// Step `n` of a node that saves its work as it goes (the nested calls
    /// of `continuity` and `phrase_check`): kept under the node's own name, so
    /// regenerating the node forgets its steps too.
    pub fn step(node: impl Into<String>, n: u32) -> Self {
        Self {
            node: node.into(),
            item: Some(STEP_BASE.saturating_add(n)),
        }
    }
    /// The step number, if this entry is a saved step.
    pub fn step_index(&self) -> Option<u32> {
        self.item.and_then(|i| i.checked_sub(STEP_BASE))
    }
}

/// Item numbers from here up are a node's saved steps, not map items (a map
/// never has 2^31 items).
pub const STEP_BASE: u32 = 1 << 31;

/// A finished node's (or map item's) checkpointed result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct NodeResult {
    pub output: serde_json::Value,
    #[serde(default)]
    pub usage: Usage,
    /// Wallet tokens charged for this node.
    #[serde(default)]
    pub cost: u64,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub provider: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub started_at_ms: i64,
    #[serde(default)]
    pub finished_at_ms: i64,
    /// Node-specific metrics (word counts, review scores, length score...).
    #[serde(default)]
    pub metrics: serde_json::Value,
    /// Wallet charges of this result's AI calls (ledger key, amount). They
    /// are settled only after this result is checkpointed; a resume after a
    /// crash in between settles them from here, so work kept is charged
    /// once and work lost is never charged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
}

/// One settled-on-checkpoint charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub key: String,
    pub amount: i64,
}

/// A claim on a queued execution, held by one worker until `expires_at_ms`.
/// `token` increases with every claim: writes carrying an older token are
/// refused (fencing), so two workers never both advance one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub execution_id: String,
    pub owner: String,
    pub worker: String,
    pub token: u64,
    pub expires_at_ms: i64,
}

/// A generated file of an execution (book export, cover image...).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    pub mime: String,
    #[serde(with = "crate::util::base64_bytes")]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Artifact({}, {}, {} bytes)",
            self.name,
            self.mime,
            self.bytes.len()
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactMeta {
    pub name: String,
    pub mime: String,
    pub size: u64,
}

/// The seed's `books` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookRecord {
    pub id: String,
    pub owner: String,
    pub execution_id: String,
    pub title: String,
    pub author: Option<String>,
    pub word_count: u64,
    pub character_count: u64,
    pub formats: Vec<String>,
    pub created_at_ms: i64,
}

/// Storage failures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// No such record for this user (also what another tenant's record looks like).
    #[error("{what} not found")]
    NotFound { what: String },
    /// The caller lost its lease or raced another writer; do not retry the same write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The acting user may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The backend failed; `retryable` says whether trying again may help.
    #[error("store backend error: {message}")]
    Backend { message: String, retryable: bool },
}

impl StoreError {
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }
    pub fn backend(message: impl Into<String>) -> Self {
        Self::Backend {
            message: message.into(),
            retryable: false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Executions and their checkpoints. A checkpoint is the set of
/// [`NodeResult`]s saved so far: one row per finished node or map item, so
/// checkpoint bytes grow with outputs, never with the square of node count.
#[async_trait]
pub trait ExecutionStore: Send + Sync {
    async fn create_execution(&self, rec: &ExecutionRecord) -> StoreResult<()>;
    async fn get_execution(&self, owner: &str, id: &str) -> StoreResult<ExecutionRecord>;
    async fn list_executions(&self, owner: &str) -> StoreResult<Vec<ExecutionRecord>>;
    /// Set status, message and reason. With a `fence`, refused with
    /// [`StoreError::Conflict`] if that lease is no longer the current one.
    async fn set_status(
        &self,
        owner: &str,
        id: &str,
        status: ExecutionStatus,
        message: Option<&str>,
        reason: Option<&str>,
        fence: Option<&Lease>,
    ) -> StoreResult<()>;
    /// Start a new attempt: bump `epoch`, set status running; returns the new epoch.
    async fn begin_attempt(&self, owner: &str, id: &str, fence: Option<&Lease>)
        -> StoreResult<u32>;
    /// Replace the run options (e.g. after an approval edited an output).
    async fn set_options(
        &self,
        owner: &str,
        id: &str,
        options: &serde_json::Value,
    ) -> StoreResult<()>;
    /// Durably record a finished node or item. Must survive a process kill
    /// once it returns.
    async fn put_node_result(
        &self,
        owner: &str,
        id: &str,
        key: &NodeKey,
        result: &NodeResult,
        fence: Option<&Lease>,
    ) -> StoreResult<()>;
    /// Forget a node's result and all its items' results (regenerate).
    async fn remove_node_results(&self, owner: &str, id: &str, nodes: &[String])
        -> StoreResult<()>;
    async fn node_results(&self, owner: &str, id: &str) -> StoreResult<Vec<(NodeKey, NodeResult)>>;
    /// Ask whichever process runs this execution to stop.
    async fn request_stop(&self, owner: &str, id: &str) -> StoreResult<()>;
    async fn stop_requested(&self, owner: &str, id: &str) -> StoreResult<bool>;
    /// Clear a stop request (before resuming).
    async fn clear_stop(&self, owner: &str, id: &str) -> StoreResult<()>;
}

/// Book files and book records.
#[async_trait]
pub trait ArtifactStore: Send + Sync {
    async fn put_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        artifact: &Artifact,
    ) -> StoreResult<()>;
    async fn get_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        name: &str,
    ) -> StoreResult<Artifact>;
    async fn list_artifacts(
        &self,
        owner: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<ArtifactMeta>>;
    async fn put_book(&self, book: &BookRecord) -> StoreResult<()>;
    async fn list_books(&self, owner: &str) -> StoreResult<Vec<BookRecord>>;
}

/// A shared work queue: queued executions are claimed by workers under
/// leases. Claiming is the one place a worker acts across tenants, and it
/// only learns the owner of what it claimed.
#[async_trait]
pub trait ExecutionQueue: Send + Sync {
    /// Claim one pending execution, or one whose lease expired. `None` when idle.
    async fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<Lease>>;
    /// Extend a lease; `Ok(false)` when it was lost (another worker took over).
    async fn renew(&self, lease: &Lease, duration: Duration) -> StoreResult<bool>;
    /// Give the execution up (finished, paused or stopped).
    async fn release(&self, lease: &Lease) -> StoreResult<()>;
}

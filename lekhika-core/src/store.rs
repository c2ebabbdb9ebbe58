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
    /// Never stored: how [`ExecutionRecord::live_status`] reports a
    /// `running` execution whose runner died (no live lease). `resume`
    /// continues it from its checkpoint.
    Interrupted,
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
            Self::Interrupted => "interrupted",
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
            "interrupted" => Self::Interrupted,
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
    /// The runner lease, if one was taken and not released (stores fill it
    /// in on reads; ignored on create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner: Option<RunnerInfo>,
}

impl ExecutionRecord {
    /// The status as a user should read it: a `running` execution that no
    /// live runner holds was interrupted (its process died) and waits for
    /// `resume` (or a worker) to continue it.
    pub fn live_status(&self) -> ExecutionStatus {
        match (self.status, &self.runner) {
            (ExecutionStatus::Running, Some(r)) if r.is_live() => ExecutionStatus::Running,
            (ExecutionStatus::Running, _) => ExecutionStatus::Interrupted,
            (s, _) => s,
        }
    }
}

/// Identifies one checkpoint entry: a node, or one item of a map node.
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
    /// A row of the step scheme earlier versions used for whole-book passes
    /// (item numbers from 2^31 up). Their work is now in the call journal;
    /// such rows are ignored when a run is loaded.
    pub fn is_legacy_step(&self) -> bool {
        self.item.is_some_and(|i| i >= LEGACY_STEP_BASE)
    }
}

/// Item numbers from here up were saved steps in earlier versions (a map
/// never has 2^31 items).
pub const LEGACY_STEP_BASE: u32 = 1 << 31;

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
    /// Wallet charges settled with this result (checkpoints of earlier
    /// versions; calls now carry their own charge in the call journal).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charges: Vec<Charge>,
}

/// One settled-on-save charge: a reservation's ledger key and the amount it settles at.
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

/// What a recorded call asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    #[default]
    Text,
    Image,
    Speech,
}

impl CallKind {
    /// The unit calls of this kind are priced in, for messages.
    pub fn unit_name(self) -> &'static str {
        match self {
            Self::Text => "per-token",
            Self::Image => "per-image",
            Self::Speech => "per-character",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Speech => "speech",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Self::Text,
            "image" => Self::Image,
            "speech" => Self::Speech,
            _ => return None,
        })
    }
}

/// One entry of the **call journal**: a model call's complete reply,
/// recorded the moment it arrived, with its usage and wallet charge.
///
/// A node (or map item) that runs again — retried, resumed, taken over by
/// another worker — asks for the same request again; the engine finds the
/// entry by `(node, item, request)` and replays the reply instead of asking
/// the provider (and paying) a second time. `request` names the request by
/// a hash of everything that determines the reply, so a changed prompt is
/// asked anew.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    /// The node that made the call (a nested pass's calls are its host's).
    pub node: String,
    /// The map item, when the call was made for one.
    pub item: Option<u32>,
    /// The request's identity: 32 hex digits of a hash of the request, the
    /// attempt generation that asked it and its occurrence number.
    pub request: String,
    /// Recording order within `(node, item)`.
    pub seq: u32,
    pub kind: CallKind,
    pub provider: String,
    pub model: String,
    /// The reply as the node received it (a `TextResponse`,
    /// `ImageResponse` or `SpeechResponse` in JSON).
    pub reply: serde_json::Value,
    pub usage: Usage,
    /// Wallet tokens this call costs at its reported usage (0 without a price).
    pub cost: i64,
    /// Ledger key of the call's reservation (metered runs): settled at
    /// `cost` right after this entry is saved, or on the next start if the
    /// process died in between.
    pub charge: Option<String>,
    pub recorded_at_ms: i64,
    /// HTTP requests this entry accounts for: the reply's own and the
    /// failed tries before it on the same provider (a failed-tries entry:
    /// those of a call that failed, or that another provider answered).
    #[serde(default = "one")]
    pub requests: u32,
    /// What determines the reply (kind, provider, model, parameters, the
    /// full request, and its occurrence among identical requests of the
    /// attempt): the key under which `--reuse` finds it for the same user's
    /// later runs. `None` for entries that cannot be reused (abandoned,
    /// failed tries) and after `clear_reusable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Set on a reply reused from an earlier run: that run's execution id.
    /// Such an entry cost nothing and took no request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reused_from: Option<String>,
}

/// A reusable reply found for a content key: the execution that paid for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReusableCall {
    pub execution_id: String,
    pub call: CallRecord,
}

/// A user's reusable replies (`lekhika cache stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReuseStats {
    /// Replies later runs with `--reuse` can be served from.
    pub replies: u64,
    /// Executions they were asked in.
    pub executions: u64,
    /// Their provider tokens and what they cost when they were asked.
    pub usage: Usage,
    pub cost: i64,
    /// Replies served from them so far, and the tokens those did not spend.
    pub reused: u64,
    pub reused_usage: Usage,
}

fn one() -> u32 {
    1
}

impl CallRecord {
    /// A text call given up mid-reply (a cut or failed try, a stop): its
    /// estimated usage counts in totals; it is never replayed nor charged.
    pub fn is_abandoned(&self) -> bool {
        self.reply.get("abandoned") == Some(&serde_json::Value::Bool(true))
    }

    /// Failed tries of a call, kept to count requests (no reply, no usage).
    pub fn is_failed_tries(&self) -> bool {
        self.reply.get("failed_tries") == Some(&serde_json::Value::Bool(true))
    }

    /// A complete reply (neither abandoned mid-reply nor failed tries).
    pub fn is_reply(&self) -> bool {
        !self.is_abandoned() && !self.is_failed_tries()
    }

    /// A reply asked of a provider in this execution (not reused).
    pub fn is_live_reply(&self) -> bool {
        self.is_reply() && self.reused_from.is_none()
    }

    /// The tokens this execution spent on it: none for a reply reused from
    /// an earlier run (its `usage` is what it took when it was asked).
    pub fn spent(&self) -> Usage {
        if self.reused_from.is_some() {
            Usage::default()
        } else {
            self.usage
        }
    }

    /// Its usage is Lekhika's estimate (the server reported none, or the
    /// call was abandoned), not the provider's count.
    pub fn usage_estimated(&self) -> bool {
        self.is_abandoned()
            || self.reply.get("usage_estimated") == Some(&serde_json::Value::Bool(true))
    }
}

/// Who holds an execution's runner lease, as a store reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerInfo {
    /// The runner's name (`host-pid-…` for the CLI and bindings, the worker id for workers).
    pub worker: String,
    pub token: u64,
    /// Milliseconds until the lease expires, by the store's clock; zero or
    /// negative once it has expired (the runner is presumed dead).
    pub expires_in_ms: i64,
}

impl RunnerInfo {
    /// The lease has not expired.
    pub fn is_live(&self) -> bool {
        self.expires_in_ms > 0
    }
}

/// The answer to [`ExecutionStore::acquire_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseGrant {
    /// The caller is now the execution's one runner.
    Granted(Lease),
    /// Another runner holds a lease that has not expired.
    Held(RunnerInfo),
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
/// [`NodeResult`]s saved so far — one row per finished node or map item, so
/// checkpoint bytes grow with outputs, never with the square of node count —
/// plus the call journal ([`CallRecord`]s), one row per model reply.
/// Each execution has at most one runner at a time, holding its lease.
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
    /// Forget these nodes' results, all their items' results and their
    /// recorded calls (regenerate).
    async fn remove_node_results(&self, owner: &str, id: &str, nodes: &[String])
        -> StoreResult<()>;
    async fn node_results(&self, owner: &str, id: &str) -> StoreResult<Vec<(NodeKey, NodeResult)>>;
    /// Record a model call's reply in the call journal, replacing an entry
    /// with the same `(node, item, request)`. Must survive a process kill
    /// once it returns. With a `fence`, refused with
    /// [`StoreError::Conflict`] if that lease is no longer the current one.
    async fn put_call(
        &self,
        owner: &str,
        id: &str,
        call: &CallRecord,
        fence: Option<&Lease>,
    ) -> StoreResult<()>;
    /// Every recorded call of an execution, ordered by node, item and `seq`.
    async fn calls(&self, owner: &str, id: &str) -> StoreResult<Vec<CallRecord>>;
    /// The most recent reply `owner` paid for under `content`, in another
    /// execution than `except`, that was asked of a provider (not itself
    /// reused): what `--reuse` serves. Never another user's. A store that
    /// does not index content keeps the default: nothing to reuse.
    async fn reusable_call(
        &self,
        owner: &str,
        content: &str,
        except: &str,
    ) -> StoreResult<Option<ReusableCall>> {
        let _ = (owner, content, except);
        Ok(None)
    }
    /// Make every reply of `owner` unreusable (their runs keep them in
    /// their journals); how many were reusable.
    async fn clear_reusable(&self, owner: &str) -> StoreResult<u64> {
        let _ = owner;
        Ok(0)
    }
    /// What `owner` could reuse, and has reused.
    async fn reuse_stats(&self, owner: &str) -> StoreResult<ReuseStats> {
        let _ = owner;
        Ok(ReuseStats::default())
    }
    /// Become the execution's one runner for `duration`: granted when no
    /// lease is held, or the holder's has expired (a new, larger token
    /// fences the old holder out). Otherwise reports the live holder.
    async fn acquire_lease(
        &self,
        owner: &str,
        id: &str,
        runner: &str,
        duration: Duration,
    ) -> StoreResult<LeaseGrant>;
    /// Extend a lease; `Ok(false)` when it was lost (another runner took over).
    async fn renew_lease(&self, lease: &Lease, duration: Duration) -> StoreResult<bool>;
    /// Give the lease up (the run ended, paused or stopped).
    async fn release_lease(&self, lease: &Lease) -> StoreResult<()>;
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

/// One live runner lease, as operators see the fleet: ids and times only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerLease {
    /// The runner (`host-pid-…`, or a worker's id).
    pub worker: String,
    pub execution_id: String,
    pub token: u64,
    /// Until the lease expires unless renewed.
    pub expires_in_ms: i64,
    /// Since the runner took it.
    pub held_for_ms: i64,
}

/// A shared work queue: queued executions are claimed by workers under
/// leases (renewed and released through the [`ExecutionStore`]'s lease
/// methods). Claiming and listing the live runners are the only places that
/// cross tenants, and they reveal ids and times, never content.
#[async_trait]
pub trait ExecutionQueue: Send + Sync {
    /// Claim one pending execution, or a running one whose lease expired
    /// (its runner died). `None` when idle.
    async fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<Lease>>;
    /// Every live runner lease (not expired), by worker then execution.
    async fn runners(&self) -> StoreResult<Vec<RunnerLease>>;
}

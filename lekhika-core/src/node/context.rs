//! What a running node sees: its inputs, template scope, journaled and
//! metered model calls, sub-work, an event emitter and the run's cancellation.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::error::NodeError;
use super::policy::NodePolicy;
use super::registry::BuiltNode;
use crate::exec::calls;
use crate::exec::journal::{JournalScope, Occurrences};
use crate::exec::scheduler::UnitId;
use crate::exec::shared::RunShared;
use crate::exec::work::{Job, WorkMode, WorkRequest};
use crate::exec::EventKind;
use crate::provider::{
    ImageRequest, ImageResponse, SpeechRequest, SpeechResponse, TextRequest, TextResponse, Usage,
};
use crate::store::{Artifact, ArtifactStore, BookRecord, NodeResult};
use crate::template::{walk, Scope, Template};

/// The map item a node runs for, with its neighbours and earlier results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemScope {
    pub index: u32,
    pub item: Value,
    /// The list entry before this one (`null` for the first).
    pub prev_item: Value,
    /// The list entry after this one (`null` for the last).
    pub next_item: Value,
    /// The preceding item's result, when the map runs with sequential context.
    pub previous: Value,
    /// All earlier items' results, when the map runs with sequential context.
    pub results: Value,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Accounting {
    pub usage: Usage,
    pub cost: i64,
    pub provider: Option<String>,
    pub model: Option<String>,
}

/// Handed to [`super::Node::run`]: one attempt of a node, a map item or a
/// nested job.
///
/// Model calls made through it are **exactly once**: each reply is
/// recorded in the call journal the moment it completes, and the same
/// request made again by a retried, resumed or taken-over attempt replays
/// it instead of asking (and paying) again. Sub-work — items
/// ([`NodeContext::run_items`]) and nested jobs
/// ([`NodeContext::run_nested`]) — is scheduled, retried and saved by the
/// engine's one scheduler, for built-in and host-written nodes alike.
pub struct NodeContext {
    pub(crate) run: Arc<RunShared>,
    pub(crate) node_idx: usize,
    pub(crate) unit: UnitId,
    item: Option<Arc<ItemScope>>,
    attempt: u32,
    instruction: Option<String>,
    /// The policy of the node config this attempt runs (its call retries).
    pub(crate) policy: Arc<NodePolicy>,
    /// Where this attempt's calls are journaled.
    pub(crate) journal: JournalScope,
    /// A job nested in another unit (it cannot run items of its own).
    nested: bool,
    pub(crate) occurrences: Occurrences,
    /// Nested requests made so far by this attempt.
    nested_requests: AtomicU32,
    acc: Mutex<Accounting>,
}

/// What an attempt runs as.
pub(crate) struct AttemptScope {
    pub node_idx: usize,
    pub unit: UnitId,
    pub item: Option<Arc<ItemScope>>,
    pub attempt: u32,
    pub instruction: Option<String>,
    pub policy: Arc<NodePolicy>,
    pub journal: JournalScope,
    pub nested: bool,
}

impl NodeContext {
    pub(crate) fn new(run: Arc<RunShared>, a: AttemptScope) -> Self {
        Self {
            run,
            node_idx: a.node_idx,
            unit: a.unit,
            item: a.item,
            attempt: a.attempt,
            instruction: a.instruction,
            policy: a.policy,
            journal: a.journal,
            nested: a.nested,
            occurrences: Occurrences::default(),
            nested_requests: AtomicU32::new(0),
            acc: Mutex::new(Accounting::default()),
        }
    }

    pub fn node_id(&self) -> &str {
        &self.run.flow.graph.ids[self.node_idx]
    }
    pub fn execution_id(&self) -> &str {
        &self.run.execution_id
    }
    pub fn owner(&self) -> &str {
        &self.run.owner
    }
    /// The run's inputs (the brief).
    pub fn input(&self) -> &Value {
        &self.run.input
    }
    /// The map item this node runs for, if any.
    pub fn item(&self) -> Option<&ItemScope> {
        self.item.as_deref()
    }
    /// 1 for the first try; grows with retries and validation regenerations.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// Extra instruction for this run of the node (from regenerate, a
    /// rejected approval, or a failed output validation). AI nodes append it
    /// to their prompt.
    pub fn instruction(&self) -> Option<&str> {
        self.instruction.as_deref()
    }
    pub fn cancellation(&self) -> &CancellationToken {
        &self.run.cancel
    }
    /// The output of an upstream node, if it has finished.
    pub fn node_output(&self, id: &str) -> Option<Arc<Value>> {
        let idx = *self.run.flow.graph.index.get(id)?;
        self.run.outputs.get(idx)?.get().cloned()
    }
    /// Outputs of this node's direct upstream nodes, in edge order.
    pub fn upstream_outputs(&self) -> Vec<(Arc<str>, Arc<Value>)> {
        let g = &self.run.flow.graph;
        g.deps[self.node_idx]
            .iter()
            .filter_map(|&d| Some((g.ids[d].clone(), self.run.outputs.get(d)?.get()?.clone())))
            .collect()
    }
    pub fn render(&self, t: &Template) -> Result<String, NodeError> {
        Ok(t.render(self)?)
    }
    /// Render a single-variable template to its JSON value, or text otherwise.
    pub fn render_value(&self, t: &Template) -> Result<Value, NodeError> {
        match t.render_value(self) {
            Some(r) => Ok(r?),
            None => Ok(Value::String(self.render(t)?)),
        }
    }

    /// Report progress in words (shown by hosts, e.g. the CLI's bars).
    pub fn progress(&self, message: impl Into<String>) {
        self.run.events.emit(EventKind::Progress {
            node: self.node_id().to_string(),
            item: self.item_index(),
            message: message.into(),
        });
    }

    pub(crate) fn item_index(&self) -> Option<u32> {
        self.item.as_ref().map(|i| i.index)
    }

    /// One text call: replayed from the call journal if this request was
    /// answered before, else reserved, asked (faults retried inside the
    /// call), recorded and charged at the reported usage. Streams deltas
    /// as events.
    pub async fn generate_text(&self, req: &TextRequest) -> Result<TextResponse, NodeError> {
        calls::text(self, req).await
    }

    /// An image call, journaled like [`NodeContext::generate_text`].
    pub async fn generate_image(&self, req: &ImageRequest) -> Result<ImageResponse, NodeError> {
        calls::image(self, req).await
    }

    /// A speech call, journaled like [`NodeContext::generate_text`].
    pub async fn synthesize_speech(
        &self,
        req: &SpeechRequest,
    ) -> Result<SpeechResponse, NodeError> {
        calls::speech(self, req).await
    }

    /// Run `node` once per item, at most `limit` at once, as items of this
    /// node (what `map` does): each finished item is checkpointed and never
    /// runs again, not after a retry of this node nor after a resume. Each
    /// item runs under `node`'s policy; `instruction` is appended to every
    /// item's prompt. Results come back in the order of `items`.
    ///
    /// Only a flow node may run items (not a map item or a nested job), and
    /// item indices must be distinct.
    pub async fn run_items(
        &self,
        node: &BuiltNode,
        items: Vec<ItemScope>,
        limit: usize,
        instruction: Option<&str>,
    ) -> Result<Vec<NodeResult>, NodeError> {
        if self.item.is_some() || self.nested {
            return Err(NodeError::failed(
                "only a flow node can run items (not a map item or nested work)",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = items.iter().find(|i| !seen.insert(i.index)) {
            return Err(NodeError::failed(format!(
                "item {} appears twice in one request",
                dup.index
            )));
        }
        let jobs = items
            .into_iter()
            .map(|scope| Job::new(scope, instruction.map(str::to_string)))
            .collect();
        self.submit(node, jobs, limit, WorkMode::Items).await
    }

    /// Run `node` once per job inside this attempt (a whole-book pass's
    /// checks and rewrites), at most `limit` at once, each under `node`'s
    /// policy. Jobs are not checkpointed on their own: their model calls
    /// are journaled as this node's, so when this node runs again (retry,
    /// resume) the jobs replay their replies instead of asking again. Their
    /// usage and cost count as this node's own. Results come back in job
    /// order; the first job that fails for good fails the request (jobs
    /// still running finish first).
    pub async fn run_nested(
        &self,
        node: &BuiltNode,
        jobs: Vec<Job>,
        limit: usize,
    ) -> Result<Vec<NodeResult>, NodeError> {
        // Numbered in the order this attempt asks, like its own calls: a
        // retried or resumed attempt asks in the same order and replays.
        let n = self.nested_requests.fetch_add(1, Ordering::Relaxed);
        let scope = self.journal.request(n);
        let results = self
            .submit(node, jobs, limit, WorkMode::Nested { scope })
            .await?;
        for r in &results {
            self.absorb(
                r.usage,
                r.cost as i64,
                r.provider.as_deref(),
                r.model.as_deref(),
            );
        }
        Ok(results)
    }

    async fn submit(
        &self,
        node: &BuiltNode,
        jobs: Vec<Job>,
        limit: usize,
        mode: WorkMode,
    ) -> Result<Vec<NodeResult>, NodeError> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.run
            .work
            .send(WorkRequest {
                parent: self.unit,
                node_idx: self.node_idx,
                built: node.clone(),
                jobs,
                limit: limit.max(1),
                mode,
                reply,
            })
            .map_err(|_| NodeError::Cancelled)?;
        answer.await.map_err(|_| NodeError::Cancelled)?
    }

    pub(crate) fn account(&self, usage: Usage, cost: i64, provider: &str, model: &str) {
        if let Ok(mut a) = self.acc.lock() {
            a.usage.add(usage);
            a.cost = a.cost.saturating_add(cost);
            a.provider = Some(provider.to_string());
            a.model = Some(model.to_string());
        }
    }

    /// Count a nested job's usage and cost as this node's own.
    pub(crate) fn absorb(
        &self,
        usage: Usage,
        cost: i64,
        provider: Option<&str>,
        model: Option<&str>,
    ) {
        if let Ok(mut a) = self.acc.lock() {
            a.usage.add(usage);
            a.cost = a.cost.saturating_add(cost);
            if a.provider.is_none() {
                a.provider = provider.map(str::to_string);
                a.model = model.map(str::to_string);
            }
        }
    }

    pub(crate) fn take_accounting(&self) -> Accounting {
        self.acc.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Store a file of this execution (export nodes).
    pub async fn put_artifact(&self, artifact: &Artifact) -> Result<(), NodeError> {
        let store = self.artifact_store()?;
        store
            .put_artifact(&self.run.owner, &self.run.execution_id, artifact)
            .await?;
        Ok(())
    }

    /// Whether this engine keeps files, so [`NodeContext::put_artifact`]
    /// and [`NodeContext::artifact`] work.
    pub fn can_store_artifacts(&self) -> bool {
        self.run.artifacts.is_some()
    }

    /// A file of this execution stored earlier (e.g. a `speech` node's
    /// chapter audio, named in its output).
    pub async fn artifact(&self, name: &str) -> Result<Artifact, NodeError> {
        Ok(self
            .artifact_store()?
            .get_artifact(&self.run.owner, &self.run.execution_id, name)
            .await?)
    }

    pub async fn put_book(&self, book: &BookRecord) -> Result<(), NodeError> {
        self.artifact_store()?.put_book(book).await?;
        Ok(())
    }

    fn artifact_store(&self) -> Result<&Arc<dyn ArtifactStore>, NodeError> {
        self.run
            .artifacts
            .as_ref()
            .ok_or_else(|| NodeError::failed("no artifact store is configured for this engine"))
    }
}

impl Scope for NodeContext {
    fn lookup(&self, path: &[String]) -> Option<Value> {
        let (root, rest) = path.split_first()?;
        match root.as_str() {
            "input" => walk(&self.run.input, rest).cloned(),
            "nodes" => {
                let (id, rest) = rest.split_first()?;
                let (out, rest) = rest.split_first()?;
                if out != "output" {
                    return None;
                }
                let v = self.node_output(id)?;
                walk(&v, rest).cloned()
            }
            "item" | "prev_item" | "next_item" | "previous" | "results" => {
                let it = self.item.as_ref()?;
                match (root.as_str(), rest.first().map(String::as_str)) {
                    ("item", Some("index")) if rest.len() == 1 => Some(Value::from(it.index)),
                    ("item", Some("number")) if rest.len() == 1 => Some(Value::from(it.index + 1)),
                    ("item", _) => walk(&it.item, rest).cloned(),
                    ("prev_item", _) => {
                        Some(walk(&it.prev_item, rest).cloned().unwrap_or(Value::Null))
                    }
                    ("next_item", _) => {
                        Some(walk(&it.next_item, rest).cloned().unwrap_or(Value::Null))
                    }
                    ("previous", _) => {
                        Some(walk(&it.previous, rest).cloned().unwrap_or(Value::Null))
                    }
                    _ => Some(walk(&it.results, rest).cloned().unwrap_or(Value::Null)),
                }
            }
            _ => None,
        }
    }
}

//! What a running node sees: its inputs, template scope, metered model
//! access, an event emitter and the run's cancellation.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::error::NodeError;
use crate::exec::shared::RunShared;
use crate::exec::EventKind;
use crate::provider::{
    ImageRequest, ImageResponse, SpeechRequest, SpeechResponse, TextRequest, TextResponse, Usage,
};
use crate::store::{Artifact, ArtifactStore, BookRecord};
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

/// Handed to [`super::Node::run`].
pub struct NodeContext {
    pub(crate) run: Arc<RunShared>,
    pub(crate) node_idx: usize,
    item: Option<Arc<ItemScope>>,
    attempt: u32,
    instruction: Option<String>,
    acc: Mutex<Accounting>,
    seq: AtomicU32,
    /// The next step number ([`NodeContext::reserve_steps`]).
    next_step: AtomicU32,
}

impl NodeContext {
    pub(crate) fn new(
        run: Arc<RunShared>,
        node_idx: usize,
        item: Option<Arc<ItemScope>>,
        attempt: u32,
        instruction: Option<String>,
    ) -> Self {
        Self {
            run,
            node_idx,
            item,
            attempt,
            instruction,
            acc: Mutex::new(Accounting::default()),
            seq: AtomicU32::new(0),
            next_step: AtomicU32::new(0),
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

    /// Number `count` steps of this node's work, in the order the node
    /// asks (the same on every attempt given the same saved steps), so each
    /// can be saved and found again by number. `None` for map items, whose
    /// work is saved per item instead.
    pub(crate) fn reserve_steps(&self, count: usize) -> Option<u32> {
        if self.item.is_some() {
            return None;
        }
        let count = u32::try_from(count).ok()?;
        let first = self.next_step.fetch_add(count, Ordering::Relaxed);
        // Past the last step number a key can hold, steps are not saved.
        first
            .checked_add(count)
            .filter(|&end| end <= u32::MAX - crate::store::STEP_BASE)
            .map(|_| first)
    }

    fn item_index(&self) -> Option<u32> {
        self.item.as_ref().map(|i| i.index)
    }

    fn next_key(&self) -> String {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let item = self.item_index().map_or("-".to_string(), |i| i.to_string());
        format!(
            "{}/{}/{}/e{}/a{}/c{}",
            self.run.execution_id,
            self.node_id(),
            item,
            self.run.epoch,
            self.attempt,
            seq
        )
    }

    /// One metered text call: reserve the worst case, call, price the
    /// reported usage (settled once the node's result is checkpointed), or
    /// release on failure. Streams deltas as events.
    pub async fn generate_text(&self, req: &TextRequest) -> Result<TextResponse, NodeError> {
        let key = self.next_key();
        self.run.meter.reserve(&key, self.node_id(), req).await?;
        let node = self.node_id().to_string();
        let item = self.item_index();
        let events = self.run.events.clone();
        let mut on_delta = move |d: &str| {
            events.delta(&node, item, d);
        };
        let call = self.run.models.generate_text(req, &mut on_delta);
        let result = tokio::select! {
            r = call => r.map_err(NodeError::from),
            _ = self.run.cancel.cancelled() => Err(NodeError::Cancelled),
        };
        match result {
            Ok(resp) => {
                let cost = self.run.meter.settle_later(
                    &key,
                    self.node_id(),
                    self.item_index(),
                    &req.provider,
                    &req.model,
                    resp.usage,
                );
                self.account(resp.usage, cost, &req.provider, &req.model);
                Ok(resp)
            }
            Err(e) => {
                self.run.meter.release(&key).await?;
                Err(e)
            }
        }
    }

    /// An image call (metered by output tokens the provider reports, if any).
    pub async fn generate_image(&self, req: &ImageRequest) -> Result<ImageResponse, NodeError> {
        let result = tokio::select! {
            r = self.run.models.generate_image(req) => r.map_err(NodeError::from),
            _ = self.run.cancel.cancelled() => Err(NodeError::Cancelled),
        }?;
        self.account(result.usage, 0, &req.provider, &req.model);
        Ok(result)
    }

    pub async fn synthesize_speech(
        &self,
        req: &SpeechRequest,
    ) -> Result<SpeechResponse, NodeError> {
        tokio::select! {
            r = self.run.models.synthesize_speech(req) => r.map_err(NodeError::from),
            _ = self.run.cancel.cancelled() => Err(NodeError::Cancelled),
        }
    }

    fn account(&self, usage: Usage, cost: i64, provider: &str, model: &str) {
        if let Ok(mut a) = self.acc.lock() {
            a.usage.add(usage);
            a.cost += cost;
            a.provider = Some(provider.to_string());
            a.model = Some(model.to_string());
        }
    }

    /// Count a nested call's usage and cost as this node's own (nodes that
    /// run other nodes' configs inside them, e.g. `continuity`).
    pub(crate) fn absorb(
        &self,
        usage: Usage,
        cost: i64,
        provider: Option<&str>,
        model: Option<&str>,
    ) {
        if let Ok(mut a) = self.acc.lock() {
            a.usage.add(usage);
            a.cost += cost;
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

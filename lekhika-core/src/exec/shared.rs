//! State shared by every task of one run.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::events::EventSink;
use super::meter::Meter;
use crate::flow::Flow;
use crate::provider::{ModelProvider, Usage};
use crate::store::{ArtifactStore, ExecutionStore, Lease, NodeResult};

pub(crate) struct RunShared {
    pub execution_id: String,
    pub owner: String,
    pub epoch: u32,
    pub input: Value,
    pub flow: Arc<Flow>,
    /// Finished outputs by node index: set once, read lock-free.
    pub outputs: Vec<OnceLock<Arc<Value>>>,
    pub models: Arc<dyn ModelProvider>,
    pub meter: Meter,
    pub events: EventSink,
    pub store: Arc<dyn ExecutionStore>,
    pub artifacts: Option<Arc<dyn ArtifactStore>>,
    pub fence: Option<Lease>,
    /// Extra instructions per node (regenerate, rejected approvals).
    pub instructions: HashMap<String, String>,
    /// Approved outputs per approval node (`null` = approved as is).
    pub approvals: HashMap<String, Value>,
    /// Checkpointed map items, handed to their map node once.
    pub item_results: Mutex<HashMap<usize, BTreeMap<u32, NodeResult>>>,
    /// Saved steps of unfinished nodes by node index and step number: work a
    /// node's earlier attempt (or an earlier run) already paid for.
    pub steps: Mutex<HashMap<usize, BTreeMap<u32, NodeResult>>>,
    pub cancel: CancellationToken,
    /// Usage and cost of every checkpointed result of the execution
    /// (earlier attempts' included), for the run's final figures.
    pub totals: Totals,
}

/// Running sums of checkpointed results.
#[derive(Default)]
pub(crate) struct Totals(Mutex<(Usage, i64)>);

impl Totals {
    pub fn add(&self, r: &NodeResult) {
        if let Ok(mut t) = self.0.lock() {
            t.0.add(r.usage);
            t.1 += r.cost as i64;
        }
    }

    pub fn get(&self) -> (Usage, i64) {
        self.0.lock().map(|t| *t).unwrap_or_default()
    }
}

impl RunShared {
    pub fn take_item_results(&self, node_idx: usize) -> BTreeMap<u32, NodeResult> {
        self.item_results
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&node_idx))
            .unwrap_or_default()
    }

    /// Step `n` of node `idx`, if it was saved.
    pub fn saved_step(&self, idx: usize, n: u32) -> Option<NodeResult> {
        self.steps.lock().ok()?.get(&idx)?.get(&n).cloned()
    }

    pub fn remember_step(&self, idx: usize, n: u32, result: NodeResult) {
        if let Ok(mut m) = self.steps.lock() {
            m.entry(idx).or_default().insert(n, result);
        }
    }

    /// Forget node `idx`'s saved steps (its output was rejected, so its work
    /// is done again); true if it had any.
    pub fn forget_steps(&self, idx: usize) -> bool {
        self.steps
            .lock()
            .ok()
            .and_then(|mut m| m.remove(&idx))
            .is_some_and(|s| !s.is_empty())
    }

    pub fn node_id(&self, idx: usize) -> &str {
        &self.flow.graph.ids[idx]
    }
}

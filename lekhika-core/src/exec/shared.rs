//! State shared by every task of one run.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::events::EventSink;
use super::journal::Journal;
use super::meter::Meter;
use super::work::WorkRequest;
use crate::flow::Flow;
use crate::provider::ModelProvider;
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
    /// The runner lease every write is fenced with.
    pub fence: Option<Lease>,
    /// Extra instructions per node (regenerate, rejected approvals).
    pub instructions: HashMap<String, String>,
    /// `--reuse`: identical calls are served from the owner's earlier runs.
    pub reuse: bool,
    /// Nodes whose calls are always asked anew (regenerated).
    pub ask_anew: std::collections::HashSet<String>,
    /// Approved outputs per approval node (`null` = approved as is).
    pub approvals: HashMap<String, Value>,
    /// Checkpointed map items by node index and item number (loaded, and
    /// saved by this run), until their map node finishes.
    pub items: Mutex<HashMap<usize, BTreeMap<u32, NodeResult>>>,
    /// Every recorded model call of the execution.
    pub journal: Journal,
    /// Sub-work requests to the runner.
    pub work: mpsc::UnboundedSender<WorkRequest>,
    /// Numbers live calls (their ledger keys) within this epoch.
    pub call_counter: AtomicU64,
    pub cancel: CancellationToken,
}

impl RunShared {
    pub fn node_id(&self, idx: usize) -> &str {
        &self.flow.graph.ids[idx]
    }

    /// The saved result of item `item` of map node `idx`.
    pub fn saved_item(&self, idx: usize, item: u32) -> Option<NodeResult> {
        self.items.lock().ok()?.get(&idx)?.get(&item).cloned()
    }

    /// How many items of map node `idx` are saved.
    pub fn saved_items(&self, idx: usize) -> usize {
        self.items
            .lock()
            .ok()
            .and_then(|m| m.get(&idx).map(BTreeMap::len))
            .unwrap_or(0)
    }

    pub fn remember_item(&self, idx: usize, item: u32, result: NodeResult) {
        if let Ok(mut m) = self.items.lock() {
            m.entry(idx).or_default().insert(item, result);
        }
    }

    /// Node `idx` finished: its items' results are in its own output now.
    pub fn forget_items(&self, idx: usize) {
        if let Ok(mut m) = self.items.lock() {
            m.remove(&idx);
        }
    }

    /// A ledger key no other call of this execution uses.
    pub fn next_call_key(&self, node: &str, item: Option<u32>) -> String {
        let n = self.call_counter.fetch_add(1, Ordering::Relaxed);
        let item = item.map_or("-".to_string(), |i| i.to_string());
        format!(
            "{}/{}/{}/e{}/c{}",
            self.execution_id, node, item, self.epoch, n
        )
    }
}

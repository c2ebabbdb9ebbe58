//! Sub-work a running node asks the scheduler for, through its
//! [`NodeContext`](crate::node::NodeContext): the items of a map, or the
//! jobs of a whole-book pass. Built-in and host-written nodes ask the same
//! way; the scheduler decides when each job runs, retries it under its own
//! policy and reports the group's end.

use tokio::sync::oneshot;

use super::journal::JournalScope;
use super::scheduler::UnitId;
use crate::node::{BuiltNode, ItemScope, NodeError};
use crate::store::NodeResult;

/// One job of sub-work: the item its node sees and an extra instruction
/// appended to its prompt.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Job {
    pub scope: ItemScope,
    pub instruction: Option<String>,
}

impl Job {
    pub fn new(scope: ItemScope, instruction: Option<String>) -> Self {
        Self { scope, instruction }
    }
}

/// How finished jobs are kept.
#[derive(Debug, Clone)]
pub(crate) enum WorkMode {
    /// Items of a flow node (a map): each finished item is checkpointed
    /// under `(node, item index)` and never runs again; its calls are
    /// journaled under the item.
    Items,
    /// Work inside its host (a pass's checks and rewrites): not
    /// checkpointed; its calls are journaled in the host's scope, so a
    /// host that runs again replays them.
    Nested { scope: JournalScope },
}

pub(crate) struct WorkRequest {
    pub parent: UnitId,
    pub node_idx: usize,
    pub built: BuiltNode,
    pub jobs: Vec<Job>,
    pub limit: usize,
    pub mode: WorkMode,
    pub reply: oneshot::Sender<Result<Vec<NodeResult>, NodeError>>,
}

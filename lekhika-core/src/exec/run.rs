//! The scheduler: a node starts as soon as all its inputs are done; ready
//! nodes run concurrently up to the run-wide limit. Work per node is a few
//! counter updates: no scan over all nodes, no polling.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::task::JoinSet;

use super::attempt::run_node;
use super::shared::RunShared;
use crate::node::NodeError;

/// How a drive of the graph ended.
pub(crate) enum DriveEnd {
    Completed,
    Stopped,
    /// A node asked to pause the run (tokens, approval).
    Paused {
        node: String,
        error: NodeError,
    },
    Failed {
        node: String,
        error: NodeError,
    },
}

/// Run every node not yet `done`, respecting dependencies and `limit`.
pub(crate) async fn drive(run: Arc<RunShared>, done: &[bool], limit: usize) -> DriveEnd {
    let g = &run.flow.graph;
    let n = g.len();
    let mut waiting: Vec<u32> = (0..n)
        .map(|i| g.deps[i].iter().filter(|&&d| !done[d]).count() as u32)
        .collect();
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| !done[i] && waiting[i] == 0).collect();
    let mut tasks: JoinSet<(usize, Result<(), NodeError>)> = JoinSet::new();
    let mut halt: Option<DriveEnd> = None;
    let limit = limit.max(1);
    loop {
        while halt.is_none() && tasks.len() < limit {
            let Some(i) = ready.pop_front() else { break };
            let r = run.clone();
            tasks.spawn(async move { (i, run_node(r, i).await) });
        }
        let joined = tokio::select! {
            j = tasks.join_next() => j,
            _ = run.cancel.cancelled(), if halt.is_none() => {
                halt = Some(DriveEnd::Stopped);
                // In-flight calls see the token and abort; wait for their cleanup.
                continue;
            }
        };
        let Some(joined) = joined else { break };
        let (i, result) = match joined {
            Ok(x) => x,
            Err(e) => {
                halt.get_or_insert(DriveEnd::Failed {
                    node: String::new(),
                    error: NodeError::failed(format!("node task panicked: {e}")),
                });
                continue;
            }
        };
        match result {
            Ok(()) => {
                for &c in &g.children[i] {
                    waiting[c] -= 1;
                    if waiting[c] == 0 {
                        ready.push_back(c);
                    }
                }
            }
            Err(NodeError::Cancelled) => {
                halt.get_or_insert(DriveEnd::Stopped);
            }
            Err(error) => {
                let node = g.ids[i].clone();
                let end = if error.pauses_run() {
                    DriveEnd::Paused { node, error }
                } else {
                    DriveEnd::Failed { node, error }
                };
                // A failure outranks a pause; a stop outranks both.
                match (&halt, &end) {
                    (None, _) | (Some(DriveEnd::Paused { .. }), DriveEnd::Failed { .. }) => {
                        halt = Some(end)
                    }
                    _ => {}
                }
            }
        }
    }
    if run.cancel.is_cancelled() {
        return DriveEnd::Stopped;
    }
    halt.unwrap_or(DriveEnd::Completed)
}

//! The scheduler: a node starts as soon as all its inputs are done; ready
//! nodes run concurrently up to the run-wide limit. Work per node is a few
//! counter updates: no scan over all nodes, no polling.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::attempt::run_node;
use super::shared::RunShared;
use crate::node::NodeError;

/// An inline node that ran at least this long is followed by a yield.
const SLOW_INLINE_NODE: Duration = Duration::from_millis(1);

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
        if halt.is_none() && run.cancel.is_cancelled() {
            halt = Some(DriveEnd::Stopped);
        }
        // A lone ready node with nothing in flight (a chain): run it on this
        // task, sparing a spawn, a join and two cross-thread wake-ups.
        if halt.is_none() && tasks.is_empty() && ready.len() == 1 {
            let Some(i) = ready.pop_front() else { break };
            let started = Instant::now();
            let result = catch_panic(run_node(run.clone(), i)).await;
            settle(&run, i, result, &mut waiting, &mut ready, &mut halt);
            // Nodes that finish without waiting on anything would keep this
            // task from ever yielding; give the runtime its turn (the stop
            // watcher, other runs) now and then, and after any slow node.
            if started.elapsed() >= SLOW_INLINE_NODE {
                tokio::task::yield_now().await;
            } else {
                tokio::task::coop::consume_budget().await;
            }
            continue;
        }
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
        settle(&run, i, result, &mut waiting, &mut ready, &mut halt);
    }
    if run.cancel.is_cancelled() {
        return DriveEnd::Stopped;
    }
    halt.unwrap_or(DriveEnd::Completed)
}

/// Account for node `i`'s end: release its children, or record why the run halts.
fn settle(
    run: &RunShared,
    i: usize,
    result: Result<(), NodeError>,
    waiting: &mut [u32],
    ready: &mut VecDeque<usize>,
    halt: &mut Option<DriveEnd>,
) {
    let g = &run.flow.graph;
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
            let node = g.ids[i].to_string();
            let end = if error.pauses_run() {
                DriveEnd::Paused { node, error }
            } else {
                DriveEnd::Failed { node, error }
            };
            // A failure outranks a pause; a stop outranks both.
            match (&*halt, &end) {
                (None, _) | (Some(DriveEnd::Paused { .. }), DriveEnd::Failed { .. }) => {
                    *halt = Some(end)
                }
                _ => {}
            }
        }
    }
}

/// A node run on the scheduler's own task: a panic in it fails the node
/// (as it does for a spawned node) instead of unwinding the scheduler.
async fn catch_panic(
    fut: impl std::future::Future<Output = Result<(), NodeError>>,
) -> Result<(), NodeError> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(p) => p,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                std::task::Poll::Ready(Err(NodeError::failed(format!("node panicked: {what}"))))
            }
        }
    })
    .await
}

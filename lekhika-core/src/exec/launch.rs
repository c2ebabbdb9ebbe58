//! Launching a run under its runner lease: load the checkpoint and the call
//! journal, recover the wallet, spawn the runner with a watcher for remote
//! stops and lease renewal, and write the final status.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::engine::EngineInner;
use super::error::EngineError;
use super::events::{EventKind, EventSink};
use super::journal::Journal;
use super::meter::Meter;
use super::runner::drive;
use super::scheduler::DriveEnd;
use super::shared::RunShared;
use super::work::WorkRequest;
use super::{RunHandle, RunOptions, RunOutcome};
use crate::flow::Flow;
use crate::node::error::NodeFailure;
use crate::node::NodeError;
use crate::store::{ExecutionRecord, ExecutionStatus, Lease, NodeResult};
use crate::util::{now_ms, period_of};

pub(crate) struct LaunchSpec {
    pub record: ExecutionRecord,
    pub options: RunOptions,
    pub flow: Arc<Flow>,
    /// The runner lease this run holds (taken by the caller).
    pub lease: Lease,
    /// How long each renewal extends it.
    pub lease_len: Duration,
}

/// Start the run; on failure before it starts, the lease is given back.
pub(crate) async fn launch(
    inner: Arc<EngineInner>,
    spec: LaunchSpec,
) -> Result<RunHandle, EngineError> {
    let lease = spec.lease.clone();
    match prepare(&inner, spec).await {
        Ok(handle) => Ok(handle),
        Err(e) => {
            let _ = inner.store.release_lease(&lease).await;
            Err(e)
        }
    }
}

async fn prepare(inner: &Arc<EngineInner>, spec: LaunchSpec) -> Result<RunHandle, EngineError> {
    let LaunchSpec {
        record,
        options,
        flow,
        lease,
        lease_len,
    } = spec;
    let (owner, id) = (record.owner.clone(), record.id.clone());
    let store = inner.store.clone();
    let fence = Some(lease);
    let epoch = store.begin_attempt(&owner, &id, fence.as_ref()).await?;
    store.clear_stop(&owner, &id).await?;

    let results = store.node_results(&owner, &id).await?;
    let journal = Journal::load(store.calls(&owner, &id).await?);

    // Wallet: a crashed attempt's open reservations are settled when their
    // reply was recorded (or, in checkpoints of earlier versions, their
    // result saved) and released when it was lost; then the period rolls over.
    let (wallet, limit) = match &inner.wallet {
        Some(w) => {
            let mut kept = journal.charges();
            for (_, r) in &results {
                for c in &r.charges {
                    kept.insert(c.key.clone(), c.amount);
                }
            }
            for r in w.open_reservations(&owner, &id).await? {
                match kept.get(r.key.as_str()) {
                    Some(&amount) => w.settle(&owner, &r.key, amount).await?,
                    None => w.release(&owner, &r.key).await?,
                }
            }
            match w.wallet(&owner).await? {
                Some(wallet) => {
                    let policy = match &wallet.level {
                        Some(level) => w.tier_policy(level).await?,
                        None => None,
                    };
                    if policy.is_some() {
                        w.ensure_period(&owner, &period_of(now_ms())).await?;
                    }
                    (Some(w.clone()), policy.and_then(|p| p.per_execution_limit))
                }
                None => (None, None),
            }
        }
        None => (None, None),
    };

    // Checkpoint: finished nodes are done; finished items go to their map.
    let n = flow.len();
    let mut done = vec![false; n];
    let outputs: Vec<OnceLock<Arc<Value>>> = (0..n).map(|_| OnceLock::new()).collect();
    let mut items: HashMap<usize, BTreeMap<u32, NodeResult>> = HashMap::new();
    for (key, result) in results {
        let Some(&idx) = flow.graph.index.get(key.node.as_str()) else {
            continue;
        };
        if key.is_legacy_step() {
            continue;
        }
        match key.item {
            None => {
                done[idx] = true;
                let _ = outputs[idx].set(Arc::new(result.output));
            }
            Some(i) => {
                items.entry(idx).or_default().insert(i, result);
            }
        }
    }
    items.retain(|idx, _| !done[*idx]);

    let (events, stream) = EventSink::new(&id);
    let cancel = CancellationToken::new();
    let (work, work_rx) = mpsc::unbounded_channel();
    let run = Arc::new(RunShared {
        execution_id: id.clone(),
        owner: owner.clone(),
        epoch,
        input: record.input.clone(),
        flow,
        outputs,
        models: inner.models.clone(),
        meter: Meter {
            wallet,
            prices: inner.prices.clone(),
            owner: owner.clone(),
            execution_id: id.clone(),
            limit,
        },
        events: events.clone(),
        store,
        artifacts: inner.artifacts.clone(),
        fence,
        instructions: options.instructions.clone().into_iter().collect(),
        reuse: options.reuse,
        ask_anew: options.ask_anew.iter().cloned().collect(),
        approvals: options.approvals.clone().into_iter().collect(),
        items: Mutex::new(items),
        journal,
        work,
        call_counter: AtomicU64::new(0),
        cancel: cancel.clone(),
    });
    events.emit(EventKind::RunStarted {
        epoch,
        nodes: n,
        done: done.iter().filter(|d| **d).count(),
    });
    let limit = options.max_concurrency.unwrap_or(inner.max_concurrency);
    let task = tokio::spawn(run_task(
        inner.clone(),
        run,
        done,
        limit,
        work_rx,
        lease_len,
    ));
    Ok(RunHandle {
        execution_id: id,
        owner,
        events: Some(stream),
        cancel,
        task,
    })
}

/// Polls the store for a stop request and renews the runner lease; cancels
/// the run when either says so. Never completes on its own.
async fn watch(
    inner: Arc<EngineInner>,
    run: Arc<RunShared>,
    lease_len: Duration,
    lease_lost: Arc<AtomicBool>,
) {
    let poll = inner.stop_poll.max(Duration::from_millis(10));
    let renew_every = (lease_len / 3).max(Duration::from_millis(100));
    let mut last_renew = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(poll.min(renew_every)).await;
        if let Ok(true) = run
            .store
            .stop_requested(&run.owner, &run.execution_id)
            .await
        {
            run.cancel.cancel();
            break;
        }
        if let Some(lease) = run.fence.as_ref() {
            if last_renew.elapsed() >= renew_every {
                last_renew = tokio::time::Instant::now();
                match run.store.renew_lease(lease, lease_len).await {
                    Ok(true) => {}
                    // A store hiccup: try again at the next tick (the lease
                    // has two more thirds of its length to go).
                    Err(e) if is_transient(&e) => {}
                    _ => {
                        lease_lost.store(true, Ordering::SeqCst);
                        run.cancel.cancel();
                        break;
                    }
                }
            }
        }
    }
    std::future::pending::<()>().await;
}

fn is_transient(e: &crate::store::StoreError) -> bool {
    matches!(
        e,
        crate::store::StoreError::Backend {
            retryable: true,
            ..
        }
    )
}

async fn run_task(
    inner: Arc<EngineInner>,
    run: Arc<RunShared>,
    done: Vec<bool>,
    limit: usize,
    work: mpsc::UnboundedReceiver<WorkRequest>,
    lease_len: Duration,
) -> RunOutcome {
    let lease_lost = Arc::new(AtomicBool::new(false));
    // The watcher is a task of its own: a node that keeps the runner's
    // task busy (it polls lone ready nodes itself) must not delay stop
    // requests or lease renewals.
    let watcher = AbortOnDrop(tokio::spawn(watch(
        inner,
        run.clone(),
        lease_len,
        lease_lost.clone(),
    )));
    let end = drive(run.clone(), &done, limit, work).await;
    drop(watcher);
    let lost = lease_lost.load(Ordering::SeqCst);
    let outcome = finish(&run, end, lost).await;
    if let (false, Some(lease)) = (lost, run.fence.as_ref()) {
        let _ = run.store.release_lease(lease).await;
    }
    outcome
}

/// Aborts the task when dropped, whichever way the owner ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn finish(run: &RunShared, end: DriveEnd, lease_lost: bool) -> RunOutcome {
    // Every recorded call of the execution: what its wallet was charged.
    let (usage, cost) = run.journal.totals();
    let name = |n: usize| run.node_id(n).to_string();
    let (status, message, reason, node, event) = match end {
        DriveEnd::Completed => (
            ExecutionStatus::Completed,
            None,
            None,
            None,
            EventKind::RunFinished { usage, cost },
        ),
        DriveEnd::Stopped if lease_lost => (
            ExecutionStatus::Running,
            Some("this worker lost its lease; another worker continues the run".to_string()),
            Some("lease_lost".to_string()),
            None,
            EventKind::RunStopped,
        ),
        DriveEnd::Stopped => (
            ExecutionStatus::Stopped,
            Some("stopped by request".to_string()),
            Some("stopped".to_string()),
            None,
            EventKind::RunStopped,
        ),
        DriveEnd::Paused { node, error } => {
            let node = name(node);
            let review =
                matches!(error, NodeError::AwaitingApproval).then(|| review_of(run, &node));
            let message = match &error {
                NodeError::AwaitingApproval => format!("node `{node}` is awaiting approval"),
                e => format!("node `{node}`: {e}; grant tokens, then resume"),
            };
            (
                ExecutionStatus::Paused,
                Some(message.clone()),
                Some(error.code().to_string()),
                Some(node.clone()),
                EventKind::RunPaused {
                    reason: error.code().to_string(),
                    message,
                    node: Some(node),
                    review,
                },
            )
        }
        DriveEnd::Failed { node, error } => {
            let node = name(node);
            let message = format!("node `{node}` failed: {error}");
            (
                ExecutionStatus::Failed,
                Some(message),
                Some(error.code().to_string()),
                Some(node.clone()),
                EventKind::RunFailed {
                    node: Some(node),
                    error: NodeFailure::from(&error),
                },
            )
        }
    };
    let (failure, review) = match &event {
        EventKind::RunFailed { error, .. } => (Some(error.clone()), None),
        EventKind::RunPaused { review, .. } => (None, review.clone()),
        _ => (None, None),
    };
    let mut outcome = RunOutcome {
        execution_id: run.execution_id.clone(),
        status,
        message: message.clone(),
        reason: reason.clone(),
        node,
        usage,
        cost,
        failure,
        review,
    };
    if !lease_lost {
        if let Err(e) = run
            .store
            .set_status(
                &run.owner,
                &run.execution_id,
                status,
                message.as_deref(),
                reason.as_deref(),
                run.fence.as_ref(),
            )
            .await
        {
            outcome.message = Some(format!(
                "{} (and the final status could not be saved: {e})",
                message.unwrap_or_default()
            ));
        }
    }
    run.events.emit(event);
    outcome
}

/// The output under review at an approval gate: its upstream node's output.
fn review_of(run: &RunShared, node: &str) -> Value {
    let g = &run.flow.graph;
    let Some(&idx) = g.index.get(node) else {
        return Value::Null;
    };
    let outs: Vec<Value> = g.deps[idx]
        .iter()
        .filter_map(|&d| run.outputs[d].get().map(|v| (**v).clone()))
        .collect();
    match <[Value; 1]>::try_from(outs) {
        Ok([one]) => one,
        Err(many) => Value::Array(many),
    }
}

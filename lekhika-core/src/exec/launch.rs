//! Launching a run: load the checkpoint, recover the wallet, spawn the
//! scheduler with a watcher for remote stops and lease renewal, and write
//! the final status.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::engine::EngineInner;
use super::error::EngineError;
use super::events::{EventKind, EventSink};
use super::meter::Meter;
use super::run::{drive, DriveEnd};
use super::shared::{RunShared, Totals};
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
    pub fence: Option<Lease>,
}

pub(crate) async fn launch(
    inner: Arc<EngineInner>,
    spec: LaunchSpec,
) -> Result<RunHandle, EngineError> {
    let LaunchSpec {
        record,
        options,
        flow,
        fence,
    } = spec;
    let (owner, id) = (record.owner.clone(), record.id.clone());
    let store = inner.store.clone();
    let epoch = store.begin_attempt(&owner, &id, fence.as_ref()).await?;
    store.clear_stop(&owner, &id).await?;

    let results = store.node_results(&owner, &id).await?;

    // Wallet: a crashed attempt's open reservations are settled when their
    // work was checkpointed and released when it was lost; then the period
    // rolls over.
    let (wallet, limit) = match &inner.wallet {
        Some(w) => {
            let kept: HashMap<&str, i64> = results
                .iter()
                .flat_map(|(_, r)| r.charges.iter().map(|c| (c.key.as_str(), c.amount)))
                .collect();
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
    let mut steps: HashMap<usize, BTreeMap<u32, NodeResult>> = HashMap::new();
    let totals = Totals::default();
    for (key, result) in results {
        let Some(&idx) = flow.graph.index.get(key.node.as_str()) else {
            totals.add(&result);
            continue;
        };
        if let Some(n) = key.step_index() {
            // A step's usage is counted in its node's own result.
            steps.entry(idx).or_default().insert(n, result);
            continue;
        }
        totals.add(&result);
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
    steps.retain(|idx, _| !done[*idx]);

    let (events, stream) = EventSink::new(&id);
    let cancel = CancellationToken::new();
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
            pending: Mutex::new(HashMap::new()),
        },
        events: events.clone(),
        store,
        artifacts: inner.artifacts.clone(),
        fence,
        instructions: options.instructions.clone().into_iter().collect(),
        approvals: options.approvals.clone().into_iter().collect(),
        item_results: Mutex::new(items),
        steps: Mutex::new(steps),
        cancel: cancel.clone(),
        totals,
    });
    events.emit(EventKind::RunStarted {
        epoch,
        nodes: n,
        done: done.iter().filter(|d| **d).count(),
    });
    let limit = options.max_concurrency.unwrap_or(inner.max_concurrency);
    let task = tokio::spawn(run_task(inner, run, done, limit));
    Ok(RunHandle {
        execution_id: id,
        events: Some(stream),
        cancel,
        task,
    })
}

/// Polls the store for a stop request and renews the lease; cancels the run
/// when either says so. Never completes on its own.
async fn watch(inner: Arc<EngineInner>, run: Arc<RunShared>, lease_lost: Arc<AtomicBool>) {
    let poll = inner.stop_poll.max(Duration::from_millis(10));
    let renew_every = run
        .fence
        .as_ref()
        .map(|l| Duration::from_millis(((l.expires_at_ms - now_ms()).max(300) / 3) as u64));
    let lease_len = run
        .fence
        .as_ref()
        .map(|l| Duration::from_millis((l.expires_at_ms - now_ms()).max(1000) as u64));
    let mut last_renew = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(poll).await;
        if let Ok(true) = run
            .store
            .stop_requested(&run.owner, &run.execution_id)
            .await
        {
            run.cancel.cancel();
            break;
        }
        if let (Some(every), Some(len), Some(queue), Some(lease)) = (
            renew_every,
            lease_len,
            inner_queue(&inner),
            run.fence.as_ref(),
        ) {
            if last_renew.elapsed() >= every {
                last_renew = tokio::time::Instant::now();
                if !matches!(queue.renew(lease, len).await, Ok(true)) {
                    lease_lost.store(true, Ordering::SeqCst);
                    run.cancel.cancel();
                    break;
                }
            }
        }
    }
    std::future::pending::<()>().await;
}

fn inner_queue(inner: &EngineInner) -> Option<&Arc<dyn crate::store::ExecutionQueue>> {
    inner.queue.as_ref()
}

async fn run_task(
    inner: Arc<EngineInner>,
    run: Arc<RunShared>,
    done: Vec<bool>,
    limit: usize,
) -> RunOutcome {
    let lease_lost = Arc::new(AtomicBool::new(false));
    // The watcher is a task of its own: a node that keeps the scheduler's
    // task busy (it runs lone ready nodes itself) must not delay stop
    // requests or lease renewals.
    let watcher = AbortOnDrop(tokio::spawn(watch(inner, run.clone(), lease_lost.clone())));
    let end = drive(run.clone(), &done, limit).await;
    drop(watcher);
    finish(&run, end, lease_lost.load(Ordering::SeqCst)).await
}

/// Aborts the task when dropped, whichever way the owner ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn finish(run: &RunShared, end: DriveEnd, lease_lost: bool) -> RunOutcome {
    let (usage, cost) = run.totals.get();
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
    let mut outcome = RunOutcome {
        execution_id: run.execution_id.clone(),
        status,
        message: message.clone(),
        reason: reason.clone(),
        node,
        usage,
        cost,
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

//! Running one node (or one map item) under its policy: retries with
//! backoff, timeout, output validators that regenerate with feedback; then
//! the checkpoint write and the events around it.

use std::sync::Arc;

use crate::exec::events::EventKind;
use crate::exec::shared::RunShared;
use crate::node::error::NodeFailure;
use crate::node::{BuiltNode, ItemScope, NodeContext, NodeError};
use crate::provider::Usage;
use crate::store::{NodeKey, NodeResult};
use crate::util::now_ms;

fn join_instruction(base: Option<&str>, feedback: Option<&str>) -> Option<String> {
    match (base, feedback) {
        (None, None) => None,
        (Some(b), None) => Some(b.to_string()),
        (None, Some(f)) => Some(f.to_string()),
        (Some(b), Some(f)) => Some(format!("{b}\n\n{f}")),
    }
}

/// Run `built` until it succeeds, fails for good, or the run is cancelled.
pub(crate) async fn run_with_policy(
    run: &Arc<RunShared>,
    idx: usize,
    built: &BuiltNode,
    item: Option<Arc<ItemScope>>,
    instruction: Option<String>,
) -> Result<NodeResult, NodeError> {
    run_with_policy_from(run, idx, built, item, instruction, 0).await
}

/// [`run_with_policy`] for a call nested inside another node's run (e.g. a
/// continuity checker): attempts count from `first_attempt + 1`, so the
/// nested calls' wallet keys (which include the attempt) never collide with
/// each other or with the host node's own calls. Nothing is checkpointed
/// here: the host node saves the result as one of its steps and adds its
/// usage to its own with `NodeContext::absorb`.
pub(crate) async fn run_with_policy_from(
    run: &Arc<RunShared>,
    idx: usize,
    built: &BuiltNode,
    item: Option<Arc<ItemScope>>,
    instruction: Option<String>,
    first_attempt: u32,
) -> Result<NodeResult, NodeError> {
    let item_idx = item.as_ref().map(|i| i.index);
    let started = now_ms();
    let policy = &built.policy;
    let max_validations = policy.validate.attempts.unwrap_or(2);
    let mut feedback: Option<String> = None;
    let (mut attempt, mut retries, mut validations) = (first_attempt, 0u32, 0u32);
    let mut usage = Usage::default();
    let mut cost = 0i64;
    loop {
        attempt += 1;
        let ctx = NodeContext::new(
            run.clone(),
            idx,
            item.clone(),
            attempt,
            join_instruction(instruction.as_deref(), feedback.as_deref()),
        );
        let fut = built.node.run(&ctx);
        let result = match policy.timeout {
            Some(t) => match tokio::time::timeout(t, fut).await {
                Ok(r) => r,
                Err(_) => Err(NodeError::Timeout(t.as_millis() as u64)),
            },
            None => fut.await,
        };
        let acc = ctx.take_accounting();
        usage.add(acc.usage);
        cost += acc.cost;
        let result = result.and_then(|out| {
            let problems = policy.validate.check(&out.output);
            if problems.is_empty() {
                Ok(out)
            } else {
                Err(NodeError::InvalidOutput(problems.join("; ")))
            }
        });
        let err = match result {
            Ok(out) => {
                return Ok(NodeResult {
                    output: out.output,
                    usage,
                    cost: cost.max(0) as u64,
                    attempts: attempt - first_attempt,
                    provider: acc.provider,
                    model: acc.model,
                    started_at_ms: started,
                    finished_at_ms: now_ms(),
                    metrics: out.metrics,
                    charges: Vec::new(),
                })
            }
            Err(e) => e,
        };
        if run.cancel.is_cancelled() {
            return Err(NodeError::Cancelled);
        }
        let delay = match &err {
            NodeError::InvalidOutput(msg) if validations < max_validations => {
                validations += 1;
                // A rejected output is written again from scratch: its saved
                // steps (already paid for) are not replayed into it.
                if item.is_none() && run.forget_steps(idx) {
                    let node = [run.node_id(idx).to_string()];
                    run.store
                        .remove_node_results(&run.owner, &run.execution_id, &node)
                        .await?;
                }
                feedback = Some(format!(
                    "Your previous answer was rejected: {msg}. Write it again and fix this."
                ));
                std::time::Duration::ZERO
            }
            e if e.is_retryable() && retries + 1 < policy.retry.attempts => {
                retries += 1;
                let retry_after = match e {
                    NodeError::Provider(p) => p.retry_after,
                    _ => None,
                };
                policy.retry.delay(retries, retry_after)
            }
            _ => return Err(err),
        };
        run.events.emit_with(|| EventKind::NodeRetrying {
            node: run.node_id(idx).to_string(),
            item: item_idx,
            attempt: attempt + 1,
            delay_ms: delay.as_millis() as u64,
            error: NodeFailure::from(&err),
        });
        if !delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = run.cancel.cancelled() => return Err(NodeError::Cancelled),
            }
        }
    }
}

/// Write `r` as checkpoint entry `key`, then settle its charges (work kept
/// is paid once); if the write fails, release them (work lost is not paid).
pub(crate) async fn save_result(
    run: &RunShared,
    key: &NodeKey,
    r: &NodeResult,
) -> Result<(), NodeError> {
    let saved = run
        .store
        .put_node_result(&run.owner, &run.execution_id, key, r, run.fence.as_ref())
        .await;
    if let Err(e) = saved {
        run.meter.release_all(&r.charges).await?;
        return Err(e.into());
    }
    run.meter.commit(&r.charges).await?;
    Ok(())
}

/// Run, checkpoint and report one node or map item.
async fn run_and_checkpoint(
    run: &Arc<RunShared>,
    idx: usize,
    built: &BuiltNode,
    item: Option<ItemScope>,
    instruction: Option<String>,
) -> Result<NodeResult, NodeError> {
    let node = run.node_id(idx);
    let item_idx = item.as_ref().map(|i| i.index);
    run.events.emit_with(|| EventKind::NodeStarted {
        node: node.to_string(),
        kind: built.kind.clone(),
        item: item_idx,
    });
    let result = run_with_policy(run, idx, built, item.map(Arc::new), instruction).await;
    let charges = run.meter.take_pending(node, item_idx);
    match result {
        Ok(mut r) => {
            let key = NodeKey {
                node: node.to_string(),
                item: item_idx,
            };
            r.charges = charges;
            save_result(run, &key, &r).await?;
            run.totals.add(&r);
            run.events.emit_with(|| EventKind::CheckpointSaved {
                node: key.node.clone(),
                item: item_idx,
            });
            run.events.emit_with(|| EventKind::NodeFinished {
                node: key.node,
                item: item_idx,
                usage: r.usage,
                cost: r.cost as i64,
                duration_ms: r.finished_at_ms - r.started_at_ms,
                attempts: r.attempts,
            });
            Ok(r)
        }
        Err(e) => {
            // Work not kept is not charged; a node that failed for good pays for its calls.
            if matches!(e, NodeError::Cancelled) || e.pauses_run() {
                run.meter.release_all(&charges).await?;
            } else {
                run.meter.commit(&charges).await?;
            }
            if !matches!(e, NodeError::Cancelled | NodeError::AwaitingApproval) {
                run.events.emit_with(|| EventKind::NodeFailed {
                    node: node.to_string(),
                    item: item_idx,
                    error: NodeFailure::from(&e),
                });
            }
            Err(e)
        }
    }
}

/// A top-level node: run, checkpoint, publish its output to dependants.
pub(crate) async fn run_node(run: Arc<RunShared>, idx: usize) -> Result<(), NodeError> {
    let built = &run.flow.nodes[idx];
    let instruction = run.instructions.get(run.node_id(idx)).cloned();
    let r = run_and_checkpoint(&run, idx, built, None, instruction).await?;
    let _ = run.outputs[idx].set(Arc::new(r.output));
    Ok(())
}

/// One map item (called by the `map` node).
pub(crate) async fn run_item(
    run: &Arc<RunShared>,
    idx: usize,
    built: &BuiltNode,
    item: ItemScope,
    instruction: Option<String>,
) -> Result<NodeResult, NodeError> {
    run_and_checkpoint(run, idx, built, Some(item), instruction).await
}

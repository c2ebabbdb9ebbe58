//! One attempt of one unit of work — a flow node, a map item or a nested
//! job: run its node under the policy's timeout, check the output with the
//! policy's validators, and on success save the result (flow nodes and
//! items; nested jobs live in their host's journal). Whether a failed
//! attempt is tried again is the scheduler's decision, not this module's.

use std::sync::Arc;
use std::time::Duration;

use super::journal::JournalScope;
use super::scheduler::UnitId;
use super::shared::RunShared;
use crate::node::context::AttemptScope;
use crate::node::{BuiltNode, ItemScope, NodeContext, NodeError};
use crate::store::{NodeKey, NodeResult};
use crate::util::now_ms;

/// Where a unit's result goes and where its calls are journaled.
#[derive(Debug, Clone)]
pub(crate) enum Keep {
    /// A flow node or a map item: checkpointed under this key, calls
    /// journaled under it.
    Saved(NodeKey),
    /// Job number `.1` of a nested request: not checkpointed; calls
    /// journaled in its host's scope.
    Nested(JournalScope, usize),
}

/// Everything about a unit that stays the same across its attempts.
pub(crate) struct UnitSpec {
    pub node_idx: usize,
    pub built: BuiltNode,
    pub item: Option<Arc<ItemScope>>,
    pub instruction: Option<String>,
    pub keep: Keep,
    pub started_at_ms: i64,
}

/// One attempt to make.
pub(crate) struct AttemptPlan {
    pub unit: UnitId,
    pub spec: Arc<UnitSpec>,
    pub attempt: u32,
    pub generation: u32,
    pub feedback: Option<String>,
    pub delay: Duration,
}

/// How an attempt ended.
pub(crate) struct AttemptEnd {
    pub result: Result<NodeResult, NodeError>,
}

fn join_instruction(base: Option<&str>, feedback: Option<&str>) -> Option<String> {
    let feedback = feedback.map(|msg| {
        format!("Your previous answer was rejected: {msg}. Write it again and fix this.")
    });
    match (base, feedback) {
        (None, None) => None,
        (Some(b), None) => Some(b.to_string()),
        (None, Some(f)) => Some(f),
        (Some(b), Some(f)) => Some(format!("{b}\n\n{f}")),
    }
}

/// Run one attempt (after its delay), then save a successful result.
pub(crate) async fn attempt(run: Arc<RunShared>, plan: AttemptPlan) -> AttemptEnd {
    if !plan.delay.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(plan.delay) => {}
            _ = run.cancel.cancelled() => {
                return AttemptEnd { result: Err(NodeError::Cancelled) };
            }
        }
    }
    let spec = &plan.spec;
    let journal = match &spec.keep {
        Keep::Saved(key) => JournalScope::unit(key.clone(), plan.generation),
        Keep::Nested(host, pos) => host.job(*pos, plan.generation),
    };
    let ctx = NodeContext::new(
        run.clone(),
        AttemptScope {
            node_idx: spec.node_idx,
            unit: plan.unit,
            item: spec.item.clone(),
            attempt: plan.attempt,
            instruction: join_instruction(spec.instruction.as_deref(), plan.feedback.as_deref()),
            policy: spec.built.policy.clone(),
            journal,
            nested: matches!(spec.keep, Keep::Nested(..)),
        },
    );
    let policy = &spec.built.policy;
    let fut = spec.built.node.run(&ctx);
    let result = match policy.timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r,
            Err(_) => Err(NodeError::Timeout(
                u64::try_from(t.as_millis()).unwrap_or(u64::MAX),
            )),
        },
        None => fut.await,
    };
    let acc = ctx.take_accounting();
    let result = result.and_then(|out| {
        let problems = policy.validate.check(&out.output);
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(NodeError::InvalidOutput(problems.join("; ")))
        }
    });
    let out = match result {
        Ok(out) => out,
        Err(e) => return AttemptEnd { result: Err(e) },
    };
    // A saved unit's usage and cost are those of every call recorded under
    // it (replayed ones included, rejected generations too): the same
    // whether or not the run was interrupted on the way.
    let (usage, cost) = match &spec.keep {
        Keep::Saved(key) => run.journal.unit_totals(key),
        Keep::Nested(..) => (acc.usage, acc.cost),
    };
    let r = NodeResult {
        output: out.output,
        usage,
        cost: u64::try_from(cost.max(0)).unwrap_or(0),
        attempts: plan.attempt,
        provider: acc.provider.clone(),
        model: acc.model.clone(),
        started_at_ms: spec.started_at_ms,
        finished_at_ms: now_ms(),
        metrics: out.metrics,
        charges: Vec::new(),
    };
    if let Keep::Saved(key) = &spec.keep {
        if let Err(e) = run
            .store
            .put_node_result(&run.owner, &run.execution_id, key, &r, run.fence.as_ref())
            .await
        {
            return AttemptEnd {
                result: Err(e.into()),
            };
        }
    }
    AttemptEnd { result: Ok(r) }
}

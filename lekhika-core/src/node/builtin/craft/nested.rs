//! Running a node config inside another node (a continuity checker, a
//! chapter rewrite) under its own retry/validation policy, with its usage
//! counted as the host node's, and many at once up to a limit.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::task::JoinSet;

use crate::exec::attempt::{run_with_policy_from, save_result};
use crate::flow::NodeSpec;
use crate::node::{BuiltNode, ItemScope, NodeContext, NodeError, Registry, VarUse};
use crate::store::{NodeKey, NodeResult};

/// Build the node config `{"kind": ..., ...}` found at `field`.
pub(crate) fn build_inner(
    spec: &NodeSpec,
    registry: &Registry,
    field: &str,
    mut inner: Map<String, Value>,
) -> Result<BuiltNode, Vec<String>> {
    let kind = match inner.remove("kind") {
        Some(Value::String(k)) => k,
        _ => return Err(vec![format!("`{field}.kind` must name a node kind")]),
    };
    let inner_spec = NodeSpec {
        id: spec.id.clone(),
        kind,
        config: inner,
    };
    registry
        .build(&inner_spec, &Default::default())
        .map_err(|ps| ps.into_iter().map(|p| format!("{field}: {p}")).collect())
}

/// Template variables of a nested node (they see `item.*`).
pub(crate) fn inner_vars(b: &BuiltNode) -> Vec<VarUse> {
    b.node
        .variables()
        .into_iter()
        .map(|u| VarUse { in_item: true, ..u })
        .collect()
}

/// Hands out attempt numbers for nested calls: each call gets its own
/// block of 1000, above every attempt number of the host node, so wallet
/// keys never collide.
pub(crate) struct Attempts(AtomicU32);

impl Attempts {
    pub fn new(host_attempt: u32) -> Self {
        Self(AtomicU32::new(host_attempt.saturating_mul(1_000_000)))
    }
    fn next(&self) -> u32 {
        self.0.fetch_add(1000, Ordering::Relaxed) + 1000
    }
}

/// Move the charges of a nested call that is not saved as a step (held
/// under this node and the nested item index) to the host node's own, so
/// they are settled when the host's result is checkpointed, or released when
/// it stops.
fn adopt_charges(ctx: &NodeContext, nested_item: u32) {
    let node = ctx.node_id();
    let charges = ctx.run.meter.take_pending(node, Some(nested_item));
    if charges.is_empty() {
        return;
    }
    if let Ok(mut p) = ctx.run.meter.pending.lock() {
        p.entry((node.to_string(), ctx.item().map(|i| i.index)))
            .or_default()
            .extend(charges);
    }
}

/// One job: the item scope and the extra instruction.
pub(crate) type Job = (usize, ItemScope, Option<String>);

/// Count a nested call's usage and cost as the host node's own.
fn absorb(ctx: &NodeContext, r: &NodeResult) {
    ctx.absorb(
        r.usage,
        r.cost as i64,
        r.provider.as_deref(),
        r.model.as_deref(),
    );
}

/// Checkpoint a finished nested call as step `n` of the host node, with the
/// charges of its calls, and settle them: a resume (or a retry of the host)
/// finds it and does not call the model again.
async fn save_step(
    ctx: &NodeContext,
    n: u32,
    nested_item: u32,
    mut r: NodeResult,
) -> Result<NodeResult, NodeError> {
    let run = &ctx.run;
    r.charges = run.meter.take_pending(ctx.node_id(), Some(nested_item));
    save_result(run, &NodeKey::step(ctx.node_id(), n), &r).await?;
    run.remember_step(ctx.node_idx, n, r.clone());
    Ok(r)
}

/// Run `built` once per job, `concurrency` at a time; results by job key.
/// Every call's usage and cost are added to `ctx`'s own. Each finished call
/// is saved as a step of the host node (outside map items), and a call saved
/// by an earlier attempt or run is not made again.
pub(crate) async fn run_all(
    ctx: &NodeContext,
    built: &BuiltNode,
    jobs: Vec<Job>,
    concurrency: usize,
    attempts: &Attempts,
) -> Result<Vec<(usize, NodeResult)>, NodeError> {
    let first_step = ctx.reserve_steps(jobs.len());
    let mut out = Vec::new();
    let mut todo = Vec::with_capacity(jobs.len());
    for (pos, job) in jobs.into_iter().enumerate() {
        let step = first_step.and_then(|b| b.checked_add(u32::try_from(pos).ok()?));
        match step.and_then(|n| ctx.run.saved_step(ctx.node_idx, n)) {
            Some(r) => {
                absorb(ctx, &r);
                out.push((job.0, r));
            }
            None => todo.push((step, job)),
        }
    }
    let mut set = JoinSet::new();
    let mut pending = todo.into_iter();
    let mut first_err: Option<NodeError> = None;
    loop {
        while first_err.is_none() && set.len() < concurrency.max(1) {
            let Some((step, (key, scope, instruction))) = pending.next() else {
                break;
            };
            let (run, tpl, idx, base) = (
                ctx.run.clone(),
                built.clone(),
                ctx.node_idx,
                attempts.next(),
            );
            let item_idx = scope.index;
            set.spawn(async move {
                let r =
                    run_with_policy_from(&run, idx, &tpl, Some(Arc::new(scope)), instruction, base)
                        .await;
                (key, item_idx, step, r)
            });
        }
        let Some(joined) = set.join_next().await else {
            break;
        };
        match joined {
            Ok((key, item_idx, step, Ok(r))) => {
                let r = match step {
                    Some(n) => match save_step(ctx, n, item_idx, r).await {
                        Ok(r) => r,
                        Err(e) => {
                            first_err.get_or_insert(e);
                            continue;
                        }
                    },
                    None => {
                        adopt_charges(ctx, item_idx);
                        r
                    }
                };
                absorb(ctx, &r);
                out.push((key, r));
            }
            Ok((_, item_idx, _, Err(e))) => {
                adopt_charges(ctx, item_idx);
                if first_err.is_none() || matches!(first_err, Some(NodeError::Cancelled)) {
                    first_err = Some(e);
                }
            }
            Err(join) => first_err = Some(NodeError::failed(format!("nested task failed: {join}"))),
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => {
            out.sort_by_key(|(k, _)| *k);
            Ok(out)
        }
    }
}

//! Running a node config inside another node (a continuity checker, a
//! chapter rewrite) as nested work of the engine's scheduler: each job under
//! its own retry/validation policy, many at once up to a limit, with its
//! usage counted as the host node's and its calls journaled in the host's.

use serde_json::{Map, Value};

use crate::flow::NodeSpec;
use crate::node::{BuiltNode, ItemScope, NodeContext, NodeError, Registry, VarUse};
use crate::store::NodeResult;

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

/// One job: a key to sort results by, the item scope and an extra instruction.
pub(crate) type Job = (usize, ItemScope, Option<String>);

/// Run `built` once per job through the scheduler, `concurrency` at a
/// time, inside `ctx`'s node (see [`NodeContext::run_nested`]): their
/// calls are journaled as the host's, so a host that runs again (retry,
/// resume) replays them. Results by job key, ascending.
pub(crate) async fn run_all(
    ctx: &NodeContext,
    built: &BuiltNode,
    jobs: Vec<Job>,
    concurrency: usize,
) -> Result<Vec<(usize, NodeResult)>, NodeError> {
    let keys: Vec<usize> = jobs.iter().map(|(k, _, _)| *k).collect();
    let jobs = jobs
        .into_iter()
        .map(|(_, scope, instruction)| crate::node::Job::new(scope, instruction))
        .collect();
    let results = ctx.run_nested(built, jobs, concurrency).await?;
    let mut out: Vec<(usize, NodeResult)> = keys.into_iter().zip(results).collect();
    out.sort_by_key(|(k, _)| *k);
    Ok(out)
}

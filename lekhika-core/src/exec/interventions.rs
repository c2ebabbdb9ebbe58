//! A user steering a run: regenerate a node (with an instruction),
//! invalidate without running, approve or reject at an approval gate.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::engine::{run_options, Engine};
use super::error::EngineError;
use super::RunHandle;

/// Where a node stands, for hosts rendering a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// `Some` when the host approved an edited version.
    pub edited: Option<Value>,
}

impl Engine {
    /// Re-run `node` (and everything downstream of it) with an extra
    /// instruction; everything else is reused.
    pub async fn regenerate(
        &self,
        owner: &str,
        id: &str,
        node: &str,
        instruction: Option<&str>,
    ) -> Result<RunHandle, EngineError> {
        let lease = self.take_lease(owner, id, &mut |_| {}).await?;
        if let Err(e) = self.invalidate_held(owner, id, node, instruction).await {
            let _ = self.inner.store.release_lease(&lease).await;
            return Err(e);
        }
        self.launch_leased(owner, id, lease, self.inner.lease, |_| Ok(()))
            .await
    }

    /// Forget `node` and its descendants (their results and recorded
    /// calls) and record the instruction, without running. Refused with
    /// [`EngineError::Busy`] while a live runner holds the execution.
    pub async fn invalidate(
        &self,
        owner: &str,
        id: &str,
        node: &str,
        instruction: Option<&str>,
    ) -> Result<Vec<String>, EngineError> {
        let lease = self.take_lease(owner, id, &mut |_| {}).await?;
        let r = self.invalidate_held(owner, id, node, instruction).await;
        let _ = self.inner.store.release_lease(&lease).await;
        r
    }

    /// [`Engine::invalidate`] under a lease the caller holds.
    async fn invalidate_held(
        &self,
        owner: &str,
        id: &str,
        node: &str,
        instruction: Option<&str>,
    ) -> Result<Vec<String>, EngineError> {
        let rec = self.inner.store.get_execution(owner, id).await?;
        let mut options = run_options(&rec)?;
        let flow = self.load(&rec.flow, &options)?;
        let idx = *flow
            .graph
            .index
            .get(node)
            .ok_or_else(|| EngineError::UnknownNode(node.to_string()))?;
        let ids: Vec<String> = flow
            .graph
            .descendants(idx)
            .into_iter()
            .map(|i| flow.graph.ids[i].to_string())
            .collect();
        for d in &ids {
            options.instructions.remove(d);
            options.approvals.remove(d);
        }
        if let Some(i) = instruction {
            options.instructions.insert(node.to_string(), i.to_string());
        }
        // A regenerated node wants a new reply, never an earlier run's.
        options.ask_anew.insert(node.to_string());
        self.inner
            .store
            .remove_node_results(owner, id, &ids)
            .await?;
        let opts =
            serde_json::to_value(&options).map_err(|e| EngineError::InvalidState(e.to_string()))?;
        self.inner.store.set_options(owner, id, &opts).await?;
        Ok(ids)
    }

    /// Approve the output waiting at an approval gate (optionally edited) and continue.
    pub async fn approve(
        &self,
        owner: &str,
        id: &str,
        node: &str,
        edited: Option<Value>,
    ) -> Result<RunHandle, EngineError> {
        let rec = self.inner.store.get_execution(owner, id).await?;
        let mut options = run_options(&rec)?;
        let flow = self.load(&rec.flow, &options)?;
        match flow.node(node) {
            Some(n) if n.kind == "approval" => {}
            Some(_) => {
                return Err(EngineError::InvalidState(format!(
                    "node `{node}` is not an approval gate"
                )))
            }
            None => return Err(EngineError::UnknownNode(node.to_string())),
        }
        options.approvals.insert(
            node.to_string(),
            serde_json::to_value(Approval { edited }).unwrap_or(Value::Null),
        );
        let opts =
            serde_json::to_value(&options).map_err(|e| EngineError::InvalidState(e.to_string()))?;
        let lease = self.take_lease(owner, id, &mut |_| {}).await?;
        if let Err(e) = self.inner.store.set_options(owner, id, &opts).await {
            let _ = self.inner.store.release_lease(&lease).await;
            return Err(e.into());
        }
        self.launch_leased(owner, id, lease, self.inner.lease, |_| Ok(()))
            .await
    }

    /// Reject the output at an approval gate: the reviewed node is
    /// regenerated with the instruction, and the gate asks again.
    pub async fn reject(
        &self,
        owner: &str,
        id: &str,
        node: &str,
        instruction: &str,
    ) -> Result<RunHandle, EngineError> {
        let rec = self.inner.store.get_execution(owner, id).await?;
        let options = run_options(&rec)?;
        let flow = self.load(&rec.flow, &options)?;
        let idx = *flow
            .graph
            .index
            .get(node)
            .ok_or_else(|| EngineError::UnknownNode(node.to_string()))?;
        let reviewed = match flow.graph.deps[idx].as_slice() {
            [one] => flow.graph.ids[*one].clone(),
            _ => {
                return Err(EngineError::InvalidState(format!(
                    "approval gate `{node}` must have exactly one upstream node to reject"
                )))
            }
        };
        self.regenerate(owner, id, &reviewed, Some(instruction))
            .await
    }
}

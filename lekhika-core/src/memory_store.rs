//! In-memory [`ExecutionStore`], [`ArtifactStore`] and [`ExecutionQueue`]:
//! for tests and hosts that persist elsewhere. Nothing survives the process.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;

use crate::store::{
    Artifact, ArtifactMeta, ArtifactStore, BookRecord, CallRecord, ExecutionQueue, ExecutionRecord,
    ExecutionStatus, ExecutionStore, Lease, LeaseGrant, NodeKey, NodeResult, ReusableCall,
    ReuseStats, RunnerInfo, StoreError, StoreResult,
};
use crate::util::now_ms;

#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

/// (node, item, request) of a recorded call.
type CallKey = (String, Option<u32>, String);

#[derive(Default)]
struct Inner {
    executions: HashMap<String, ExecutionRecord>,
    /// Boxed: a B-tree node holds 11 slots and is about half full after
    /// in-order inserts, so slots of pointers waste far less than slots of
    /// ~190-byte results.
    results: HashMap<String, BTreeMap<NodeKey, Box<NodeResult>>>,
    /// The call journal by execution id.
    calls: HashMap<String, BTreeMap<CallKey, CallRecord>>,
    stops: HashSet<String>,
    artifacts: HashMap<(String, String), Artifact>,
    books: Vec<BookRecord>,
    /// execution id -> current lease
    leases: HashMap<String, Lease>,
    /// execution id -> when its current lease was taken
    taken_at: HashMap<String, i64>,
    lease_counter: u64,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| StoreError::backend("memory store lock poisoned"))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

impl Inner {
    fn runner_of(&self, id: &str) -> Option<RunnerInfo> {
        self.leases.get(id).map(|l| RunnerInfo {
            worker: l.worker.clone(),
            token: l.token,
            expires_in_ms: l.expires_at_ms - now_ms(),
        })
    }

    fn with_runner(&self, r: &ExecutionRecord) -> ExecutionRecord {
        let mut r = r.clone();
        r.runner = self.runner_of(&r.id);
        r
    }

    fn owned(&mut self, owner: &str, id: &str) -> StoreResult<&mut ExecutionRecord> {
        match self.executions.get_mut(id) {
            Some(r) if r.owner == owner => Ok(r),
            _ => Err(StoreError::not_found(format!("execution {id}"))),
        }
    }

    fn check_fence(&self, id: &str, fence: Option<&Lease>) -> StoreResult<()> {
        if let Some(f) = fence {
            match self.leases.get(id) {
                Some(l) if l.token == f.token && l.worker == f.worker => {}
                _ => {
                    return Err(StoreError::Conflict(format!(
                        "lease on execution {id} was lost"
                    )))
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ExecutionStore for MemoryStore {
    async fn create_execution(&self, rec: &ExecutionRecord) -> StoreResult<()> {
        let mut g = self.lock()?;
        if g.executions.contains_key(&rec.id) {
            return Err(StoreError::Conflict(format!("execution {} exists", rec.id)));
        }
        let mut rec = rec.clone();
        rec.runner = None;
        g.executions.insert(rec.id.clone(), rec);
        Ok(())
    }

    async fn get_execution(&self, owner: &str, id: &str) -> StoreResult<ExecutionRecord> {
        let mut g = self.lock()?;
        let r = g.owned(owner, id)?.clone();
        Ok(g.with_runner(&r))
    }

    async fn list_executions(&self, owner: &str) -> StoreResult<Vec<ExecutionRecord>> {
        let g = self.lock()?;
        let mut v: Vec<_> = g
            .executions
            .values()
            .filter(|r| r.owner == owner)
            .map(|r| g.with_runner(r))
            .collect();
        v.sort_by_key(|r| r.created_at_ms);
        Ok(v)
    }

    async fn set_status(
        &self,
        owner: &str,
        id: &str,
        status: ExecutionStatus,
        message: Option<&str>,
        reason: Option<&str>,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.check_fence(id, fence)?;
        let r = g.owned(owner, id)?;
        r.status = status;
        r.message = message.map(str::to_string);
        r.reason = reason.map(str::to_string);
        r.updated_at_ms = now_ms();
        Ok(())
    }

    async fn begin_attempt(
        &self,
        owner: &str,
        id: &str,
        fence: Option<&Lease>,
    ) -> StoreResult<u32> {
        let mut g = self.lock()?;
        g.check_fence(id, fence)?;
        let r = g.owned(owner, id)?;
        r.epoch += 1;
        r.status = ExecutionStatus::Running;
        r.message = None;
        r.reason = None;
        r.updated_at_ms = now_ms();
        Ok(r.epoch)
    }

    async fn set_options(
        &self,
        owner: &str,
        id: &str,
        options: &serde_json::Value,
    ) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.owned(owner, id)?.options = options.clone();
        Ok(())
    }

    async fn put_node_result(
        &self,
        owner: &str,
        id: &str,
        key: &NodeKey,
        result: &NodeResult,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.check_fence(id, fence)?;
        g.owned(owner, id)?;
        let result = Box::new(result.clone());
        match g.results.get_mut(id) {
            Some(m) => {
                m.insert(key.clone(), result);
            }
            None => {
                g.results
                    .entry(id.to_string())
                    .or_default()
                    .insert(key.clone(), result);
            }
        }
        Ok(())
    }

    async fn remove_node_results(
        &self,
        owner: &str,
        id: &str,
        nodes: &[String],
    ) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.owned(owner, id)?;
        let drop: HashSet<&String> = nodes.iter().collect();
        if let Some(m) = g.results.get_mut(id) {
            m.retain(|k, _| !drop.contains(&k.node));
        }
        if let Some(m) = g.calls.get_mut(id) {
            m.retain(|k, _| !drop.contains(&k.0));
        }
        Ok(())
    }

    async fn node_results(&self, owner: &str, id: &str) -> StoreResult<Vec<(NodeKey, NodeResult)>> {
        let mut g = self.lock()?;
        g.owned(owner, id)?;
        Ok(g.results
            .get(id)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), (**v).clone())).collect())
            .unwrap_or_default())
    }

    async fn put_call(
        &self,
        owner: &str,
        id: &str,
        call: &CallRecord,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.check_fence(id, fence)?;
        g.owned(owner, id)?;
        g.calls.entry(id.to_string()).or_default().insert(
            (call.node.clone(), call.item, call.request.clone()),
            call.clone(),
        );
        Ok(())
    }

    async fn calls(&self, owner: &str, id: &str) -> StoreResult<Vec<CallRecord>> {
        let mut g = self.lock()?;
        g.owned(owner, id)?;
        let mut v: Vec<CallRecord> = g
            .calls
            .get(id)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default();
        v.sort_by(|a, b| (&a.node, a.item, a.seq).cmp(&(&b.node, b.item, b.seq)));
        Ok(v)
    }

    async fn reusable_call(
        &self,
        owner: &str,
        content: &str,
        except: &str,
    ) -> StoreResult<Option<ReusableCall>> {
        let g = self.lock()?;
        let mut best: Option<ReusableCall> = None;
        for (id, calls) in &g.calls {
            let mine = g.executions.get(id).is_some_and(|e| e.owner == owner);
            if !mine || id == except {
                continue;
            }
            for c in calls.values() {
                let fits = c.content.as_deref() == Some(content) && c.is_live_reply();
                let newer = best
                    .as_ref()
                    .is_none_or(|b| c.recorded_at_ms > b.call.recorded_at_ms);
                if fits && newer {
                    best = Some(ReusableCall {
                        execution_id: id.clone(),
                        call: c.clone(),
                    });
                }
            }
        }
        Ok(best)
    }

    async fn clear_reusable(&self, owner: &str) -> StoreResult<u64> {
        let mut g = self.lock()?;
        let ids: Vec<String> = g
            .executions
            .values()
            .filter(|e| e.owner == owner)
            .map(|e| e.id.clone())
            .collect();
        let mut n = 0;
        for id in ids {
            if let Some(calls) = g.calls.get_mut(&id) {
                for c in calls.values_mut() {
                    if c.content.take().is_some() && c.is_live_reply() {
                        n += 1;
                    }
                }
            }
        }
        Ok(n)
    }

    async fn reuse_stats(&self, owner: &str) -> StoreResult<ReuseStats> {
        let g = self.lock()?;
        let mut st = ReuseStats::default();
        for (id, calls) in &g.calls {
            if g.executions.get(id).is_none_or(|e| e.owner != owner) {
                continue;
            }
            let mut counted = false;
            for c in calls.values() {
                if c.reused_from.is_some() {
                    st.reused += 1;
                    st.reused_usage.add(c.usage);
                } else if c.content.is_some() && c.is_live_reply() {
                    st.replies += 1;
                    st.usage.add(c.usage);
                    st.cost = st.cost.saturating_add(c.cost);
                    if !counted {
                        st.executions += 1;
                        counted = true;
                    }
                }
            }
        }
        Ok(st)
    }

    async fn acquire_lease(
        &self,
        owner: &str,
        id: &str,
        runner: &str,
        duration: Duration,
    ) -> StoreResult<LeaseGrant> {
        let mut g = self.lock()?;
        g.owned(owner, id)?;
        let now = now_ms();
        if let Some(l) = g.leases.get(id) {
            if l.expires_at_ms > now {
                return Ok(LeaseGrant::Held(RunnerInfo {
                    worker: l.worker.clone(),
                    token: l.token,
                    expires_in_ms: l.expires_at_ms - now,
                }));
            }
        }
        g.lease_counter += 1;
        let lease = Lease {
            execution_id: id.to_string(),
            owner: owner.to_string(),
            worker: runner.to_string(),
            token: g.lease_counter,
            expires_at_ms: now + millis(duration),
        };
        g.leases.insert(id.to_string(), lease.clone());
        g.taken_at.insert(id.to_string(), now);
        Ok(LeaseGrant::Granted(lease))
    }

    async fn renew_lease(&self, lease: &Lease, duration: Duration) -> StoreResult<bool> {
        let mut g = self.lock()?;
        match g.leases.get_mut(&lease.execution_id) {
            Some(l) if l.token == lease.token => {
                l.expires_at_ms = now_ms() + millis(duration);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_lease(&self, lease: &Lease) -> StoreResult<()> {
        let mut g = self.lock()?;
        if g.leases
            .get(&lease.execution_id)
            .is_some_and(|l| l.token == lease.token)
        {
            g.leases.remove(&lease.execution_id);
        }
        Ok(())
    }

    async fn request_stop(&self, owner: &str, id: &str) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.owned(owner, id)?;
        g.stops.insert(id.to_string());
        Ok(())
    }

    async fn stop_requested(&self, owner: &str, id: &str) -> StoreResult<bool> {
        let mut g = self.lock()?;
        g.owned(owner, id)?;
        Ok(g.stops.contains(id))
    }

    async fn clear_stop(&self, owner: &str, id: &str) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.owned(owner, id)?;
        g.stops.remove(id);
        Ok(())
    }
}

#[async_trait]
impl ArtifactStore for MemoryStore {
    async fn put_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        artifact: &Artifact,
    ) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.owned(owner, execution_id)?;
        g.artifacts.insert(
            (execution_id.to_string(), artifact.name.clone()),
            artifact.clone(),
        );
        Ok(())
    }

    async fn get_artifact(
        &self,
        owner: &str,
        execution_id: &str,
        name: &str,
    ) -> StoreResult<Artifact> {
        let mut g = self.lock()?;
        g.owned(owner, execution_id)?;
        g.artifacts
            .get(&(execution_id.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| StoreError::not_found(format!("artifact {name}")))
    }

    async fn list_artifacts(
        &self,
        owner: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<ArtifactMeta>> {
        let mut g = self.lock()?;
        g.owned(owner, execution_id)?;
        let mut v: Vec<ArtifactMeta> = g
            .artifacts
            .iter()
            .filter(|((e, _), _)| e == execution_id)
            .map(|(_, a)| ArtifactMeta {
                name: a.name.clone(),
                mime: a.mime.clone(),
                size: a.bytes.len() as u64,
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    async fn put_book(&self, book: &BookRecord) -> StoreResult<()> {
        let mut g = self.lock()?;
        g.owned(&book.owner, &book.execution_id)?;
        if g.books
            .iter()
            .any(|b| b.id == book.id && b.owner != book.owner)
        {
            return Err(StoreError::Conflict(format!("book {} exists", book.id)));
        }
        g.books.retain(|b| b.id != book.id);
        g.books.push(book.clone());
        Ok(())
    }

    async fn list_books(&self, owner: &str) -> StoreResult<Vec<BookRecord>> {
        Ok(self
            .lock()?
            .books
            .iter()
            .filter(|b| b.owner == owner)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl ExecutionQueue for MemoryStore {
    async fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        let mut g = self.lock()?;
        let now = now_ms();
        let mut candidates: Vec<&ExecutionRecord> = g
            .executions
            .values()
            .filter(|r| match r.status {
                ExecutionStatus::Pending => true,
                // Only an expired lease makes a running execution claimable
                // (its runner died); one without a lease predates leases
                // and is left to `resume`.
                ExecutionStatus::Running => {
                    g.leases.get(&r.id).is_some_and(|l| l.expires_at_ms < now)
                }
                _ => false,
            })
            .collect();
        candidates.sort_by_key(|r| r.created_at_ms);
        let Some(rec) = candidates.first() else {
            return Ok(None);
        };
        let (id, owner) = (rec.id.clone(), rec.owner.clone());
        g.lease_counter += 1;
        let l = Lease {
            execution_id: id.clone(),
            owner,
            worker: worker.to_string(),
            token: g.lease_counter,
            expires_at_ms: now + millis(lease),
        };
        g.leases.insert(id.clone(), l.clone());
        g.taken_at.insert(id.clone(), now);
        if let Some(r) = g.executions.get_mut(&id) {
            r.status = ExecutionStatus::Running;
        }
        Ok(Some(l))
    }

    async fn runners(&self) -> StoreResult<Vec<crate::store::RunnerLease>> {
        let g = self.lock()?;
        let now = now_ms();
        let mut v: Vec<crate::store::RunnerLease> = g
            .leases
            .values()
            .filter(|l| l.expires_at_ms > now)
            .map(|l| crate::store::RunnerLease {
                worker: l.worker.clone(),
                execution_id: l.execution_id.clone(),
                token: l.token,
                expires_in_ms: l.expires_at_ms - now,
                held_for_ms: now - g.taken_at.get(&l.execution_id).copied().unwrap_or(now),
            })
            .collect();
        v.sort_by(|a, b| (&a.worker, &a.execution_id).cmp(&(&b.worker, &b.execution_id)));
        Ok(v)
    }
}

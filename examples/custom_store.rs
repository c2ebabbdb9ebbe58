//! A custom execution store: one JSON file per execution in a directory,
//! replaced atomically (write to a temporary file, then rename) on every
//! change. Shows what a host implements to keep runs in its own storage.
//!
//!     cargo run -p lekhika --example custom_store -- /tmp/lekhika-runs

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use lekhika::core::store::{
    CallRecord, ExecutionRecord, ExecutionStatus, ExecutionStore, Lease, LeaseGrant, NodeKey,
    NodeResult, RunnerInfo, StoreError, StoreResult,
};
use lekhika::core::testing::ScriptedModel;
use lekhika::core::util::now_ms;
use lekhika::core::{Engine, RunOptions};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Serialize, Deserialize)]
struct FileExecution {
    record: ExecutionRecord,
    /// "node" or "node#item" → result
    results: BTreeMap<String, NodeResult>,
    /// The call journal: "node#item#request" → call.
    #[serde(default)]
    calls: BTreeMap<String, CallRecord>,
    stop: bool,
    /// The runner lease, if one is held.
    #[serde(default)]
    lease: Option<Lease>,
    #[serde(default)]
    lease_counter: u64,
}

/// Writes carrying a lease that is no longer the current one are refused.
fn check_fence(f: &FileExecution, fence: Option<&Lease>) -> StoreResult<()> {
    match (fence, &f.lease) {
        (None, _) => Ok(()),
        (Some(a), Some(b)) if a.token == b.token && a.worker == b.worker => Ok(()),
        _ => Err(StoreError::Conflict("the lease was lost".into())),
    }
}

struct DirStore {
    dir: PathBuf,
    lock: Mutex<()>,
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        message: e.to_string(),
        retryable: false,
    }
}

fn key_of(k: &NodeKey) -> String {
    match k.item {
        Some(i) => format!("{}#{i}", k.node),
        None => k.node.clone(),
    }
}

impl DirStore {
    fn path(&self, id: &str) -> StoreResult<PathBuf> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(StoreError::not_found(format!("execution {id}")));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }

    fn load(&self, owner: &str, id: &str) -> StoreResult<FileExecution> {
        let text = std::fs::read_to_string(self.path(id)?)
            .map_err(|_| StoreError::not_found(format!("execution {id}")))?;
        let f: FileExecution = serde_json::from_str(&text).map_err(io)?;
        if f.record.owner != owner {
            return Err(StoreError::not_found(format!("execution {id}")));
        }
        Ok(f)
    }

    fn save(&self, f: &FileExecution) -> StoreResult<()> {
        let path = self.path(&f.record.id)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(f).map_err(io)?).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    fn update(
        &self,
        owner: &str,
        id: &str,
        change: impl FnOnce(&mut FileExecution),
    ) -> StoreResult<()> {
        self.update_fenced(owner, id, None, change)
    }

    fn update_fenced(
        &self,
        owner: &str,
        id: &str,
        fence: Option<&Lease>,
        change: impl FnOnce(&mut FileExecution),
    ) -> StoreResult<()> {
        let _g = self.lock.lock().map_err(io)?;
        let mut f = self.load(owner, id)?;
        check_fence(&f, fence)?;
        change(&mut f);
        self.save(&f)
    }
}

#[async_trait]
impl ExecutionStore for DirStore {
    async fn create_execution(&self, rec: &ExecutionRecord) -> StoreResult<()> {
        let _g = self.lock.lock().map_err(io)?;
        if self.path(&rec.id)?.exists() {
            return Err(StoreError::Conflict(format!("execution {} exists", rec.id)));
        }
        self.save(&FileExecution {
            record: rec.clone(),
            results: BTreeMap::new(),
            calls: BTreeMap::new(),
            stop: false,
            lease: None,
            lease_counter: 0,
        })
    }
    async fn get_execution(&self, owner: &str, id: &str) -> StoreResult<ExecutionRecord> {
        let f = self.load(owner, id)?;
        let mut rec = f.record;
        rec.runner = f.lease.map(|l| RunnerInfo {
            worker: l.worker,
            token: l.token,
            expires_in_ms: l.expires_at_ms - now_ms(),
        });
        Ok(rec)
    }
    async fn list_executions(&self, owner: &str) -> StoreResult<Vec<ExecutionRecord>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let name = entry
                .map_err(io)?
                .file_name()
                .to_string_lossy()
                .into_owned();
            if let Some(id) = name.strip_suffix(".json") {
                if let Ok(f) = self.load(owner, id) {
                    out.push(f.record);
                }
            }
        }
        Ok(out)
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
        self.update_fenced(owner, id, fence, |f| {
            f.record.status = status;
            f.record.message = message.map(str::to_string);
            f.record.reason = reason.map(str::to_string);
        })
    }
    async fn begin_attempt(
        &self,
        owner: &str,
        id: &str,
        fence: Option<&Lease>,
    ) -> StoreResult<u32> {
        let mut epoch = 0;
        self.update_fenced(owner, id, fence, |f| {
            f.record.epoch += 1;
            f.record.status = ExecutionStatus::Running;
            epoch = f.record.epoch;
        })?;
        Ok(epoch)
    }
    async fn set_options(
        &self,
        owner: &str,
        id: &str,
        options: &serde_json::Value,
    ) -> StoreResult<()> {
        self.update(owner, id, |f| f.record.options = options.clone())
    }
    async fn put_node_result(
        &self,
        owner: &str,
        id: &str,
        key: &NodeKey,
        result: &NodeResult,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        self.update_fenced(owner, id, fence, |f| {
            f.results.insert(key_of(key), result.clone());
        })
    }
    async fn remove_node_results(
        &self,
        owner: &str,
        id: &str,
        nodes: &[String],
    ) -> StoreResult<()> {
        self.update(owner, id, |f| {
            let gone = |k: &String| {
                nodes
                    .iter()
                    .any(|n| k == n || k.starts_with(&format!("{n}#")))
            };
            f.results.retain(|k, _| !gone(k));
            f.calls.retain(|_, c| !nodes.contains(&c.node));
        })
    }
    async fn node_results(&self, owner: &str, id: &str) -> StoreResult<Vec<(NodeKey, NodeResult)>> {
        Ok(self
            .load(owner, id)?
            .results
            .into_iter()
            .map(|(k, r)| {
                let key = match k
                    .rsplit_once('#')
                    .and_then(|(n, i)| Some((n, i.parse().ok()?)))
                {
                    Some((n, i)) => NodeKey::item(n, i),
                    None => NodeKey::node(k),
                };
                (key, r)
            })
            .collect())
    }
    async fn put_call(
        &self,
        owner: &str,
        id: &str,
        call: &CallRecord,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        let key = format!("{}#{:?}#{}", call.node, call.item, call.request);
        self.update_fenced(owner, id, fence, |f| {
            f.calls.insert(key, call.clone());
        })
    }
    async fn calls(&self, owner: &str, id: &str) -> StoreResult<Vec<CallRecord>> {
        let mut v: Vec<CallRecord> = self.load(owner, id)?.calls.into_values().collect();
        v.sort_by(|a, b| (&a.node, a.item, a.seq).cmp(&(&b.node, b.item, b.seq)));
        Ok(v)
    }
    async fn acquire_lease(
        &self,
        owner: &str,
        id: &str,
        runner: &str,
        duration: std::time::Duration,
    ) -> StoreResult<LeaseGrant> {
        let _g = self.lock.lock().map_err(io)?;
        let mut f = self.load(owner, id)?;
        let now = now_ms();
        if let Some(l) = &f.lease {
            if l.expires_at_ms > now {
                return Ok(LeaseGrant::Held(RunnerInfo {
                    worker: l.worker.clone(),
                    token: l.token,
                    expires_in_ms: l.expires_at_ms - now,
                }));
            }
        }
        f.lease_counter += 1;
        let lease = Lease {
            execution_id: id.to_string(),
            owner: owner.to_string(),
            worker: runner.to_string(),
            token: f.lease_counter,
            expires_at_ms: now + duration.as_millis() as i64,
        };
        f.lease = Some(lease.clone());
        self.save(&f)?;
        Ok(LeaseGrant::Granted(lease))
    }
    async fn renew_lease(&self, lease: &Lease, duration: std::time::Duration) -> StoreResult<bool> {
        let mut renewed = false;
        self.update(&lease.owner, &lease.execution_id, |f| {
            if let Some(l) = f.lease.as_mut().filter(|l| l.token == lease.token) {
                l.expires_at_ms = now_ms() + duration.as_millis() as i64;
                renewed = true;
            }
        })?;
        Ok(renewed)
    }
    async fn release_lease(&self, lease: &Lease) -> StoreResult<()> {
        self.update(&lease.owner, &lease.execution_id, |f| {
            if f.lease.as_ref().is_some_and(|l| l.token == lease.token) {
                f.lease = None;
            }
        })
    }
    async fn request_stop(&self, owner: &str, id: &str) -> StoreResult<()> {
        self.update(owner, id, |f| f.stop = true)
    }
    async fn stop_requested(&self, owner: &str, id: &str) -> StoreResult<bool> {
        Ok(self.load(owner, id)?.stop)
    }
    async fn clear_stop(&self, owner: &str, id: &str) -> StoreResult<()> {
        self.update(owner, id, |f| f.stop = false)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "lekhika-runs".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(DirStore {
        dir: dir.clone(),
        lock: Mutex::new(()),
    });
    let model = ScriptedModel::new(|r, _| {
        Ok(ScriptedModel::reply(
            format!("Answer to: {}", r.messages[0].content),
            5,
            5,
        ))
    });
    let engine = Engine::builder(model, store).build();
    let flow = json!({
        "nodes": [
            {"id": "a", "type": "text", "data": {"provider": "s", "model": "m", "max_tokens": 20, "prompt": "first"}},
            {"id": "b", "type": "text", "data": {"provider": "s", "model": "m", "max_tokens": 20, "prompt": "second after {{nodes.a.output}}"}}
        ],
        "edges": [{"id": "e", "source": "a", "target": "b"}]
    });
    let out = engine
        .start("me", &flow, &json!({}), &RunOptions::default())
        .await?
        .wait()
        .await?;
    println!(
        "{:?}; checkpoint in {}",
        out.status,
        dir.join(format!("{}.json", out.execution_id)).display()
    );
    Ok(())
}

//! Runs: start, submit, claim, resume, stop, report, settings, regenerate,
//! approve, reject, listExecutions. (`run` is `start` + `done` in index.js.)

use lekhika::core::store::ExecutionStatus;
use lekhika::LekhikaError;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::{request, Lekhika};
use crate::error::js;
use crate::handle::Run;
use crate::json::to_json;

#[napi]
impl Lekhika {
    /// Start a run; `options` is the JSON form of `lekhika::RunSettings`
    /// (`user`, `provider`, `model`, `models`, `max_concurrency`,
    /// `execution_id`, `engine_id`, `host`).
    #[napi]
    pub async fn start(
        &self,
        flow: Value,
        input: Option<Value>,
        options: Option<Value>,
    ) -> napi::Result<Run> {
        let req = request(flow, input, options)?;
        Ok(Run::new(self.inner.start(req).await.map_err(js)?))
    }

    /// Queue a run for workers sharing the store; resolves to its id.
    #[napi]
    pub async fn submit(
        &self,
        flow: Value,
        input: Option<Value>,
        options: Option<Value>,
    ) -> napi::Result<String> {
        let req = request(flow, input, options)?;
        self.inner.submit(req).await.map_err(js)
    }

    /// Claim the next queued execution (or one whose runner died) as
    /// `worker` under a lease of `leaseSeconds`; `null` when idle.
    #[napi]
    pub async fn claim(&self, worker: String, lease_seconds: f64) -> napi::Result<Option<Run>> {
        let lease = lekhika::lease_seconds(lease_seconds).map_err(js)?;
        Ok(self
            .inner
            .claim(&worker, lease)
            .await
            .map_err(js)?
            .map(Run::new))
    }

    /// Continue an execution: only unfinished work runs, recorded replies are replayed.
    #[napi]
    pub async fn resume(&self, user: String, execution_id: String) -> napi::Result<Run> {
        let h = self
            .inner
            .resume(&user, &execution_id, &mut |_| {})
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Re-run `node` and everything downstream of it, with an extra instruction.
    #[napi]
    pub async fn regenerate(
        &self,
        user: String,
        execution_id: String,
        node: String,
        instruction: Option<String>,
    ) -> napi::Result<Run> {
        let h = self
            .inner
            .regenerate(&user, &execution_id, &node, instruction.as_deref())
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Approve the output waiting at an approval gate (optionally edited) and continue.
    #[napi]
    pub async fn approve(
        &self,
        user: String,
        execution_id: String,
        node: String,
        edited: Option<Value>,
    ) -> napi::Result<Run> {
        let edited = edited.filter(|v| !v.is_null());
        let h = self
            .inner
            .approve(&user, &execution_id, &node, edited)
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Reject the output at an approval gate: the reviewed node is regenerated with the instruction.
    #[napi]
    pub async fn reject(
        &self,
        user: String,
        execution_id: String,
        node: String,
        instruction: String,
    ) -> napi::Result<Run> {
        let h = self
            .inner
            .reject(&user, &execution_id, &node, &instruction)
            .await
            .map_err(js)?;
        Ok(Run::new(h))
    }

    /// Ask a run to stop, wherever it runs.
    #[napi]
    pub async fn stop(&self, user: String, execution_id: String) -> napi::Result<()> {
        self.inner.stop(&user, &execution_id).await.map_err(js)
    }

    /// Status and analytics of an execution.
    #[napi]
    pub async fn report(&self, user: String, execution_id: String) -> napi::Result<Value> {
        let r = self.inner.report(&user, &execution_id).await.map_err(js)?;
        Ok(to_json(&r))
    }

    /// The settings an execution was started with.
    #[napi]
    pub async fn settings(&self, user: String, execution_id: String) -> napi::Result<Value> {
        let s = self
            .inner
            .settings(&user, &execution_id)
            .await
            .map_err(js)?;
        Ok(to_json(&s))
    }

    /// The user's executions, oldest first; with `status`, only those in it.
    #[napi]
    pub async fn list_executions(
        &self,
        user: String,
        status: Option<String>,
    ) -> napi::Result<Value> {
        let status = match status {
            Some(s) => Some(ExecutionStatus::parse(&s).ok_or_else(|| {
                js(LekhikaError::InvalidArgument(format!(
                    "unknown status `{s}`"
                )))
            })?),
            None => None,
        };
        let v = self
            .inner
            .list_executions(&user, status)
            .await
            .map_err(js)?;
        Ok(to_json(&v))
    }

    /// The replies the user's later runs with `reuse` can be served from.
    #[napi]
    pub async fn reuse_stats(&self, user: String) -> napi::Result<Value> {
        let v = self.inner.reuse_stats(&user).await.map_err(js)?;
        Ok(to_json(&v))
    }

    /// Forget the user's reusable replies; how many were reusable.
    #[napi]
    pub async fn clear_reuse(&self, user: String) -> napi::Result<i64> {
        let n = self.inner.clear_reuse(&user).await.map_err(js)?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// Every live runner lease in the store, across tenants (ids and times).
    #[napi]
    pub async fn runners(&self) -> napi::Result<Value> {
        let v = self.inner.runners().await.map_err(js)?;
        Ok(to_json(&v))
    }
}

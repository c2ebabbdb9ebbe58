//! Runs: start, run, submit, resume, stop, report, regenerate, approve,
//! reject, and the list of a user's executions.

use lekhika_core::exec::report::ExecutionReport;
use lekhika_core::store::{ExecutionStatus, RunnerInfo};
use lekhika_core::{RunHandle, RunOutcome};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::request::RunRequest;
use crate::error::Result;
use crate::runtime::Lekhika;

/// One execution of a user, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionSummary {
    pub id: String,
    /// As a user should read it (`interrupted` when its runner died).
    pub status: ExecutionStatus,
    pub message: Option<String>,
    pub reason: Option<String>,
    pub engine_id: Option<String>,
    /// The brief's `title`, if it has one.
    pub title: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The live runner holding it, if any.
    pub runner: Option<RunnerInfo>,
}

impl Lekhika {
    /// Start a run: the flow is parsed once, its providers checked, the
    /// execution recorded and launched. Returns its handle (events, stop, wait).
    pub async fn start(&self, req: RunRequest) -> Result<RunHandle> {
        let options = self.run_options(&req.settings)?;
        let loaded = self.engine.load_document(req.flow.source(), &options)?;
        self.check_providers(&loaded.flow)?;
        Ok(self
            .engine
            .start_loaded(req.settings.user(), loaded, &req.input, &options)
            .await?)
    }

    /// [`Lekhika::start`], then wait for the outcome (events are not kept).
    pub async fn run(&self, req: RunRequest) -> Result<RunOutcome> {
        Ok(self.start(req).await?.wait().await?)
    }

    /// Queue a run for workers sharing the store; returns its id.
    pub async fn submit(&self, req: RunRequest) -> Result<String> {
        let options = self.run_options(&req.settings)?;
        let loaded = self.engine.load_document(req.flow.source(), &options)?;
        Ok(self
            .engine
            .submit_loaded(req.settings.user(), loaded, &req.input, &options)
            .await?)
    }

    /// Continue an execution: only unfinished work runs and recorded model
    /// replies are replayed. Waits while another runner may be dead
    /// (`on_wait` hears about it once); a live one is `busy`; a completed
    /// execution is `already_completed`.
    pub async fn resume(
        &self,
        user: &str,
        id: &str,
        on_wait: &mut (dyn FnMut(&RunnerInfo) + Send),
    ) -> Result<RunHandle> {
        Ok(self.engine.resume_with(user, id, on_wait).await?)
    }

    /// Ask a run to stop, wherever it runs.
    pub async fn stop(&self, user: &str, id: &str) -> Result<()> {
        Ok(self.engine.stop(user, id).await?)
    }

    /// Status and analytics of an execution.
    pub async fn report(&self, user: &str, id: &str) -> Result<ExecutionReport> {
        Ok(self.engine.report(user, id).await?)
    }

    /// Run `node` and everything after it again, optionally with an
    /// instruction appended to its prompt.
    pub async fn regenerate(
        &self,
        user: &str,
        id: &str,
        node: &str,
        instruction: Option<&str>,
    ) -> Result<RunHandle> {
        Ok(self.engine.regenerate(user, id, node, instruction).await?)
    }

    /// Approve the output waiting at an approval gate (optionally edited)
    /// and continue.
    pub async fn approve(
        &self,
        user: &str,
        id: &str,
        node: &str,
        edited: Option<Value>,
    ) -> Result<RunHandle> {
        Ok(self.engine.approve(user, id, node, edited).await?)
    }

    /// Reject the output at an approval gate: the reviewed node is
    /// regenerated with the instruction and the gate asks again.
    pub async fn reject(
        &self,
        user: &str,
        id: &str,
        node: &str,
        instruction: &str,
    ) -> Result<RunHandle> {
        Ok(self.engine.reject(user, id, node, instruction).await?)
    }

    /// The settings an execution was started with (what `resume` uses).
    pub async fn settings(&self, user: &str, id: &str) -> Result<super::RunSettings> {
        let o = self.engine.options(user, id).await?;
        Ok(super::RunSettings {
            user: Some(user.to_string()),
            provider: o.provider,
            model: o.model,
            models: o.models,
            max_concurrency: o.max_concurrency,
            execution_id: Some(id.to_string()),
            engine_id: o.engine_id,
            host: o.host,
            reuse: o.reuse,
        })
    }

    /// Claim the next queued execution (or one whose runner died) for
    /// `worker` and run it under a lease of `lease`; `None` when idle.
    pub async fn claim(
        &self,
        worker: &str,
        lease: std::time::Duration,
    ) -> Result<Option<RunHandle>> {
        match self.stores.queue.claim(worker, lease).await? {
            Some(l) => Ok(Some(self.engine.run_leased(l).await?)),
            None => Ok(None),
        }
    }

    /// The replies `user`'s later runs with `reuse` can be served from, and
    /// how many have been (`lekhika cache stats`).
    pub async fn reuse_stats(&self, user: &str) -> Result<lekhika_core::store::ReuseStats> {
        Ok(self.stores.executions.reuse_stats(user).await?)
    }

    /// Forget `user`'s reusable replies: later runs with `reuse` ask the
    /// provider again (`lekhika cache clear`). Executions keep their
    /// journals (resume still never asks twice). Returns how many were
    /// reusable.
    pub async fn clear_reuse(&self, user: &str) -> Result<u64> {
        Ok(self.stores.executions.clear_reusable(user).await?)
    }

    /// Every live runner lease in the store, across tenants (ids and times,
    /// no content): which worker holds which execution, since when and
    /// until when. For operators watching a fleet.
    pub async fn runners(&self) -> Result<Vec<lekhika_core::store::RunnerLease>> {
        Ok(self.stores.queue.runners().await?)
    }

    /// A user's executions, oldest first; with `status`, only those whose
    /// status (as a user reads it) is that.
    pub async fn list_executions(
        &self,
        user: &str,
        status: Option<ExecutionStatus>,
    ) -> Result<Vec<ExecutionSummary>> {
        let recs = self.stores.executions.list_executions(user).await?;
        Ok(recs
            .into_iter()
            .map(|r| ExecutionSummary {
                status: r.live_status(),
                title: r
                    .input
                    .get("title")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                runner: r.runner.clone().filter(RunnerInfo::is_live),
                id: r.id,
                message: r.message,
                reason: r.reason,
                engine_id: r.engine_id,
                created_at_ms: r.created_at_ms,
                updated_at_ms: r.updated_at_ms,
            })
            .filter(|s| status.is_none_or(|st| s.status == st))
            .collect())
    }
}

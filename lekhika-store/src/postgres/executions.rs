//! `ExecutionStore` on PostgreSQL. Every query runs as the acting user, so
//! row-level security alone hides other tenants' rows (they look missing).

use async_trait::async_trait;
use lekhika_core::flow::FlowJson;
use std::time::Duration;

use lekhika_core::store::{
    CallRecord, ExecutionRecord, ExecutionStatus, ExecutionStore, Lease, LeaseGrant, NodeKey,
    NodeResult, ReusableCall, ReuseStats, RunnerInfo, StoreError, StoreResult,
};
use lekhika_core::util::now_ms;
use tokio_postgres::{Row, Transaction};

use super::{begin, json_err, pg_err, PgStore};

/// Lease times use the database clock, so runners' clocks need not agree.
pub(super) const DB_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

pub(super) const SELECT_EXECUTION: &str =
    "SELECT id, user_id, engine_id, flow::text, user_input, options, status, \
     message, reason, epoch, created_at_ms, updated_at_ms, lease_worker, lease_token, \
     lease_expires_at_ms - (extract(epoch FROM clock_timestamp()) * 1000)::bigint \
     FROM engine_executions";

pub(super) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

pub(super) fn runner_from(
    worker: Option<String>,
    token: Option<i64>,
    left: Option<i64>,
) -> Option<RunnerInfo> {
    Some(RunnerInfo {
        worker: worker?,
        token: u64::try_from(token?).unwrap_or(0),
        expires_in_ms: left?,
    })
}

pub(super) fn execution_from_row(r: &Row) -> StoreResult<ExecutionRecord> {
    let status: String = r.get(6);
    Ok(ExecutionRecord {
        id: r.get(0),
        owner: r.get(1),
        engine_id: r.get(2),
        flow: FlowJson::parse(r.get::<_, String>(3)).map_err(json_err)?,
        input: r.get(4),
        options: r.get(5),
        status: ExecutionStatus::parse(&status).ok_or_else(|| {
            StoreError::backend(format!("unknown execution status `{status}` in store"))
        })?,
        message: r.get(7),
        reason: r.get(8),
        epoch: u32::try_from(r.get::<_, i32>(9)).unwrap_or(0),
        created_at_ms: r.get(10),
        updated_at_ms: r.get(11),
        runner: runner_from(r.get(12), r.get(13), r.get(14)),
    })
}

pub(super) fn not_found(id: &str) -> StoreError {
    StoreError::not_found(format!("execution {id}"))
}

/// How a guard locks the execution row until commit.
#[derive(Clone, Copy)]
pub(super) enum RowLock {
    /// Nothing (reads).
    None,
    /// Block lease changes (claims skip the row) while writing child rows.
    Share,
    /// The transaction updates the execution row itself.
    Update,
}

/// Check the fence (first, like core's in-memory store), then that the
/// acting user sees the execution.
pub(super) async fn guard(
    tx: &Transaction<'_>,
    id: &str,
    fence: Option<&Lease>,
    lock: RowLock,
) -> StoreResult<()> {
    let sql = match lock {
        RowLock::None => "SELECT lease_worker, lease_token FROM engine_executions WHERE id = $1",
        RowLock::Share => {
            "SELECT lease_worker, lease_token FROM engine_executions WHERE id = $1 FOR SHARE"
        }
        RowLock::Update => {
            "SELECT lease_worker, lease_token FROM engine_executions WHERE id = $1 FOR UPDATE"
        }
    };
    let row = tx.query_opt(sql, &[&id]).await.map_err(pg_err)?;
    if let Some(f) = fence {
        let holds = row.as_ref().is_some_and(|r| {
            r.get::<_, Option<&str>>(0) == Some(f.worker.as_str())
                && r.get::<_, Option<i64>>(1) == Some(f.token as i64)
        });
        if !holds {
            return Err(StoreError::Conflict(format!(
                "lease on execution {id} was lost"
            )));
        }
    }
    row.map(|_| ()).ok_or_else(|| not_found(id))
}

#[async_trait]
impl ExecutionStore for PgStore {
    async fn create_execution(&self, rec: &ExecutionRecord) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, &rec.owner).await?;
        let epoch = i32::try_from(rec.epoch)
            .map_err(|_| StoreError::Forbidden("epoch out of range".into()))?;
        let n = tx
            .execute(
                "INSERT INTO engine_executions (id, user_id, engine_id, flow, user_input, options, status, message, \
                 reason, epoch, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8, $9, $10, $11, $12) \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &rec.id,
                    &rec.owner,
                    &rec.engine_id,
                    &rec.flow.as_str(),
                    &rec.input,
                    &rec.options,
                    &rec.status.as_str(),
                    &rec.message,
                    &rec.reason,
                    &epoch,
                    &rec.created_at_ms,
                    &rec.updated_at_ms,
                ],
            )
            .await
            .map_err(pg_err)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!("execution {} exists", rec.id)));
        }
        tx.commit().await.map_err(pg_err)
    }

    async fn get_execution(&self, owner: &str, id: &str) -> StoreResult<ExecutionRecord> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let row = tx
            .query_opt(&format!("{SELECT_EXECUTION} WHERE id = $1"), &[&id])
            .await
            .map_err(pg_err)?
            .ok_or_else(|| not_found(id))?;
        let rec = execution_from_row(&row)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(rec)
    }

    async fn list_executions(&self, owner: &str) -> StoreResult<Vec<ExecutionRecord>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let rows = tx
            .query(
                &format!("{SELECT_EXECUTION} ORDER BY created_at_ms, id"),
                &[],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        rows.iter().map(execution_from_row).collect()
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
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, id, fence, RowLock::Update).await?;
        tx.execute(
            "UPDATE engine_executions SET status = $1, message = $2, reason = $3, updated_at_ms = $4 WHERE id = $5",
            &[&status.as_str(), &message, &reason, &now_ms(), &id],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    async fn begin_attempt(
        &self,
        owner: &str,
        id: &str,
        fence: Option<&Lease>,
    ) -> StoreResult<u32> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, id, fence, RowLock::Update).await?;
        let row = tx
            .query_one(
                "UPDATE engine_executions SET epoch = epoch + 1, status = 'running', message = NULL, reason = NULL, \
                 updated_at_ms = $1 WHERE id = $2 RETURNING epoch",
                &[&now_ms(), &id],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(u32::try_from(row.get::<_, i32>(0)).unwrap_or(0))
    }

    async fn set_options(
        &self,
        owner: &str,
        id: &str,
        options: &serde_json::Value,
    ) -> StoreResult<()> {
        self.update_row(
            owner,
            id,
            "UPDATE engine_executions SET options = $2 WHERE id = $1",
            options,
        )
        .await
    }

    async fn put_node_result(
        &self,
        owner: &str,
        id: &str,
        key: &NodeKey,
        result: &NodeResult,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        let json = serde_json::to_value(result).map_err(json_err)?;
        let item = key.item.map_or(-1, i64::from);
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, id, fence, RowLock::Share).await?;
        tx.execute(
            "INSERT INTO node_results (user_id, execution_id, node, item, result) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (execution_id, node, item) DO UPDATE SET result = excluded.result",
            &[&owner, &id, &key.node, &item, &json],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    async fn remove_node_results(
        &self,
        owner: &str,
        id: &str,
        nodes: &[String],
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, id, None, RowLock::Share).await?;
        for table in ["node_results", "calls"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE execution_id = $1 AND node = ANY($2)"),
                &[&id, &nodes],
            )
            .await
            .map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)
    }

    async fn node_results(&self, owner: &str, id: &str) -> StoreResult<Vec<(NodeKey, NodeResult)>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, id, None, RowLock::None).await?;
        let rows = tx
            .query(
                "SELECT node, item, result FROM node_results WHERE execution_id = $1 ORDER BY node, item",
                &[&id],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        rows.iter()
            .map(|r| {
                let key = NodeKey {
                    node: r.get(0),
                    item: u32::try_from(r.get::<_, i64>(1)).ok(),
                };
                let result = serde_json::from_value(r.get(2)).map_err(json_err)?;
                Ok((key, result))
            })
            .collect()
    }

    async fn put_call(
        &self,
        owner: &str,
        id: &str,
        call: &CallRecord,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        self.journal_put_call(owner, id, call, fence).await
    }

    async fn calls(&self, owner: &str, id: &str) -> StoreResult<Vec<CallRecord>> {
        self.journal_calls(owner, id).await
    }

    async fn reusable_call(
        &self,
        owner: &str,
        content: &str,
        except: &str,
    ) -> StoreResult<Option<ReusableCall>> {
        self.journal_reusable_call(owner, content, except).await
    }

    async fn clear_reusable(&self, owner: &str) -> StoreResult<u64> {
        self.journal_clear_reusable(owner).await
    }

    async fn reuse_stats(&self, owner: &str) -> StoreResult<ReuseStats> {
        self.journal_reuse_stats(owner).await
    }

    async fn acquire_lease(
        &self,
        owner: &str,
        id: &str,
        runner: &str,
        duration: Duration,
    ) -> StoreResult<LeaseGrant> {
        self.lease_acquire_lease(owner, id, runner, duration).await
    }

    async fn renew_lease(&self, lease: &Lease, duration: Duration) -> StoreResult<bool> {
        self.lease_renew_lease(lease, duration).await
    }

    async fn release_lease(&self, lease: &Lease) -> StoreResult<()> {
        self.lease_release_lease(lease).await
    }

    async fn request_stop(&self, owner: &str, id: &str) -> StoreResult<()> {
        self.update_row(
            owner,
            id,
            "UPDATE engine_executions SET stop_requested = $2 WHERE id = $1",
            &true,
        )
        .await
    }

    async fn stop_requested(&self, owner: &str, id: &str) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let row = tx
            .query_opt(
                "SELECT stop_requested FROM engine_executions WHERE id = $1",
                &[&id],
            )
            .await
            .map_err(pg_err)?
            .ok_or_else(|| not_found(id))?;
        tx.commit().await.map_err(pg_err)?;
        Ok(row.get(0))
    }

    async fn clear_stop(&self, owner: &str, id: &str) -> StoreResult<()> {
        self.update_row(
            owner,
            id,
            "UPDATE engine_executions SET stop_requested = $2 WHERE id = $1",
            &false,
        )
        .await
    }
}

impl PgStore {
    /// Run a one-row `UPDATE … WHERE id = $1` with `$2 = value` as `owner`;
    /// `NotFound` when the row is not visible.
    async fn update_row(
        &self,
        owner: &str,
        id: &str,
        sql: &str,
        value: &(dyn tokio_postgres::types::ToSql + Sync),
    ) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let n = tx.execute(sql, &[&id, value]).await.map_err(pg_err)?;
        if n == 0 {
            return Err(not_found(id));
        }
        tx.commit().await.map_err(pg_err)
    }
}

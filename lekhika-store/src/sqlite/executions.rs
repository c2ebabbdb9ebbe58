//! `ExecutionStore` on SQLite: executions, checkpoints (one row per node
//! result) and stop flags.

use async_trait::async_trait;
use lekhika_core::flow::FlowJson;
use std::time::Duration;

use lekhika_core::store::{
    CallRecord, ExecutionRecord, ExecutionStatus, ExecutionStore, Lease, LeaseGrant, NodeKey,
    NodeResult, ReusableCall, ReuseStats, RunnerInfo, StoreError, StoreResult,
};
use lekhika_core::util::now_ms;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use super::{db_err, json_err, Fence, SqliteStore};

const SELECT_EXECUTION: &str =
    "SELECT id, owner, engine_id, flow, input, options, status, message, reason, \
     epoch, created_at_ms, updated_at_ms, lease_worker, lease_token, lease_expires_at_ms \
     FROM executions";

pub(super) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

pub(super) fn runner_from(
    worker: Option<String>,
    token: Option<i64>,
    expires: Option<i64>,
    now: i64,
) -> Option<RunnerInfo> {
    Some(RunnerInfo {
        worker: worker?,
        token: u64::try_from(token?).unwrap_or(0),
        expires_in_ms: expires? - now,
    })
}

fn execution_from_row(r: &Row<'_>) -> rusqlite::Result<(ExecutionRecord, [String; 4])> {
    let rec = ExecutionRecord {
        id: r.get(0)?,
        owner: r.get(1)?,
        engine_id: r.get(2)?,
        flow: FlowJson::default(),
        input: serde_json::Value::Null,
        options: serde_json::Value::Null,
        status: ExecutionStatus::Pending,
        message: r.get(7)?,
        reason: r.get(8)?,
        epoch: r.get(9)?,
        created_at_ms: r.get(10)?,
        updated_at_ms: r.get(11)?,
        runner: runner_from(r.get(12)?, r.get(13)?, r.get(14)?, now_ms()),
    };
    Ok((rec, [r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?]))
}

fn finish(row: (ExecutionRecord, [String; 4])) -> StoreResult<ExecutionRecord> {
    let (mut rec, [flow, input, options, status]) = row;
    rec.status = ExecutionStatus::parse(&status).ok_or_else(|| {
        StoreError::backend(format!("unknown execution status `{status}` in store"))
    })?;
    rec.flow = FlowJson::parse(flow).map_err(json_err)?;
    rec.input = serde_json::from_str(&input).map_err(json_err)?;
    rec.options = serde_json::from_str(&options).map_err(json_err)?;
    Ok(rec)
}

fn not_found(id: &str) -> StoreError {
    StoreError::not_found(format!("execution {id}"))
}

/// Check the fence (first, like core's in-memory store) and then ownership.
pub(super) fn guard(
    conn: &Connection,
    owner: &str,
    id: &str,
    fence: Option<&Fence>,
) -> StoreResult<()> {
    let row: Option<(String, Option<String>, Option<i64>)> = conn
        .prepare_cached("SELECT owner, lease_worker, lease_token FROM executions WHERE id = ?1")
        .map_err(db_err)?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
        .map_err(db_err)?;
    if let Some(f) = fence {
        let holds = matches!(&row, Some((_, Some(w), Some(t))) if *w == f.worker && *t == f.token);
        if !holds {
            return Err(StoreError::Conflict(format!(
                "lease on execution {id} was lost"
            )));
        }
    }
    match row {
        Some((o, _, _)) if o == owner => Ok(()),
        _ => Err(not_found(id)),
    }
}

/// Run `f` inside `BEGIN IMMEDIATE … COMMIT`.
pub(super) fn write<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let out = f(&tx)?;
    tx.commit().map_err(db_err)?;
    Ok(out)
}

#[async_trait]
impl ExecutionStore for SqliteStore {
    async fn create_execution(&self, rec: &ExecutionRecord) -> StoreResult<()> {
        let rec = rec.clone();
        self.call(move |c| {
            let input = serde_json::to_string(&rec.input).map_err(json_err)?;
            let options = serde_json::to_string(&rec.options).map_err(json_err)?;
            write(c, |tx| {
                let n = tx
                    .prepare_cached(
                        "INSERT INTO executions (id, owner, engine_id, flow, input, options, status, message, \
                         reason, epoch, created_at_ms, updated_at_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(id) DO NOTHING",
                    )
                    .map_err(db_err)?
                    .execute(params![
                        rec.id,
                        rec.owner,
                        rec.engine_id,
                        rec.flow.as_str(),
                        input,
                        options,
                        rec.status.as_str(),
                        rec.message,
                        rec.reason,
                        rec.epoch,
                        rec.created_at_ms,
                        rec.updated_at_ms
                    ])
                    .map_err(db_err)?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!("execution {} exists", rec.id)));
                }
                Ok(())
            })
        })
        .await
    }

    async fn get_execution(&self, owner: &str, id: &str) -> StoreResult<ExecutionRecord> {
        let (owner, id) = (owner.to_string(), id.to_string());
        self.call(move |c| {
            let row = c
                .prepare_cached(&format!("{SELECT_EXECUTION} WHERE id = ?1 AND owner = ?2"))
                .map_err(db_err)?
                .query_row([&id, &owner], execution_from_row)
                .optional()
                .map_err(db_err)?
                .ok_or_else(|| not_found(&id))?;
            finish(row)
        })
        .await
    }

    async fn list_executions(&self, owner: &str) -> StoreResult<Vec<ExecutionRecord>> {
        let owner = owner.to_string();
        self.call(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "{SELECT_EXECUTION} WHERE owner = ?1 ORDER BY created_at_ms, id"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map([&owner], execution_from_row)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            rows.into_iter().map(finish).collect()
        })
        .await
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
        let (owner, id, fence) = (owner.to_string(), id.to_string(), Fence::of(fence));
        let (message, reason) = (message.map(str::to_string), reason.map(str::to_string));
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &owner, &id, fence.as_ref())?;
                tx.prepare_cached(
                    "UPDATE executions SET status = ?1, message = ?2, reason = ?3, updated_at_ms = ?4 \
                     WHERE id = ?5",
                )
                .map_err(db_err)?
                .execute(params![status.as_str(), message, reason, now_ms(), id])
                .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn begin_attempt(
        &self,
        owner: &str,
        id: &str,
        fence: Option<&Lease>,
    ) -> StoreResult<u32> {
        let (owner, id, fence) = (owner.to_string(), id.to_string(), Fence::of(fence));
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &owner, &id, fence.as_ref())?;
                tx.prepare_cached(
                    "UPDATE executions SET epoch = epoch + 1, status = 'running', message = NULL, \
                     reason = NULL, updated_at_ms = ?1 WHERE id = ?2 RETURNING epoch",
                )
                .map_err(db_err)?
                .query_row(params![now_ms(), id], |r| r.get(0))
                .map_err(db_err)
            })
        })
        .await
    }

    async fn set_options(
        &self,
        owner: &str,
        id: &str,
        options: &serde_json::Value,
    ) -> StoreResult<()> {
        let (owner, id) = (owner.to_string(), id.to_string());
        let options = serde_json::to_string(options).map_err(json_err)?;
        self.call(move |c| {
            let n = c
                .prepare_cached("UPDATE executions SET options = ?1 WHERE id = ?2 AND owner = ?3")
                .map_err(db_err)?
                .execute(params![options, id, owner])
                .map_err(db_err)?;
            if n == 0 {
                return Err(not_found(&id));
            }
            Ok(())
        })
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
        let (owner, id, fence) = (owner.to_string(), id.to_string(), Fence::of(fence));
        let node = key.node.clone();
        let item = key.item.map_or(-1, i64::from);
        let json = serde_json::to_string(result).map_err(json_err)?;
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &owner, &id, fence.as_ref())?;
                tx.prepare_cached(
                    "INSERT INTO node_results (execution_id, node, item, result) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT(execution_id, node, item) DO UPDATE SET result = excluded.result",
                )
                .map_err(db_err)?
                .execute(params![id, node, item, json])
                .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn remove_node_results(
        &self,
        owner: &str,
        id: &str,
        nodes: &[String],
    ) -> StoreResult<()> {
        let (owner, id, nodes) = (owner.to_string(), id.to_string(), nodes.to_vec());
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &owner, &id, None)?;
                for table in ["node_results", "calls"] {
                    let mut stmt = tx
                        .prepare_cached(&format!(
                            "DELETE FROM {table} WHERE execution_id = ?1 AND node = ?2"
                        ))
                        .map_err(db_err)?;
                    for node in &nodes {
                        stmt.execute([&id, node]).map_err(db_err)?;
                    }
                }
                Ok(())
            })
        })
        .await
    }

    async fn node_results(&self, owner: &str, id: &str) -> StoreResult<Vec<(NodeKey, NodeResult)>> {
        let (owner, id) = (owner.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction().map_err(db_err)?;
            guard(&tx, &owner, &id, None)?;
            let mut stmt = tx
                .prepare_cached(
                    "SELECT node, item, result FROM node_results WHERE execution_id = ?1 ORDER BY node, item",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([&id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?))
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            rows.into_iter()
                .map(|(node, item, json)| {
                    let item = u32::try_from(item).ok();
                    let result = serde_json::from_str(&json).map_err(json_err)?;
                    Ok((NodeKey { node, item }, result))
                })
                .collect()
        })
        .await
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
        let (owner, content, except) = (owner.to_string(), content.to_string(), except.to_string());
        self.call(move |c| super::reuse::find(c, &owner, &content, &except))
            .await
    }

    async fn clear_reusable(&self, owner: &str) -> StoreResult<u64> {
        let owner = owner.to_string();
        self.call(move |c| super::reuse::clear(c, &owner)).await
    }

    async fn reuse_stats(&self, owner: &str) -> StoreResult<ReuseStats> {
        let owner = owner.to_string();
        self.call(move |c| super::reuse::stats(c, &owner)).await
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
        self.set_stop(owner, id, true).await
    }

    async fn stop_requested(&self, owner: &str, id: &str) -> StoreResult<bool> {
        let (owner, id) = (owner.to_string(), id.to_string());
        self.call(move |c| {
            c.prepare_cached("SELECT stop_requested FROM executions WHERE id = ?1 AND owner = ?2")
                .map_err(db_err)?
                .query_row([&id, &owner], |r| r.get::<_, bool>(0))
                .optional()
                .map_err(db_err)?
                .ok_or_else(|| not_found(&id))
        })
        .await
    }

    async fn clear_stop(&self, owner: &str, id: &str) -> StoreResult<()> {
        self.set_stop(owner, id, false).await
    }
}

impl SqliteStore {
    async fn set_stop(&self, owner: &str, id: &str, on: bool) -> StoreResult<()> {
        let (owner, id) = (owner.to_string(), id.to_string());
        self.call(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE executions SET stop_requested = ?1 WHERE id = ?2 AND owner = ?3",
                )
                .map_err(db_err)?
                .execute(params![on, id, owner])
                .map_err(db_err)?;
            if n == 0 {
                return Err(not_found(&id));
            }
            Ok(())
        })
        .await
    }
}

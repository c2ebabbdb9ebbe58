//! `ExecutionQueue` on SQLite: atomic claims across processes sharing the file.
//!
//! A claim runs in `BEGIN IMMEDIATE` (the database write lock), bumps the
//! global lease counter and takes the oldest claimable execution in one
//! `UPDATE … RETURNING`; two processes can never claim the same run.

use std::time::Duration;

use async_trait::async_trait;
use lekhika_core::quota::{needs_store, Bucket, QuotaOp, SharedQuota};
use lekhika_core::store::{ExecutionQueue, Lease, RunnerLease, StoreResult};
use lekhika_core::util::now_ms;
use rusqlite::{params, OptionalExtension};

use super::executions::write;
use super::{db_err, SqliteStore};

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

#[async_trait]
impl ExecutionQueue for SqliteStore {
    async fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        let worker = worker.to_string();
        let ms = millis(lease);
        self.call(move |c| {
            write(c, |tx| {
                let now = now_ms();
                let token: i64 = tx
                    .prepare_cached("UPDATE counters SET value = value + 1 WHERE name = 'lease_token' RETURNING value")
                    .map_err(db_err)?
                    .query_row([], |r| r.get(0))
                    .map_err(db_err)?;
                let claimed: Option<(String, String, i64)> = tx
                    .prepare_cached(
                        "UPDATE executions SET status = 'running', lease_worker = ?1, lease_token = ?2, \
                         lease_expires_at_ms = ?3, updated_at_ms = ?4, lease_taken_at_ms = ?4 \
                         WHERE id = (SELECT id FROM executions WHERE status = 'pending' \
                            OR (status = 'running' AND lease_expires_at_ms IS NOT NULL AND lease_expires_at_ms < ?4) \
                            ORDER BY created_at_ms, id LIMIT 1) \
                         RETURNING id, owner, lease_expires_at_ms",
                    )
                    .map_err(db_err)?
                    .query_row(params![worker, token, now + ms, now], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .optional()
                    .map_err(db_err)?;
                Ok(claimed.map(|(execution_id, owner, expires_at_ms)| Lease {
                    execution_id,
                    owner,
                    worker: worker.clone(),
                    token: token as u64,
                    expires_at_ms,
                }))
            })
        })
        .await
    }

    async fn runners(&self) -> StoreResult<Vec<RunnerLease>> {
        self.call(move |c| {
            let now = now_ms();
            let mut stmt = c
                .prepare_cached(
                    "SELECT lease_worker, id, lease_token, lease_expires_at_ms, \
                     COALESCE(lease_taken_at_ms, ?1) FROM executions \
                     WHERE lease_worker IS NOT NULL AND lease_expires_at_ms > ?1 \
                     ORDER BY lease_worker, id",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([now], |r| {
                    Ok(RunnerLease {
                        worker: r.get(0)?,
                        execution_id: r.get(1)?,
                        token: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                        expires_in_ms: r.get::<_, i64>(3)? - now,
                        held_for_ms: now - r.get::<_, i64>(4)?,
                    })
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            Ok(rows)
        })
        .await
    }
}

#[async_trait]
impl SharedQuota for SqliteStore {
    async fn apply(&self, key: &str, op: QuotaOp) -> StoreResult<Duration> {
        if !needs_store(&op) {
            return Ok(Duration::ZERO);
        }
        let key = key.to_string();
        self.call(move |c| {
            write(c, |tx| {
                let now = now_ms();
                let row: Option<(Option<f64>, Option<i64>, Option<f64>, Option<i64>)> = tx
                    .prepare_cached(
                        "SELECT requests, requests_at_ms, tokens, tokens_at_ms FROM rate_buckets WHERE key = ?1",
                    )
                    .map_err(db_err)?
                    .query_row([&key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .optional()
                    .map_err(db_err)?;
                let bucket = |a: Option<f64>, t: Option<i64>| {
                    Some(Bucket { avail: a?, at_ms: t? })
                };
                let (mut req, mut tok) = match row {
                    Some((a, b, c2, d)) => (bucket(a, b), bucket(c2, d)),
                    None => (None, None),
                };
                let wait = op.apply(&mut req, &mut tok, now);
                tx.prepare_cached(
                    "INSERT INTO rate_buckets (key, requests, requests_at_ms, tokens, tokens_at_ms) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(key) DO UPDATE SET \
                     requests = excluded.requests, requests_at_ms = excluded.requests_at_ms, \
                     tokens = excluded.tokens, tokens_at_ms = excluded.tokens_at_ms",
                )
                .map_err(db_err)?
                .execute(params![
                    key,
                    req.map(|b| b.avail),
                    req.map(|b| b.at_ms),
                    tok.map(|b| b.avail),
                    tok.map(|b| b.at_ms)
                ])
                .map_err(db_err)?;
                Ok(wait)
            })
        })
        .await
    }
}

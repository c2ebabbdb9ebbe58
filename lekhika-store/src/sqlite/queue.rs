//! `ExecutionQueue` on SQLite: atomic claims across processes sharing the file.
//!
//! A claim runs in `BEGIN IMMEDIATE` (the database write lock), bumps the
//! global lease counter and takes the oldest claimable execution in one
//! `UPDATE … RETURNING`; two processes can never claim the same run.

use std::time::Duration;

use async_trait::async_trait;
use lekhika_core::store::{ExecutionQueue, Lease, StoreResult};
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
                         lease_expires_at_ms = ?3, updated_at_ms = ?4 \
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
}

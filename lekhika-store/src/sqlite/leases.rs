//! Runner leases on SQLite: one runner per execution, with fencing tokens
//! (every process on the machine shares the file).

use std::time::Duration;

use lekhika_core::store::{Lease, LeaseGrant, StoreResult};
use lekhika_core::util::now_ms;
use rusqlite::params;

use super::executions::{guard, millis, runner_from, write};
use super::{db_err, SqliteStore};

impl SqliteStore {
    pub(super) async fn lease_acquire_lease(
        &self,
        owner: &str,
        id: &str,
        runner: &str,
        duration: Duration,
    ) -> StoreResult<LeaseGrant> {
        let (owner, id, runner) = (owner.to_string(), id.to_string(), runner.to_string());
        let ms = millis(duration);
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &owner, &id, None)?;
                let now = now_ms();
                let held: (Option<String>, Option<i64>, Option<i64>) = tx
                    .prepare_cached(
                        "SELECT lease_worker, lease_token, lease_expires_at_ms FROM executions WHERE id = ?1",
                    )
                    .map_err(db_err)?
                    .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(db_err)?;
                if let Some(info) = runner_from(held.0, held.1, held.2, now) {
                    if info.is_live() {
                        return Ok(LeaseGrant::Held(info));
                    }
                }
                let token: i64 = tx
                    .prepare_cached(
                        "UPDATE counters SET value = value + 1 WHERE name = 'lease_token' RETURNING value",
                    )
                    .map_err(db_err)?
                    .query_row([], |r| r.get(0))
                    .map_err(db_err)?;
                tx.prepare_cached(
                    "UPDATE executions SET lease_worker = ?1, lease_token = ?2, lease_expires_at_ms = ?3, \
                     lease_taken_at_ms = ?5 WHERE id = ?4",
                )
                .map_err(db_err)?
                .execute(params![runner, token, now + ms, id, now])
                .map_err(db_err)?;
                Ok(LeaseGrant::Granted(Lease {
                    execution_id: id.clone(),
                    owner: owner.clone(),
                    worker: runner.clone(),
                    token: u64::try_from(token).unwrap_or(0),
                    expires_at_ms: now + ms,
                }))
            })
        })
        .await
    }

    pub(super) async fn lease_renew_lease(
        &self,
        lease: &Lease,
        duration: Duration,
    ) -> StoreResult<bool> {
        let (id, token) = (lease.execution_id.clone(), lease.token as i64);
        let ms = millis(duration);
        self.call(move |c| {
            let n = c
                .prepare_cached(
                    "UPDATE executions SET lease_expires_at_ms = ?1 WHERE id = ?2 AND lease_token = ?3",
                )
                .map_err(db_err)?
                .execute(params![now_ms() + ms, id, token])
                .map_err(db_err)?;
            Ok(n == 1)
        })
        .await
    }

    pub(super) async fn lease_release_lease(&self, lease: &Lease) -> StoreResult<()> {
        let (id, token) = (lease.execution_id.clone(), lease.token as i64);
        self.call(move |c| {
            c.prepare_cached(
                "UPDATE executions SET lease_worker = NULL, lease_token = NULL, lease_expires_at_ms = NULL \
                 WHERE id = ?1 AND lease_token = ?2",
            )
            .map_err(db_err)?
            .execute(params![id, token])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}

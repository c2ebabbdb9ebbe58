//! Runner leases on PostgreSQL: one runner per execution, with fencing
//! tokens and expiry on the database clock.

use std::time::Duration;

use lekhika_core::store::{Lease, LeaseGrant, StoreError, StoreResult};

use super::executions::{millis, not_found, runner_from, DB_NOW_MS};
use super::{begin, pg_err, PgStore};

impl PgStore {
    pub(super) async fn lease_acquire_lease(
        &self,
        owner: &str,
        id: &str,
        runner: &str,
        duration: Duration,
    ) -> StoreResult<LeaseGrant> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        // Concurrent takers queue on the row lock; the second re-checks the
        // expiry after the first commits, and finds a live lease.
        let row = tx
            .query_opt(
                &format!(
                    "UPDATE engine_executions SET lease_worker = $2, lease_token = nextval('lease_tokens'), \
                     lease_expires_at_ms = {DB_NOW_MS} + $3, lease_taken_at_ms = {DB_NOW_MS} \
                     WHERE id = $1 AND (lease_expires_at_ms IS NULL OR lease_expires_at_ms <= {DB_NOW_MS}) \
                     RETURNING lease_token, lease_expires_at_ms"
                ),
                &[&id, &runner, &millis(duration)],
            )
            .await
            .map_err(pg_err)?;
        let grant = match row {
            Some(r) => LeaseGrant::Granted(Lease {
                execution_id: id.to_string(),
                owner: owner.to_string(),
                worker: runner.to_string(),
                token: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                expires_at_ms: r.get(1),
            }),
            None => {
                let r = tx
                    .query_opt(
                        &format!(
                            "SELECT lease_worker, lease_token, lease_expires_at_ms - {DB_NOW_MS} \
                             FROM engine_executions WHERE id = $1"
                        ),
                        &[&id],
                    )
                    .await
                    .map_err(pg_err)?
                    .ok_or_else(|| not_found(id))?;
                let info = runner_from(r.get(0), r.get(1), r.get(2)).ok_or_else(|| {
                    StoreError::Conflict(format!("the lease of execution {id} changed; try again"))
                })?;
                LeaseGrant::Held(info)
            }
        };
        tx.commit().await.map_err(pg_err)?;
        Ok(grant)
    }

    pub(super) async fn lease_renew_lease(
        &self,
        lease: &Lease,
        duration: Duration,
    ) -> StoreResult<bool> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, &lease.owner).await?;
        let n = tx
            .execute(
                &format!(
                    "UPDATE engine_executions SET lease_expires_at_ms = {DB_NOW_MS} + $3 \
                     WHERE id = $1 AND lease_token = $2"
                ),
                &[
                    &lease.execution_id,
                    &(lease.token as i64),
                    &millis(duration),
                ],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(n == 1)
    }

    pub(super) async fn lease_release_lease(&self, lease: &Lease) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, &lease.owner).await?;
        tx.execute(
            "UPDATE engine_executions SET lease_worker = NULL, lease_token = NULL, lease_expires_at_ms = NULL, \
             lease_taken_at_ms = NULL WHERE id = $1 AND lease_token = $2",
            &[&lease.execution_id, &(lease.token as i64)],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }
}

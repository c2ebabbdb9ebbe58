//! `ExecutionQueue` on PostgreSQL: any number of workers on any number of
//! machines share one database.
//!
//! `claim` calls `lekhika_claim` (SECURITY DEFINER, `FOR UPDATE SKIP LOCKED`)
//! because it must see every tenant's queue; renew and release act as the
//! lease's owner under row-level security. Lease times use the database clock,
//! so workers' clocks need not agree.

use std::time::Duration;

use async_trait::async_trait;
use lekhika_core::store::{ExecutionQueue, Lease, StoreResult};

use super::{begin, pg_err, PgStore};

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

const DB_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

#[async_trait]
impl ExecutionQueue for PgStore {
    async fn claim(&self, worker: &str, lease: Duration) -> StoreResult<Option<Lease>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT execution_id, owner_id, token, expires_at_ms FROM lekhika_claim($1, $2)",
                &[&worker, &millis(lease)],
            )
            .await
            .map_err(pg_err)?;
        Ok(row.map(|r| Lease {
            execution_id: r.get(0),
            owner: r.get(1),
            worker: worker.to_string(),
            token: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
            expires_at_ms: r.get(3),
        }))
    }

    async fn renew(&self, lease: &Lease, duration: Duration) -> StoreResult<bool> {
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

    async fn release(&self, lease: &Lease) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, &lease.owner).await?;
        tx.execute(
            "UPDATE engine_executions SET lease_worker = NULL, lease_token = NULL, lease_expires_at_ms = NULL \
             WHERE id = $1 AND lease_token = $2",
            &[&lease.execution_id, &(lease.token as i64)],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }
}

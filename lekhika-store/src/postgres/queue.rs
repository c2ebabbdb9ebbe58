//! `ExecutionQueue` on PostgreSQL: any number of workers on any number of
//! machines share one database.
//!
//! `claim` calls `lekhika_claim` (SECURITY DEFINER, `FOR UPDATE SKIP LOCKED`)
//! because it must see every tenant's queue; renewing and releasing are the
//! store's lease methods, run as the lease's owner under row-level security.
//! Lease times use the database clock, so workers' clocks need not agree.

use std::time::Duration;

use async_trait::async_trait;
use lekhika_core::store::{ExecutionQueue, Lease, StoreResult};

use super::{pg_err, PgStore};

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

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
}

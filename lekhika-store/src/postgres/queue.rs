//! `ExecutionQueue` on PostgreSQL: any number of workers on any number of
//! machines share one database.
//!
//! `claim` calls `lekhika_claim` (SECURITY DEFINER, `FOR UPDATE SKIP LOCKED`)
//! because it must see every tenant's queue; renewing and releasing are the
//! store's lease methods, run as the lease's owner under row-level security.
//! Lease times use the database clock, so workers' clocks need not agree.

use std::time::Duration;

use async_trait::async_trait;
use lekhika_core::quota::{needs_store, Bucket, QuotaOp, SharedQuota};
use lekhika_core::store::{ExecutionQueue, Lease, RunnerLease, StoreResult};

use super::executions::DB_NOW_MS;
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

    async fn runners(&self) -> StoreResult<Vec<RunnerLease>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT worker, execution_id, token, expires_in_ms, held_for_ms FROM lekhika_runners()",
                &[],
            )
            .await
            .map_err(pg_err)?;
        Ok(rows
            .iter()
            .map(|r| RunnerLease {
                worker: r.get(0),
                execution_id: r.get(1),
                token: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                expires_in_ms: r.get(3),
                held_for_ms: r.get(4),
            })
            .collect())
    }
}

/// Buckets live in `rate_buckets`, one row per provider endpoint and key;
/// each take locks its row, so every worker sees one budget. Times are the
/// database's clock.
#[async_trait]
impl SharedQuota for PgStore {
    async fn apply(&self, key: &str, op: QuotaOp) -> StoreResult<Duration> {
        if !needs_store(&op) {
            return Ok(Duration::ZERO);
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(pg_err)?;
        tx.execute(
            "INSERT INTO rate_buckets (key) VALUES ($1) ON CONFLICT (key) DO NOTHING",
            &[&key],
        )
        .await
        .map_err(pg_err)?;
        let row = tx
            .query_one(
                &format!(
                    "SELECT requests, requests_at_ms, tokens, tokens_at_ms, {DB_NOW_MS} \
                     FROM rate_buckets WHERE key = $1 FOR UPDATE"
                ),
                &[&key],
            )
            .await
            .map_err(pg_err)?;
        let bucket = |a: Option<f64>, t: Option<i64>| {
            Some(Bucket {
                avail: a?,
                at_ms: t?,
            })
        };
        let mut req = bucket(row.get(0), row.get(1));
        let mut tok = bucket(row.get(2), row.get(3));
        let now: i64 = row.get(4);
        let wait = op.apply(&mut req, &mut tok, now);
        tx.execute(
            "UPDATE rate_buckets SET requests = $2, requests_at_ms = $3, tokens = $4, tokens_at_ms = $5 \
             WHERE key = $1",
            &[
                &key,
                &req.map(|b| b.avail),
                &req.map(|b| b.at_ms),
                &tok.map(|b| b.avail),
                &tok.map(|b| b.at_ms),
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(wait)
    }
}

//! The call journal on PostgreSQL: recording and reading a run's model
//! replies, and `--reuse` (a user's paid replies by content key).

use lekhika_core::provider::Usage;
use lekhika_core::store::{
    CallKind, CallRecord, Lease, ReusableCall, ReuseStats, StoreError, StoreResult,
};
use tokio_postgres::Row;

use super::executions::{guard, RowLock};
use super::{begin, pg_err, PgStore};

impl PgStore {
    pub(super) async fn journal_put_call(
        &self,
        owner: &str,
        id: &str,
        call: &CallRecord,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        let item = call.item.map_or(-1, i64::from);
        let seq = i64::from(call.seq);
        let input = i64::try_from(call.usage.input_tokens).unwrap_or(i64::MAX);
        let output = i64::try_from(call.usage.output_tokens).unwrap_or(i64::MAX);
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, id, fence, RowLock::Share).await?;
        tx.execute(
            "INSERT INTO calls (user_id, execution_id, node, item, request, seq, kind, provider, model, reply, \
             input_tokens, output_tokens, cost, charge, recorded_at_ms, requests, content_key, reused_from) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
             ON CONFLICT (execution_id, node, item, request) DO UPDATE SET seq = excluded.seq, \
             kind = excluded.kind, provider = excluded.provider, model = excluded.model, \
             reply = excluded.reply, input_tokens = excluded.input_tokens, \
             output_tokens = excluded.output_tokens, cost = excluded.cost, charge = excluded.charge, \
             recorded_at_ms = excluded.recorded_at_ms, requests = excluded.requests, \
             content_key = excluded.content_key, reused_from = excluded.reused_from",
            &[
                &owner,
                &id,
                &call.node,
                &item,
                &call.request,
                &seq,
                &call.kind.as_str(),
                &call.provider,
                &call.model,
                &call.reply,
                &input,
                &output,
                &call.cost,
                &call.charge,
                &call.recorded_at_ms,
                &i32::try_from(call.requests).unwrap_or(i32::MAX),
                &call.content,
                &call.reused_from,
            ],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)
    }

    pub(super) async fn journal_calls(
        &self,
        owner: &str,
        id: &str,
    ) -> StoreResult<Vec<CallRecord>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        guard(&tx, id, None, RowLock::None).await?;
        let rows = tx
            .query(
                &format!(
                    "SELECT {CALL_COLUMNS} FROM calls WHERE execution_id = $1 ORDER BY node, item, seq"
                ),
                &[&id],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        rows.iter().map(call_row).collect()
    }

    pub(super) async fn journal_reusable_call(
        &self,
        owner: &str,
        content: &str,
        except: &str,
    ) -> StoreResult<Option<ReusableCall>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        // `user_id = $1` as well as row-level security: a platform admin may
        // read every user's calls, but is served only their own.
        let row = tx
            .query_opt(
                &format!(
                    "SELECT {CALL_COLUMNS}, execution_id FROM calls \
                     WHERE user_id = $1 AND content_key = $2 AND execution_id <> $3 AND {LIVE_REPLY} \
                     ORDER BY recorded_at_ms DESC LIMIT 1"
                ),
                &[&owner, &content, &except],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        row.map(|r| {
            Ok(ReusableCall {
                execution_id: r.get(16),
                call: call_row(&r)?,
            })
        })
        .transpose()
    }

    pub(super) async fn journal_clear_reusable(&self, owner: &str) -> StoreResult<u64> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let live = tx
            .query_one(
                &format!(
                    "SELECT COUNT(*) FROM calls WHERE user_id = $1 AND content_key IS NOT NULL AND {LIVE_REPLY}"
                ),
                &[&owner],
            )
            .await
            .map_err(pg_err)?
            .get::<_, i64>(0);
        tx.execute(
            "UPDATE calls SET content_key = NULL WHERE user_id = $1 AND content_key IS NOT NULL",
            &[&owner],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(u64::try_from(live).unwrap_or(0))
    }

    pub(super) async fn journal_reuse_stats(&self, owner: &str) -> StoreResult<ReuseStats> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, owner).await?;
        let paid = tx
            .query_one(
                &format!(
                    "SELECT COUNT(*), COUNT(DISTINCT execution_id), COALESCE(SUM(input_tokens), 0)::bigint, \
                     COALESCE(SUM(output_tokens), 0)::bigint, COALESCE(SUM(cost), 0)::bigint FROM calls \
                     WHERE user_id = $1 AND content_key IS NOT NULL AND {LIVE_REPLY}"
                ),
                &[&owner],
            )
            .await
            .map_err(pg_err)?;
        let reused = tx
            .query_one(
                "SELECT COUNT(*), COALESCE(SUM(input_tokens), 0)::bigint, COALESCE(SUM(output_tokens), 0)::bigint \
                 FROM calls WHERE user_id = $1 AND reused_from IS NOT NULL",
                &[&owner],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(ReuseStats {
            replies: n(paid.get(0)),
            executions: n(paid.get(1)),
            usage: Usage {
                input_tokens: n(paid.get(2)),
                output_tokens: n(paid.get(3)),
            },
            cost: paid.get(4),
            reused: n(reused.get(0)),
            reused_usage: Usage {
                input_tokens: n(reused.get(1)),
                output_tokens: n(reused.get(2)),
            },
        })
    }
}

/// The columns of a `calls` row, in [`call_row`]'s order.
const CALL_COLUMNS: &str = "node, item, request, seq, kind, provider, model, reply, input_tokens, \
     output_tokens, cost, charge, recorded_at_ms, requests, content_key, reused_from";

/// Replies asked of a provider: not abandoned, not failed tries, not reused.
const LIVE_REPLY: &str = "reused_from IS NULL \
     AND COALESCE(reply->>'abandoned', 'false') <> 'true' \
     AND COALESCE(reply->>'failed_tries', 'false') <> 'true'";

fn call_row(r: &Row) -> StoreResult<CallRecord> {
    let kind: String = r.get(4);
    Ok(CallRecord {
        node: r.get(0),
        item: u32::try_from(r.get::<_, i64>(1)).ok(),
        request: r.get(2),
        seq: u32::try_from(r.get::<_, i64>(3)).unwrap_or(u32::MAX),
        kind: CallKind::parse(&kind)
            .ok_or_else(|| StoreError::backend(format!("unknown call kind `{kind}` in store")))?,
        provider: r.get(5),
        model: r.get(6),
        reply: r.get(7),
        usage: Usage {
            input_tokens: u64::try_from(r.get::<_, i64>(8)).unwrap_or(0),
            output_tokens: u64::try_from(r.get::<_, i64>(9)).unwrap_or(0),
        },
        cost: r.get(10),
        charge: r.get(11),
        recorded_at_ms: r.get(12),
        requests: u32::try_from(r.get::<_, i32>(13)).unwrap_or(1),
        content: r.get(14),
        reused_from: r.get(15),
    })
}

//! `--reuse` on SQLite: a user's paid replies by content key, across the
//! user's executions (the `calls` table joined to its executions' owner).

use lekhika_core::provider::Usage;
use lekhika_core::store::{ReusableCall, ReuseStats, StoreResult};
use rusqlite::{Connection, OptionalExtension};

use super::calls::{CallRow, CALL_COLUMNS};
use super::db_err;

/// Replies asked of a provider: not abandoned, not failed tries, not reused.
const LIVE_REPLY: &str = "c.reused_from IS NULL \
     AND json_extract(c.reply, '$.abandoned') IS NOT 1 \
     AND json_extract(c.reply, '$.failed_tries') IS NOT 1";

pub(super) fn find(
    c: &Connection,
    owner: &str,
    content: &str,
    except: &str,
) -> StoreResult<Option<ReusableCall>> {
    let columns = CALL_COLUMNS
        .split(',')
        .map(|col| format!("c.{}", col.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let row = c
        .prepare_cached(&format!(
            "SELECT {columns}, c.execution_id FROM calls c JOIN executions e ON e.id = c.execution_id \
             WHERE e.owner = ?1 AND c.content_key = ?2 AND c.execution_id <> ?3 AND {LIVE_REPLY} \
             ORDER BY c.recorded_at_ms DESC LIMIT 1"
        ))
        .map_err(db_err)?
        .query_row([owner, content, except], |r| {
            Ok((CallRow::read(r)?, r.get::<_, String>(16)?))
        })
        .optional()
        .map_err(db_err)?;
    row.map(|(call, execution_id)| {
        Ok(ReusableCall {
            execution_id,
            call: call.into_record()?,
        })
    })
    .transpose()
}

pub(super) fn clear(c: &Connection, owner: &str) -> StoreResult<u64> {
    let live: i64 = c
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM calls c JOIN executions e ON e.id = c.execution_id \
             WHERE e.owner = ?1 AND c.content_key IS NOT NULL AND {LIVE_REPLY}"
        ))
        .map_err(db_err)?
        .query_row([owner], |r| r.get(0))
        .map_err(db_err)?;
    // Reused copies keep no key either.
    c.prepare_cached(
        "UPDATE calls SET content_key = NULL WHERE content_key IS NOT NULL \
         AND execution_id IN (SELECT id FROM executions WHERE owner = ?1)",
    )
    .map_err(db_err)?
    .execute([owner])
    .map_err(db_err)?;
    Ok(u64::try_from(live).unwrap_or(0))
}

pub(super) fn stats(c: &Connection, owner: &str) -> StoreResult<ReuseStats> {
    let (replies, executions, input, output, cost): (i64, i64, i64, i64, i64) = c
        .prepare_cached(&format!(
            "SELECT COUNT(*), COUNT(DISTINCT c.execution_id), COALESCE(SUM(c.input_tokens), 0), \
             COALESCE(SUM(c.output_tokens), 0), COALESCE(SUM(c.cost), 0) \
             FROM calls c JOIN executions e ON e.id = c.execution_id \
             WHERE e.owner = ?1 AND c.content_key IS NOT NULL AND {LIVE_REPLY}"
        ))
        .map_err(db_err)?
        .query_row([owner], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(db_err)?;
    let (reused, r_input, r_output): (i64, i64, i64) = c
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(c.input_tokens), 0), COALESCE(SUM(c.output_tokens), 0) \
             FROM calls c JOIN executions e ON e.id = c.execution_id \
             WHERE e.owner = ?1 AND c.reused_from IS NOT NULL",
        )
        .map_err(db_err)?
        .query_row([owner], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db_err)?;
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(ReuseStats {
        replies: n(replies),
        executions: n(executions),
        usage: Usage {
            input_tokens: n(input),
            output_tokens: n(output),
        },
        cost,
        reused: n(reused),
        reused_usage: Usage {
            input_tokens: n(r_input),
            output_tokens: n(r_output),
        },
    })
}

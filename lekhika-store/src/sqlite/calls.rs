//! The call journal on SQLite: recording and reading a run's model replies
//! (`--reuse` lookups are in `reuse.rs`).

use lekhika_core::provider::Usage;
use lekhika_core::store::{CallKind, CallRecord, Lease, StoreError, StoreResult};
use rusqlite::params;

use super::executions::{guard, write};
use super::{db_err, json_err, Fence, SqliteStore};

impl SqliteStore {
    pub(super) async fn journal_put_call(
        &self,
        owner: &str,
        id: &str,
        call: &CallRecord,
        fence: Option<&Lease>,
    ) -> StoreResult<()> {
        let (owner, id, fence) = (owner.to_string(), id.to_string(), Fence::of(fence));
        let call = call.clone();
        let reply = serde_json::to_string(&call.reply).map_err(json_err)?;
        self.call(move |c| {
            write(c, |tx| {
                guard(tx, &owner, &id, fence.as_ref())?;
                tx.prepare_cached(
                    "INSERT INTO calls (execution_id, node, item, request, seq, kind, provider, model, \
                     reply, input_tokens, output_tokens, cost, charge, recorded_at_ms, requests, \
                     content_key, reused_from) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
                     ON CONFLICT(execution_id, node, item, request) DO UPDATE SET \
                     seq = excluded.seq, kind = excluded.kind, provider = excluded.provider, \
                     model = excluded.model, reply = excluded.reply, \
                     input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, \
                     cost = excluded.cost, charge = excluded.charge, recorded_at_ms = excluded.recorded_at_ms, \
                     requests = excluded.requests, content_key = excluded.content_key, \
                     reused_from = excluded.reused_from",
                )
                .map_err(db_err)?
                .execute(params![
                    id,
                    call.node,
                    call.item.map_or(-1, i64::from),
                    call.request,
                    call.seq,
                    call.kind.as_str(),
                    call.provider,
                    call.model,
                    reply,
                    i64::try_from(call.usage.input_tokens).unwrap_or(i64::MAX),
                    i64::try_from(call.usage.output_tokens).unwrap_or(i64::MAX),
                    call.cost,
                    call.charge,
                    call.recorded_at_ms,
                    call.requests,
                    call.content,
                    call.reused_from
                ])
                .map_err(db_err)?;
                Ok(())
            })
        })
        .await
    }

    pub(super) async fn journal_calls(
        &self,
        owner: &str,
        id: &str,
    ) -> StoreResult<Vec<CallRecord>> {
        let (owner, id) = (owner.to_string(), id.to_string());
        self.call(move |c| {
            let tx = c.transaction().map_err(db_err)?;
            guard(&tx, &owner, &id, None)?;
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {CALL_COLUMNS} FROM calls WHERE execution_id = ?1 ORDER BY node, item, seq"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map([&id], CallRow::read)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            rows.into_iter().map(CallRow::into_record).collect()
        })
        .await
    }
}

/// The columns of a `calls` row, in [`CallRow::read`]'s order.
pub(super) const CALL_COLUMNS: &str = "node, item, request, seq, kind, provider, model, reply, \
     input_tokens, output_tokens, cost, charge, recorded_at_ms, requests, content_key, reused_from";

/// A `calls` row as read, before its JSON and kind are checked.
pub(super) struct CallRow {
    node: String,
    item: i64,
    request: String,
    seq: u32,
    kind: String,
    provider: String,
    model: String,
    reply: String,
    input: i64,
    output: i64,
    cost: i64,
    charge: Option<String>,
    recorded_at_ms: i64,
    requests: u32,
    content: Option<String>,
    reused_from: Option<String>,
}

impl CallRow {
    /// Read [`CALL_COLUMNS`] starting at column 0.
    pub(super) fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            node: r.get(0)?,
            item: r.get(1)?,
            request: r.get(2)?,
            seq: r.get(3)?,
            kind: r.get(4)?,
            provider: r.get(5)?,
            model: r.get(6)?,
            reply: r.get(7)?,
            input: r.get(8)?,
            output: r.get(9)?,
            cost: r.get(10)?,
            charge: r.get(11)?,
            recorded_at_ms: r.get(12)?,
            requests: r.get(13)?,
            content: r.get(14)?,
            reused_from: r.get(15)?,
        })
    }

    pub(super) fn into_record(self) -> StoreResult<CallRecord> {
        let kind = CallKind::parse(&self.kind).ok_or_else(|| {
            StoreError::backend(format!("unknown call kind `{}` in store", self.kind))
        })?;
        Ok(CallRecord {
            node: self.node,
            item: u32::try_from(self.item).ok(),
            request: self.request,
            seq: self.seq,
            kind,
            provider: self.provider,
            model: self.model,
            reply: serde_json::from_str(&self.reply).map_err(json_err)?,
            usage: Usage {
                input_tokens: u64::try_from(self.input).unwrap_or(0),
                output_tokens: u64::try_from(self.output).unwrap_or(0),
            },
            cost: self.cost,
            charge: self.charge,
            recorded_at_ms: self.recorded_at_ms,
            requests: self.requests,
            content: self.content,
            reused_from: self.reused_from,
        })
    }
}

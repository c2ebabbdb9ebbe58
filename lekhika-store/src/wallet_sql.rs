//! Wallet pieces shared by both SQL backends.

use lekhika_core::store::{StoreError, StoreResult};
use lekhika_core::wallet::LedgerKind;

pub(crate) fn kind_str(kind: LedgerKind) -> &'static str {
    match kind {
        LedgerKind::Grant => "grant",
        LedgerKind::Reserve => "reserve",
        LedgerKind::Settle => "settle",
        LedgerKind::Release => "release",
        LedgerKind::Reuse => "reuse",
    }
}

pub(crate) fn parse_kind(s: &str) -> StoreResult<LedgerKind> {
    Ok(match s {
        "grant" => LedgerKind::Grant,
        "reserve" => LedgerKind::Reserve,
        "settle" => LedgerKind::Settle,
        "release" => LedgerKind::Release,
        "reuse" => LedgerKind::Reuse,
        other => {
            return Err(StoreError::backend(format!(
                "unknown ledger kind `{other}` in store"
            )))
        }
    })
}

/// What an execution holds or spent: each reservation counts its settled
/// charge if settled, nothing if released, its full hold while open
/// (the same sum core's in-memory store computes).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) const EXECUTION_USED_SQLITE: &str = "SELECT COALESCE(SUM(CASE \
     WHEN s.amount IS NOT NULL THEN s.amount \
     WHEN EXISTS (SELECT 1 FROM ledger x WHERE x.user_id = r.user_id AND x.key = r.key AND x.kind = 'release') THEN 0 \
     ELSE r.amount END), 0) \
     FROM ledger r LEFT JOIN ledger s ON s.user_id = r.user_id AND s.key = r.key AND s.kind = 'settle' \
     WHERE r.user_id = ?1 AND r.execution_id = ?2 AND r.kind = 'reserve'";

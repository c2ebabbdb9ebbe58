//! `WalletStore` on SQLite. Every operation is one `BEGIN IMMEDIATE`
//! transaction; idempotency comes from the ledger's unique
//! `(user_id, key, kind)`, and `balance >= 0` is also a table constraint.

use async_trait::async_trait;
use lekhika_core::store::{StoreError, StoreResult};
use lekhika_core::util::now_ms;
use lekhika_core::wallet::{
    LedgerEntry, LedgerKind, ReserveOutcome, ReserveRequest, TierPolicy, Wallet, WalletStore,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::executions::write;
use super::{db_err, json_err, SqliteStore};
use crate::wallet_sql::{kind_str, parse_kind};

const SELECT_WALLET: &str =
    "SELECT user_id, balance, reserved, total_earned, total_spent, level, current_period FROM wallets";
const SELECT_LEDGER: &str =
    "SELECT user_id, key, kind, amount, execution_id, node_id, note, created_at_ms FROM ledger";

fn wallet_row(r: &Row<'_>) -> rusqlite::Result<Wallet> {
    Ok(Wallet {
        user_id: r.get(0)?,
        balance: r.get(1)?,
        reserved: r.get(2)?,
        total_earned: r.get(3)?,
        total_spent: r.get(4)?,
        level: r.get(5)?,
        current_period: r.get(6)?,
    })
}

fn ledger_row(r: &Row<'_>) -> rusqlite::Result<(LedgerEntry, String)> {
    Ok((
        LedgerEntry {
            user_id: r.get(0)?,
            key: r.get(1)?,
            kind: LedgerKind::Grant,
            amount: r.get(3)?,
            execution_id: r.get(4)?,
            node_id: r.get(5)?,
            note: r.get(6)?,
            created_at_ms: r.get(7)?,
        },
        r.get(2)?,
    ))
}

fn finish_ledger(rows: Vec<(LedgerEntry, String)>) -> StoreResult<Vec<LedgerEntry>> {
    rows.into_iter()
        .map(|(mut e, kind)| {
            e.kind = parse_kind(&kind)?;
            Ok(e)
        })
        .collect()
}

fn load_wallet(c: &Connection, user: &str) -> StoreResult<Option<Wallet>> {
    c.prepare_cached(&format!("{SELECT_WALLET} WHERE user_id = ?1"))
        .map_err(db_err)?
        .query_row([user], wallet_row)
        .optional()
        .map_err(db_err)
}

fn entry(
    c: &Connection,
    user: &str,
    key: &str,
    kind: LedgerKind,
) -> StoreResult<Option<LedgerEntry>> {
    let row = c
        .prepare_cached(&format!(
            "{SELECT_LEDGER} WHERE user_id = ?1 AND key = ?2 AND kind = ?3"
        ))
        .map_err(db_err)?
        .query_row([user, key, kind_str(kind)], ledger_row)
        .optional()
        .map_err(db_err)?;
    Ok(finish_ledger(row.into_iter().collect())?.pop())
}

fn closed(c: &Connection, user: &str, key: &str) -> StoreResult<bool> {
    c.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM ledger WHERE user_id = ?1 AND key = ?2 AND kind IN ('settle', 'release'))",
    )
    .map_err(db_err)?
    .query_row([user, key], |r| r.get(0))
    .map_err(db_err)
}

fn push(c: &Connection, e: &LedgerEntry) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO ledger (user_id, key, kind, amount, execution_id, node_id, note, created_at_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .map_err(db_err)?
    .execute(params![
        e.user_id,
        e.key,
        kind_str(e.kind),
        e.amount,
        e.execution_id,
        e.node_id,
        e.note,
        e.created_at_ms
    ])
    .map_err(db_err)?;
    Ok(())
}

fn ensure_wallet(c: &Connection, user: &str) -> StoreResult<()> {
    c.prepare_cached("INSERT INTO wallets (user_id) VALUES (?1) ON CONFLICT(user_id) DO NOTHING")
        .map_err(db_err)?
        .execute([user])
        .map_err(db_err)?;
    Ok(())
}

fn missing_wallet(user: &str) -> StoreError {
    StoreError::not_found(format!("wallet of {user}"))
}

#[async_trait]
impl WalletStore for SqliteStore {
    async fn wallet(&self, user_id: &str) -> StoreResult<Option<Wallet>> {
        let user = user_id.to_string();
        self.call(move |c| load_wallet(c, &user)).await
    }

    async fn set_level(&self, user_id: &str, level: Option<&str>) -> StoreResult<Wallet> {
        let (user, level) = (user_id.to_string(), level.map(str::to_string));
        self.call(move |c| {
            write(c, |tx| {
                ensure_wallet(tx, &user)?;
                tx.prepare_cached("UPDATE wallets SET level = ?1 WHERE user_id = ?2")
                    .map_err(db_err)?
                    .execute(params![level, user])
                    .map_err(db_err)?;
                load_wallet(tx, &user)?.ok_or_else(|| missing_wallet(&user))
            })
        })
        .await
    }

    async fn note_reuse(&self, entry: &LedgerEntry) -> StoreResult<()> {
        let e = LedgerEntry {
            kind: LedgerKind::Reuse,
            amount: 0,
            ..entry.clone()
        };
        self.call(move |c| {
            write(c, |tx| {
                if self::entry(tx, &e.user_id, &e.key, LedgerKind::Reuse)?.is_none() {
                    push(tx, &e)?;
                }
                Ok(())
            })
        })
        .await
    }

    async fn grant(
        &self,
        user_id: &str,
        amount: i64,
        key: &str,
        note: Option<&str>,
    ) -> StoreResult<Wallet> {
        if amount < 0 {
            return Err(StoreError::Forbidden("a grant cannot be negative".into()));
        }
        let (user, key, note) = (
            user_id.to_string(),
            key.to_string(),
            note.map(str::to_string),
        );
        self.call(move |c| {
            write(c, |tx| {
                ensure_wallet(tx, &user)?;
                if entry(tx, &user, &key, LedgerKind::Grant)?.is_none() {
                    // SQLite would turn an overflowing sum into a float.
                    let w = load_wallet(tx, &user)?.ok_or_else(|| missing_wallet(&user))?;
                    if w.balance.checked_add(amount).is_none()
                        || w.total_earned.checked_add(amount).is_none()
                    {
                        return Err(lekhika_core::wallet::grant_overflow(&user));
                    }
                    let period = key.strip_prefix("allocation:");
                    tx.prepare_cached(
                        "UPDATE wallets SET balance = balance + ?1, total_earned = total_earned + ?1, \
                         current_period = COALESCE(?2, current_period) WHERE user_id = ?3",
                    )
                    .map_err(db_err)?
                    .execute(params![amount, period, user])
                    .map_err(db_err)?;
                    push(
                        tx,
                        &LedgerEntry {
                            user_id: user.clone(),
                            key: key.clone(),
                            kind: LedgerKind::Grant,
                            amount,
                            execution_id: None,
                            node_id: None,
                            note: note.clone(),
                            created_at_ms: now_ms(),
                        },
                    )?;
                }
                load_wallet(tx, &user)?.ok_or_else(|| missing_wallet(&user))
            })
        })
        .await
    }

    async fn reserve(&self, req: &ReserveRequest) -> StoreResult<ReserveOutcome> {
        let req = req.clone();
        self.call(move |c| {
            write(c, |tx| {
                if entry(tx, &req.user_id, &req.key, LedgerKind::Reserve)?.is_some() {
                    return Ok(ReserveOutcome::Reserved);
                }
                let Some(wallet) = load_wallet(tx, &req.user_id)? else {
                    return Ok(ReserveOutcome::Unmetered);
                };
                if let Some(limit) = req.execution_limit {
                    let used: i64 = tx
                        .prepare_cached(crate::wallet_sql::EXECUTION_USED_SQLITE)
                        .map_err(db_err)?
                        .query_row([&req.user_id, &req.execution_id], |r| r.get(0))
                        .map_err(db_err)?;
                    if used.saturating_add(req.amount) > limit {
                        return Ok(ReserveOutcome::ExecutionLimitExceeded {
                            needed: req.amount,
                            limit,
                            used,
                        });
                    }
                }
                if wallet.balance < req.amount {
                    return Ok(ReserveOutcome::InsufficientTokens {
                        needed: req.amount,
                        available: wallet.balance,
                    });
                }
                tx.prepare_cached(
                    "UPDATE wallets SET balance = balance - ?1, reserved = reserved + ?1 WHERE user_id = ?2",
                )
                .map_err(db_err)?
                .execute(params![req.amount, req.user_id])
                .map_err(db_err)?;
                push(
                    tx,
                    &LedgerEntry {
                        user_id: req.user_id.clone(),
                        key: req.key.clone(),
                        kind: LedgerKind::Reserve,
                        amount: req.amount,
                        execution_id: Some(req.execution_id.clone()),
                        node_id: Some(req.node_id.clone()),
                        note: None,
                        created_at_ms: now_ms(),
                    },
                )?;
                Ok(ReserveOutcome::Reserved)
            })
        })
        .await
    }

    async fn settle(&self, user_id: &str, key: &str, actual: i64) -> StoreResult<()> {
        let (user, key) = (user_id.to_string(), key.to_string());
        self.call(move |c| {
            write(c, |tx| {
                let Some(res) = entry(tx, &user, &key, LedgerKind::Reserve)? else {
                    return Err(StoreError::not_found(format!("reservation {key}")));
                };
                if closed(tx, &user, &key)? {
                    return Ok(());
                }
                let w = load_wallet(tx, &user)?.ok_or_else(|| missing_wallet(&user))?;
                let extra = (actual.max(0) - res.amount).clamp(0, w.balance);
                let charged = actual.max(0).min(res.amount) + extra;
                tx.prepare_cached(
                    "UPDATE wallets SET reserved = reserved - ?1, balance = balance + ?1 - ?2, \
                     total_spent = total_spent + ?2 WHERE user_id = ?3",
                )
                .map_err(db_err)?
                .execute(params![res.amount, charged, user])
                .map_err(db_err)?;
                push(
                    tx,
                    &LedgerEntry {
                        kind: LedgerKind::Settle,
                        amount: charged,
                        created_at_ms: now_ms(),
                        ..res
                    },
                )
            })
        })
        .await
    }

    async fn release(&self, user_id: &str, key: &str) -> StoreResult<()> {
        let (user, key) = (user_id.to_string(), key.to_string());
        self.call(move |c| {
            write(c, |tx| {
                let Some(res) = entry(tx, &user, &key, LedgerKind::Reserve)? else {
                    return Ok(());
                };
                if closed(tx, &user, &key)? {
                    return Ok(());
                }
                tx.prepare_cached(
                    "UPDATE wallets SET reserved = reserved - ?1, balance = balance + ?1 WHERE user_id = ?2",
                )
                .map_err(db_err)?
                .execute(params![res.amount, user])
                .map_err(db_err)?;
                push(
                    tx,
                    &LedgerEntry {
                        kind: LedgerKind::Release,
                        created_at_ms: now_ms(),
                        ..res
                    },
                )
            })
        })
        .await
    }

    async fn open_reservations(
        &self,
        user_id: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let (user, exec) = (user_id.to_string(), execution_id.to_string());
        self.call(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "{SELECT_LEDGER} l WHERE user_id = ?1 AND execution_id = ?2 AND kind = 'reserve' \
                     AND NOT EXISTS (SELECT 1 FROM ledger x WHERE x.user_id = l.user_id AND x.key = l.key \
                     AND x.kind IN ('settle', 'release')) ORDER BY seq"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map([&user, &exec], ledger_row)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            finish_ledger(rows)
        })
        .await
    }

    async fn ledger(
        &self,
        user_id: &str,
        execution_id: Option<&str>,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let (user, exec) = (user_id.to_string(), execution_id.map(str::to_string));
        self.call(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "{SELECT_LEDGER} WHERE user_id = ?1 AND (?2 IS NULL OR execution_id = ?2) ORDER BY seq"
                ))
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![user, exec], ledger_row)
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            finish_ledger(rows)
        })
        .await
    }

    async fn tier_policy(&self, level: &str) -> StoreResult<Option<TierPolicy>> {
        let level = level.to_string();
        self.call(move |c| {
            let row: Option<(i64, Option<i64>, String)> = c
                .prepare_cached(
                    "SELECT monthly_allocation, per_execution_limit, features FROM tier_policies WHERE level = ?1",
                )
                .map_err(db_err)?
                .query_row([&level], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(db_err)?;
            row.map(|(monthly_allocation, per_execution_limit, features)| {
                Ok(TierPolicy {
                    level: level.clone(),
                    monthly_allocation,
                    per_execution_limit,
                    features: serde_json::from_str(&features).map_err(json_err)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn put_tier_policy(&self, policy: &TierPolicy) -> StoreResult<()> {
        let p = policy.clone();
        let features = serde_json::to_string(&p.features).map_err(json_err)?;
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO tier_policies (level, monthly_allocation, per_execution_limit, features) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT(level) DO UPDATE SET \
                 monthly_allocation = excluded.monthly_allocation, \
                 per_execution_limit = excluded.per_execution_limit, features = excluded.features",
            )
            .map_err(db_err)?
            .execute(params![p.level, p.monthly_allocation, p.per_execution_limit, features])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}

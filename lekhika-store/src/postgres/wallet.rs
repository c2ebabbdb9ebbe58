//! `WalletStore` on PostgreSQL. Each operation is one transaction as the
//! wallet's user that locks the wallet row (`FOR UPDATE`) before reading the
//! ledger, so concurrent calls on one wallet serialize; idempotency comes
//! from the ledger's unique `(user_id, key, kind)`, and `balance >= 0` is
//! also a table constraint.

use async_trait::async_trait;
use lekhika_core::store::{StoreError, StoreResult};
use lekhika_core::util::now_ms;
use lekhika_core::wallet::{
    LedgerEntry, LedgerKind, ReserveOutcome, ReserveRequest, TierPolicy, Wallet, WalletStore,
};
use tokio_postgres::{Row, Transaction};

use super::{begin, json_err, pg_err, PgStore};
use crate::wallet_sql::{kind_str, parse_kind};

const SELECT_WALLET: &str =
    "SELECT user_id, balance, reserved, total_earned, total_spent, level, current_period \
     FROM user_token_wallets WHERE user_id = $1";
const SELECT_LEDGER: &str =
    "SELECT user_id, key, kind, amount, execution_id, node_id, note, created_at_ms FROM ledger_entries";

/// Sum of what an execution holds or spent (see `wallet_sql::EXECUTION_USED_SQLITE`).
const EXECUTION_USED: &str = "SELECT COALESCE(SUM(CASE \
     WHEN s.amount IS NOT NULL THEN s.amount \
     WHEN EXISTS (SELECT 1 FROM ledger_entries x WHERE x.user_id = r.user_id AND x.key = r.key AND x.kind = 'release') \
     THEN 0 ELSE r.amount END), 0)::bigint \
     FROM ledger_entries r LEFT JOIN ledger_entries s ON s.user_id = r.user_id AND s.key = r.key AND s.kind = 'settle' \
     WHERE r.user_id = $1 AND r.execution_id = $2 AND r.kind = 'reserve'";

fn wallet_row(r: &Row) -> Wallet {
    Wallet {
        user_id: r.get(0),
        balance: r.get(1),
        reserved: r.get(2),
        total_earned: r.get(3),
        total_spent: r.get(4),
        level: r.get(5),
        current_period: r.get(6),
    }
}

pub(super) fn ledger_row(r: &Row) -> StoreResult<LedgerEntry> {
    Ok(LedgerEntry {
        user_id: r.get(0),
        key: r.get(1),
        kind: parse_kind(r.get(2))?,
        amount: r.get(3),
        execution_id: r.get(4),
        node_id: r.get(5),
        note: r.get(6),
        created_at_ms: r.get(7),
    })
}

async fn lock_wallet(tx: &Transaction<'_>, user: &str) -> StoreResult<Option<Wallet>> {
    let row = tx
        .query_opt(&format!("{SELECT_WALLET} FOR UPDATE"), &[&user])
        .await
        .map_err(pg_err)?;
    Ok(row.as_ref().map(wallet_row))
}

async fn ensure_wallet(tx: &Transaction<'_>, user: &str) -> StoreResult<Wallet> {
    tx.execute(
        "INSERT INTO user_token_wallets (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING",
        &[&user],
    )
    .await
    .map_err(pg_err)?;
    lock_wallet(tx, user)
        .await?
        .ok_or_else(|| missing_wallet(user))
}

async fn entry(
    tx: &Transaction<'_>,
    user: &str,
    key: &str,
    kind: LedgerKind,
) -> StoreResult<Option<LedgerEntry>> {
    let row = tx
        .query_opt(
            &format!("{SELECT_LEDGER} WHERE user_id = $1 AND key = $2 AND kind = $3"),
            &[&user, &key, &kind_str(kind)],
        )
        .await
        .map_err(pg_err)?;
    row.as_ref().map(ledger_row).transpose()
}

async fn closed(tx: &Transaction<'_>, user: &str, key: &str) -> StoreResult<bool> {
    let row = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM ledger_entries WHERE user_id = $1 AND key = $2 \
             AND kind IN ('settle', 'release'))",
            &[&user, &key],
        )
        .await
        .map_err(pg_err)?;
    Ok(row.get(0))
}

async fn push(tx: &Transaction<'_>, e: &LedgerEntry) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO ledger_entries (user_id, key, kind, amount, execution_id, node_id, note, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &e.user_id,
            &e.key,
            &kind_str(e.kind),
            &e.amount,
            &e.execution_id,
            &e.node_id,
            &e.note,
            &e.created_at_ms,
        ],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

async fn update_wallet(tx: &Transaction<'_>, w: &Wallet) -> StoreResult<()> {
    tx.execute(
        "UPDATE user_token_wallets SET balance = $2, reserved = $3, total_earned = $4, total_spent = $5, \
         level = $6, current_period = $7, updated_at = now() WHERE user_id = $1",
        &[&w.user_id, &w.balance, &w.reserved, &w.total_earned, &w.total_spent, &w.level, &w.current_period],
    )
    .await
    .map_err(pg_err)?;
    Ok(())
}

fn missing_wallet(user: &str) -> StoreError {
    StoreError::not_found(format!("wallet of {user}"))
}

#[async_trait]
impl WalletStore for PgStore {
    async fn wallet(&self, user_id: &str) -> StoreResult<Option<Wallet>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, user_id).await?;
        let row = tx
            .query_opt(SELECT_WALLET, &[&user_id])
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(row.as_ref().map(wallet_row))
    }

    async fn set_level(&self, user_id: &str, level: Option<&str>) -> StoreResult<Wallet> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, user_id).await?;
        let mut w = ensure_wallet(&tx, user_id).await?;
        w.level = level.map(str::to_string);
        update_wallet(&tx, &w).await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(w)
    }

    async fn note_reuse(&self, e: &LedgerEntry) -> StoreResult<()> {
        let e = LedgerEntry {
            kind: LedgerKind::Reuse,
            amount: 0,
            ..e.clone()
        };
        let mut c = self.client().await?;
        let tx = begin(&mut c, &e.user_id).await?;
        if entry(&tx, &e.user_id, &e.key, LedgerKind::Reuse)
            .await?
            .is_none()
        {
            push(&tx, &e).await?;
        }
        tx.commit().await.map_err(pg_err)
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
        let mut c = self.client().await?;
        let tx = begin(&mut c, user_id).await?;
        let mut w = ensure_wallet(&tx, user_id).await?;
        if entry(&tx, user_id, key, LedgerKind::Grant).await?.is_none() {
            let (Some(balance), Some(earned)) = (
                w.balance.checked_add(amount),
                w.total_earned.checked_add(amount),
            ) else {
                return Err(lekhika_core::wallet::grant_overflow(user_id));
            };
            w.balance = balance;
            w.total_earned = earned;
            if let Some(period) = key.strip_prefix("allocation:") {
                w.current_period = Some(period.to_string());
            }
            update_wallet(&tx, &w).await?;
            push(
                &tx,
                &LedgerEntry {
                    user_id: user_id.into(),
                    key: key.into(),
                    kind: LedgerKind::Grant,
                    amount,
                    execution_id: None,
                    node_id: None,
                    note: note.map(str::to_string),
                    created_at_ms: now_ms(),
                },
            )
            .await?;
        }
        tx.commit().await.map_err(pg_err)?;
        Ok(w)
    }

    async fn reserve(&self, req: &ReserveRequest) -> StoreResult<ReserveOutcome> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, &req.user_id).await?;
        let wallet = lock_wallet(&tx, &req.user_id).await?;
        if entry(&tx, &req.user_id, &req.key, LedgerKind::Reserve)
            .await?
            .is_some()
        {
            return Ok(ReserveOutcome::Reserved);
        }
        let Some(mut w) = wallet else {
            return Ok(ReserveOutcome::Unmetered);
        };
        if let Some(limit) = req.execution_limit {
            let used: i64 = tx
                .query_one(EXECUTION_USED, &[&req.user_id, &req.execution_id])
                .await
                .map_err(pg_err)?
                .get(0);
            if used.saturating_add(req.amount) > limit {
                return Ok(ReserveOutcome::ExecutionLimitExceeded {
                    needed: req.amount,
                    limit,
                    used,
                });
            }
        }
        if w.balance < req.amount {
            return Ok(ReserveOutcome::InsufficientTokens {
                needed: req.amount,
                available: w.balance,
            });
        }
        w.balance -= req.amount;
        w.reserved += req.amount;
        update_wallet(&tx, &w).await?;
        push(
            &tx,
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
        )
        .await?;
        tx.commit().await.map_err(pg_err)?;
        Ok(ReserveOutcome::Reserved)
    }

    async fn settle(&self, user_id: &str, key: &str, actual: i64) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, user_id).await?;
        let wallet = lock_wallet(&tx, user_id).await?;
        let Some(res) = entry(&tx, user_id, key, LedgerKind::Reserve).await? else {
            return Err(StoreError::not_found(format!("reservation {key}")));
        };
        if closed(&tx, user_id, key).await? {
            return Ok(());
        }
        let mut w = wallet.ok_or_else(|| missing_wallet(user_id))?;
        let extra = (actual.max(0) - res.amount).clamp(0, w.balance);
        let charged = actual.max(0).min(res.amount) + extra;
        w.reserved -= res.amount;
        w.balance += res.amount - charged;
        w.total_spent += charged;
        update_wallet(&tx, &w).await?;
        push(
            &tx,
            &LedgerEntry {
                kind: LedgerKind::Settle,
                amount: charged,
                created_at_ms: now_ms(),
                ..res
            },
        )
        .await?;
        tx.commit().await.map_err(pg_err)
    }

    async fn release(&self, user_id: &str, key: &str) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, user_id).await?;
        let wallet = lock_wallet(&tx, user_id).await?;
        let Some(res) = entry(&tx, user_id, key, LedgerKind::Reserve).await? else {
            return Ok(());
        };
        if closed(&tx, user_id, key).await? {
            return Ok(());
        }
        if let Some(mut w) = wallet {
            w.reserved -= res.amount;
            w.balance += res.amount;
            update_wallet(&tx, &w).await?;
        }
        push(
            &tx,
            &LedgerEntry {
                kind: LedgerKind::Release,
                created_at_ms: now_ms(),
                ..res
            },
        )
        .await?;
        tx.commit().await.map_err(pg_err)
    }

    async fn open_reservations(
        &self,
        user_id: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, user_id).await?;
        let rows = tx
            .query(
                &format!(
                    "{SELECT_LEDGER} l WHERE user_id = $1 AND execution_id = $2 AND kind = 'reserve' \
                     AND NOT EXISTS (SELECT 1 FROM ledger_entries x WHERE x.user_id = l.user_id AND x.key = l.key \
                     AND x.kind IN ('settle', 'release')) ORDER BY seq"
                ),
                &[&user_id, &execution_id],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        rows.iter().map(ledger_row).collect()
    }

    async fn ledger(
        &self,
        user_id: &str,
        execution_id: Option<&str>,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let mut c = self.client().await?;
        let tx = begin(&mut c, user_id).await?;
        let rows = tx
            .query(
                &format!(
                    "{SELECT_LEDGER} WHERE user_id = $1 AND ($2::text IS NULL OR execution_id = $2) ORDER BY seq"
                ),
                &[&user_id, &execution_id],
            )
            .await
            .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        rows.iter().map(ledger_row).collect()
    }

    async fn tier_policy(&self, level: &str) -> StoreResult<Option<TierPolicy>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT monthly_allocation, per_execution_limit, features FROM level_token_policies WHERE level = $1",
                &[&level],
            )
            .await
            .map_err(pg_err)?;
        row.map(|r| {
            Ok(TierPolicy {
                level: level.to_string(),
                monthly_allocation: r.get(0),
                per_execution_limit: r.get(1),
                features: serde_json::from_value(r.get(2)).map_err(json_err)?,
            })
        })
        .transpose()
    }

    async fn put_tier_policy(&self, policy: &TierPolicy) -> StoreResult<()> {
        let features = serde_json::to_value(&policy.features).map_err(json_err)?;
        let c = self.client().await?;
        c.execute(
            "INSERT INTO level_token_policies (level, monthly_allocation, per_execution_limit, features) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (level) DO UPDATE SET \
             monthly_allocation = excluded.monthly_allocation, per_execution_limit = excluded.per_execution_limit, \
             features = excluded.features",
            &[&policy.level, &policy.monthly_allocation, &policy.per_execution_limit, &features],
        )
        .await
        .map_err(pg_err)?;
        Ok(())
    }
}

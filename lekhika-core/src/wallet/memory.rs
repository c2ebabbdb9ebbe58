use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::store::{ReserveOutcome, ReserveRequest, WalletStore};
use super::types::{LedgerEntry, LedgerKind, TierPolicy, Wallet};
use crate::store::{StoreError, StoreResult};
use crate::util::now_ms;

/// In-memory wallet store: one mutex makes every operation atomic.
#[derive(Default)]
pub struct MemoryWalletStore {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    wallets: HashMap<String, Wallet>,
    ledger: Vec<LedgerEntry>,
    /// (user, key, kind) -> index in `ledger`
    keys: HashMap<(String, String, LedgerKindKey), usize>,
    policies: HashMap<String, TierPolicy>,
}

type LedgerKindKey = u8;

fn kk(kind: LedgerKind) -> LedgerKindKey {
    kind as u8
}

impl MemoryWalletStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| StoreError::backend("wallet store lock poisoned"))
    }
}

impl Inner {
    fn has(&self, user: &str, key: &str, kind: LedgerKind) -> Option<&LedgerEntry> {
        self.keys
            .get(&(user.to_string(), key.to_string(), kk(kind)))
            .and_then(|&i| self.ledger.get(i))
    }

    fn push(&mut self, e: LedgerEntry) {
        self.keys.insert(
            (e.user_id.clone(), e.key.clone(), kk(e.kind)),
            self.ledger.len(),
        );
        self.ledger.push(e);
    }

    fn execution_used(&self, user: &str, execution: &str) -> i64 {
        let mut used = 0;
        for e in self
            .ledger
            .iter()
            .filter(|e| e.user_id == user && e.execution_id.as_deref() == Some(execution))
        {
            match e.kind {
                LedgerKind::Reserve => used += e.amount,
                LedgerKind::Release => used -= self.reserved_amount(user, &e.key),
                LedgerKind::Settle => used += e.amount - self.reserved_amount(user, &e.key),
                LedgerKind::Grant | LedgerKind::Reuse => {}
            }
        }
        used
    }

    fn reserved_amount(&self, user: &str, key: &str) -> i64 {
        self.has(user, key, LedgerKind::Reserve)
            .map_or(0, |e| e.amount)
    }
}

#[async_trait]
impl WalletStore for MemoryWalletStore {
    async fn wallet(&self, user_id: &str) -> StoreResult<Option<Wallet>> {
        Ok(self.lock()?.wallets.get(user_id).cloned())
    }

    async fn set_level(&self, user_id: &str, level: Option<&str>) -> StoreResult<Wallet> {
        let mut g = self.lock()?;
        let w = g
            .wallets
            .entry(user_id.to_string())
            .or_insert_with(|| Wallet {
                user_id: user_id.to_string(),
                ..Wallet::default()
            });
        w.level = level.map(str::to_string);
        Ok(w.clone())
    }

    async fn note_reuse(&self, entry: &LedgerEntry) -> StoreResult<()> {
        let mut g = self.lock()?;
        if g.has(&entry.user_id, &entry.key, LedgerKind::Reuse)
            .is_none()
        {
            g.push(LedgerEntry {
                kind: LedgerKind::Reuse,
                amount: 0,
                ..entry.clone()
            });
        }
        Ok(())
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
        let mut g = self.lock()?;
        let fresh = g.has(user_id, key, LedgerKind::Grant).is_none();
        let w = g
            .wallets
            .entry(user_id.to_string())
            .or_insert_with(|| Wallet {
                user_id: user_id.to_string(),
                ..Wallet::default()
            });
        if fresh {
            let (Some(balance), Some(earned)) = (
                w.balance.checked_add(amount),
                w.total_earned.checked_add(amount),
            ) else {
                return Err(overflow(user_id));
            };
            w.balance = balance;
            w.total_earned = earned;
            if let Some(period) = key.strip_prefix("allocation:") {
                w.current_period = Some(period.to_string());
            }
        }
        let out = w.clone();
        if fresh {
            g.push(LedgerEntry {
                user_id: user_id.into(),
                key: key.into(),
                kind: LedgerKind::Grant,
                amount,
                execution_id: None,
                node_id: None,
                note: note.map(str::to_string),
                created_at_ms: now_ms(),
            });
        }
        Ok(out)
    }

    async fn reserve(&self, req: &ReserveRequest) -> StoreResult<ReserveOutcome> {
        let mut g = self.lock()?;
        if g.has(&req.user_id, &req.key, LedgerKind::Reserve).is_some() {
            return Ok(ReserveOutcome::Reserved);
        }
        let Some(balance) = g.wallets.get(&req.user_id).map(|w| w.balance) else {
            return Ok(ReserveOutcome::Unmetered);
        };
        if let Some(limit) = req.execution_limit {
            let used = g.execution_used(&req.user_id, &req.execution_id);
            if used.saturating_add(req.amount) > limit {
                return Ok(ReserveOutcome::ExecutionLimitExceeded {
                    needed: req.amount,
                    limit,
                    used,
                });
            }
        }
        if balance < req.amount {
            return Ok(ReserveOutcome::InsufficientTokens {
                needed: req.amount,
                available: balance,
            });
        }
        if let Some(w) = g.wallets.get_mut(&req.user_id) {
            w.balance -= req.amount;
            w.reserved += req.amount;
        }
        g.push(LedgerEntry {
            user_id: req.user_id.clone(),
            key: req.key.clone(),
            kind: LedgerKind::Reserve,
            amount: req.amount,
            execution_id: Some(req.execution_id.clone()),
            node_id: Some(req.node_id.clone()),
            note: None,
            created_at_ms: now_ms(),
        });
        Ok(ReserveOutcome::Reserved)
    }

    async fn settle(&self, user_id: &str, key: &str, actual: i64) -> StoreResult<()> {
        let mut g = self.lock()?;
        let Some(res) = g.has(user_id, key, LedgerKind::Reserve).cloned() else {
            return Err(StoreError::not_found(format!("reservation {key}")));
        };
        if g.has(user_id, key, LedgerKind::Settle).is_some()
            || g.has(user_id, key, LedgerKind::Release).is_some()
        {
            return Ok(());
        }
        let w = g
            .wallets
            .get_mut(user_id)
            .ok_or_else(|| StoreError::not_found(format!("wallet of {user_id}")))?;
        let extra = (actual.max(0) - res.amount).clamp(0, w.balance);
        let charged = actual.max(0).min(res.amount) + extra;
        w.reserved -= res.amount;
        w.balance += res.amount - charged;
        w.total_spent += charged;
        g.push(LedgerEntry {
            kind: LedgerKind::Settle,
            amount: charged,
            created_at_ms: now_ms(),
            ..res
        });
        Ok(())
    }

    async fn release(&self, user_id: &str, key: &str) -> StoreResult<()> {
        let mut g = self.lock()?;
        let Some(res) = g.has(user_id, key, LedgerKind::Reserve).cloned() else {
            return Ok(());
        };
        if g.has(user_id, key, LedgerKind::Settle).is_some()
            || g.has(user_id, key, LedgerKind::Release).is_some()
        {
            return Ok(());
        }
        if let Some(w) = g.wallets.get_mut(user_id) {
            w.reserved -= res.amount;
            w.balance += res.amount;
        }
        g.push(LedgerEntry {
            kind: LedgerKind::Release,
            created_at_ms: now_ms(),
            ..res
        });
        Ok(())
    }

    async fn open_reservations(
        &self,
        user_id: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let g = self.lock()?;
        Ok(g.ledger
            .iter()
            .filter(|e| {
                e.user_id == user_id
                    && e.kind == LedgerKind::Reserve
                    && e.execution_id.as_deref() == Some(execution_id)
                    && g.has(user_id, &e.key, LedgerKind::Settle).is_none()
                    && g.has(user_id, &e.key, LedgerKind::Release).is_none()
            })
            .cloned()
            .collect())
    }

    async fn ledger(
        &self,
        user_id: &str,
        execution_id: Option<&str>,
    ) -> StoreResult<Vec<LedgerEntry>> {
        let g = self.lock()?;
        Ok(g.ledger
            .iter()
            .filter(|e| {
                e.user_id == user_id
                    && execution_id.is_none_or(|x| e.execution_id.as_deref() == Some(x))
            })
            .cloned()
            .collect())
    }

    async fn tier_policy(&self, level: &str) -> StoreResult<Option<TierPolicy>> {
        Ok(self.lock()?.policies.get(level).cloned())
    }

    async fn put_tier_policy(&self, policy: &TierPolicy) -> StoreResult<()> {
        self.lock()?
            .policies
            .insert(policy.level.clone(), policy.clone());
        Ok(())
    }
}

/// A grant that would take a wallet past the largest amount it can hold
/// (refused, never wrapped; for every [`WalletStore`]).
pub fn overflow(user_id: &str) -> StoreError {
    StoreError::Forbidden(format!(
        "the grant would take the wallet of {user_id} past {} tokens",
        i64::MAX
    ))
}

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::types::{LedgerEntry, TierPolicy, Wallet};
use crate::store::StoreResult;

/// A reservation request: hold `amount` tokens under `key` before a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReserveRequest {
    pub user_id: String,
    pub key: String,
    pub execution_id: String,
    pub node_id: String,
    pub amount: i64,
    /// The execution may not hold + spend more than this in total.
    pub execution_limit: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReserveOutcome {
    /// Held (or already held under this key).
    Reserved,
    /// The wallet cannot cover it; nothing was held.
    InsufficientTokens { needed: i64, available: i64 },
    /// The execution's limit cannot cover it; nothing was held.
    ExecutionLimitExceeded { needed: i64, limit: i64, used: i64 },
    /// This user has no wallet: the call runs unmetered.
    Unmetered,
}

/// Atomic wallet operations. Each is idempotent by key: calling it again
/// with the same key changes nothing and returns the same outcome.
#[async_trait]
pub trait WalletStore: Send + Sync {
    async fn wallet(&self, user_id: &str) -> StoreResult<Option<Wallet>>;
    /// Create the wallet if missing (balance 0) and set its tier level.
    async fn set_level(&self, user_id: &str, level: Option<&str>) -> StoreResult<Wallet>;
    /// Add tokens; creates the wallet if missing. Idempotent by `key`.
    async fn grant(
        &self,
        user_id: &str,
        amount: i64,
        key: &str,
        note: Option<&str>,
    ) -> StoreResult<Wallet>;
    /// Hold tokens before a call. Never lets the balance go below zero.
    async fn reserve(&self, req: &ReserveRequest) -> StoreResult<ReserveOutcome>;
    /// Charge `actual` against the reservation `key` and refund the rest.
    /// If `actual` exceeds the hold, the extra comes from the balance, down to zero at most.
    async fn settle(&self, user_id: &str, key: &str, actual: i64) -> StoreResult<()>;
    /// Return a reservation in full.
    async fn release(&self, user_id: &str, key: &str) -> StoreResult<()>;
    /// Record that a call was served from an earlier run at no charge: a
    /// `Reuse` entry of amount 0 (its note names the execution that paid).
    /// Idempotent by the entry's key.
    async fn note_reuse(&self, entry: &LedgerEntry) -> StoreResult<()>;
    /// Reservations of an execution that were neither settled nor released.
    async fn open_reservations(
        &self,
        user_id: &str,
        execution_id: &str,
    ) -> StoreResult<Vec<LedgerEntry>>;
    /// Ledger entries, oldest first; optionally of one execution only.
    async fn ledger(
        &self,
        user_id: &str,
        execution_id: Option<&str>,
    ) -> StoreResult<Vec<LedgerEntry>>;
    async fn tier_policy(&self, level: &str) -> StoreResult<Option<TierPolicy>>;
    async fn put_tier_policy(&self, policy: &TierPolicy) -> StoreResult<()>;
    /// Grant the tier's monthly allocation for `period` (e.g. `2026-11`) once.
    async fn ensure_period(&self, user_id: &str, period: &str) -> StoreResult<Wallet> {
        let wallet = self
            .wallet(user_id)
            .await?
            .ok_or_else(|| crate::store::StoreError::not_found(format!("wallet of {user_id}")))?;
        let Some(level) = wallet.level.clone() else {
            return Ok(wallet);
        };
        let Some(policy) = self.tier_policy(&level).await? else {
            return Ok(wallet);
        };
        self.grant(
            user_id,
            policy.monthly_allocation,
            &format!("allocation:{period}"),
            Some(&format!("monthly allocation {period} ({level})")),
        )
        .await
    }
}

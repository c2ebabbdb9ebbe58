//! Wallets: balances, grants, the ledger and tier policies.

use lekhika::core::wallet::TierPolicy as CoreTierPolicy;
use napi_derive::napi;

use crate::engine::Lekhika;
use crate::error::{js, BindError};
use crate::types::{LedgerEntry, TierPolicy, Wallet};

#[napi]
impl Lekhika {
    /// The user's wallet, or `null` (the user runs unmetered).
    #[napi]
    pub async fn wallet(&self, user: String) -> napi::Result<Option<Wallet>> {
        Ok(self
            .inner
            .stores
            .wallet
            .wallet(&user)
            .await
            .map_err(js)?
            .map(Into::into))
    }

    /// Add tokens (creates the wallet). Idempotent by `key`: the same key twice grants once.
    #[napi]
    pub async fn grant(
        &self,
        user: String,
        amount: i64,
        key: String,
        note: Option<String>,
    ) -> napi::Result<Wallet> {
        if amount <= 0 {
            return Err(js(BindError::invalid_argument(
                "a grant must be a positive number of tokens",
            )));
        }
        let w = self
            .inner
            .stores
            .wallet
            .grant(&user, amount, &key, note.as_deref())
            .await
            .map_err(js)?;
        Ok(w.into())
    }

    /// Set the user's tier level (creates the wallet with balance 0 if missing).
    #[napi]
    pub async fn set_level(&self, user: String, level: Option<String>) -> napi::Result<Wallet> {
        Ok(self
            .inner
            .stores
            .wallet
            .set_level(&user, level.as_deref())
            .await
            .map_err(js)?
            .into())
    }

    /// Ledger entries, oldest first; optionally of one execution only.
    #[napi]
    pub async fn ledger(
        &self,
        user: String,
        execution_id: Option<String>,
    ) -> napi::Result<Vec<LedgerEntry>> {
        let entries = self
            .inner
            .stores
            .wallet
            .ledger(&user, execution_id.as_deref())
            .await
            .map_err(js)?;
        Ok(entries.into_iter().map(Into::into).collect())
    }

    #[napi]
    pub async fn tier_policy(&self, level: String) -> napi::Result<Option<TierPolicy>> {
        Ok(self
            .inner
            .stores
            .wallet
            .tier_policy(&level)
            .await
            .map_err(js)?
            .map(Into::into))
    }

    #[napi]
    pub async fn put_tier_policy(&self, policy: TierPolicy) -> napi::Result<()> {
        let p = CoreTierPolicy::try_from(policy).map_err(js)?;
        self.inner
            .stores
            .wallet
            .put_tier_policy(&p)
            .await
            .map_err(js)
    }

    /// Grant the tier's monthly allocation for `period` (e.g. `2026-11`) once.
    #[napi]
    pub async fn ensure_period(&self, user: String, period: String) -> napi::Result<Wallet> {
        Ok(self
            .inner
            .stores
            .wallet
            .ensure_period(&user, &period)
            .await
            .map_err(js)?
            .into())
    }
}

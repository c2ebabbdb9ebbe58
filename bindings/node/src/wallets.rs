//! Wallets and tier policies.

use napi_derive::napi;
use serde_json::Value;

use crate::engine::Lekhika;
use crate::error::{invalid_argument, js};
use crate::json::to_json;

#[napi]
impl Lekhika {
    /// The user's wallet, or `null` (unmetered).
    #[napi]
    pub async fn wallet(&self, user: String) -> napi::Result<Value> {
        let w = self.inner.wallet(&user).await.map_err(js)?;
        Ok(to_json(&w))
    }

    /// Add tokens; idempotent by `key` (without one, every call is a new grant).
    #[napi]
    pub async fn grant(
        &self,
        user: String,
        amount: i64,
        key: Option<String>,
        note: Option<String>,
    ) -> napi::Result<Value> {
        let w = self
            .inner
            .grant(&user, amount, key.as_deref(), note.as_deref())
            .await
            .map_err(js)?;
        Ok(to_json(&w))
    }

    /// Set (or clear, with `null`) the user's tier level.
    #[napi]
    pub async fn set_tier(&self, user: String, level: Option<String>) -> napi::Result<Value> {
        let w = self
            .inner
            .set_tier(&user, level.as_deref())
            .await
            .map_err(js)?;
        Ok(to_json(&w))
    }

    /// Ledger entries, oldest first; optionally of one execution.
    #[napi]
    pub async fn ledger(&self, user: String, execution_id: Option<String>) -> napi::Result<Value> {
        let l = self
            .inner
            .ledger(&user, execution_id.as_deref())
            .await
            .map_err(js)?;
        Ok(to_json(&l))
    }

    /// A tier's policy, or `null`.
    #[napi]
    pub async fn tier_policy(&self, level: String) -> napi::Result<Value> {
        let p = self.inner.tier_policy(&level).await.map_err(js)?;
        Ok(to_json(&p))
    }

    /// Create or replace a tier policy.
    #[napi]
    pub async fn put_tier_policy(&self, policy: Value) -> napi::Result<()> {
        let policy = serde_json::from_value(policy)
            .map_err(|e| invalid_argument(format!("tier policy: {e}")))?;
        self.inner.put_tier_policy(&policy).await.map_err(js)
    }
}

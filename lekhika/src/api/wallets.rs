//! Wallets and tier policies: show, grant, set a user's tier, the ledger.

use lekhika_core::util::new_id;
use lekhika_core::wallet::{LedgerEntry, TierPolicy, Wallet};

use crate::error::{LekhikaError, Result};
use crate::runtime::Lekhika;

impl Lekhika {
    /// A user's wallet; `None` means their runs are unmetered.
    pub async fn wallet(&self, user: &str) -> Result<Option<Wallet>> {
        Ok(self.stores.wallet.wallet(user).await?)
    }

    /// Add tokens (and turn metering on for the user). Granting twice with
    /// one `key` adds once; without a key, every call is a new grant.
    pub async fn grant(
        &self,
        user: &str,
        amount: i64,
        key: Option<&str>,
        note: Option<&str>,
    ) -> Result<Wallet> {
        if amount <= 0 {
            return Err(LekhikaError::InvalidArgument(
                "a grant must be a positive number of tokens".into(),
            ));
        }
        let key = key
            .map(str::to_string)
            .unwrap_or_else(|| format!("grant:{}", new_id()));
        Ok(self.stores.wallet.grant(user, amount, &key, note).await?)
    }

    /// Set (or clear) a user's tier level; creates the wallet if missing.
    pub async fn set_tier(&self, user: &str, level: Option<&str>) -> Result<Wallet> {
        Ok(self.stores.wallet.set_level(user, level).await?)
    }

    /// A user's ledger, oldest first; optionally one execution's only.
    pub async fn ledger(&self, user: &str, execution_id: Option<&str>) -> Result<Vec<LedgerEntry>> {
        Ok(self.stores.wallet.ledger(user, execution_id).await?)
    }

    /// The policy of a tier level.
    pub async fn tier_policy(&self, level: &str) -> Result<Option<TierPolicy>> {
        Ok(self.stores.wallet.tier_policy(level).await?)
    }

    /// Create or replace a tier policy.
    pub async fn put_tier_policy(&self, policy: &TierPolicy) -> Result<()> {
        Ok(self.stores.wallet.put_tier_policy(policy).await?)
    }
}

//! Wallet accounting around each AI call: reserve the worst case before
//! the call, then settle at the reported usage once the reply is recorded
//! in the call journal, or release if no reply was kept. Keys make every
//! step idempotent.

use std::sync::Arc;

use crate::node::NodeError;
use crate::provider::TextRequest;
use crate::wallet::{
    prompt_tokens_for_bytes, Consumption, PriceBook, ReserveOutcome, ReserveRequest, WalletStore,
};

pub(crate) struct Meter {
    /// `Some` when this user's runs are metered (they have a wallet).
    pub wallet: Option<Arc<dyn WalletStore>>,
    pub prices: Arc<PriceBook>,
    pub owner: String,
    pub execution_id: String,
    pub limit: Option<i64>,
}

/// Upper bound of a request's prompt tokens.
pub(crate) fn prompt_tokens(req: &TextRequest) -> u64 {
    let mut bytes = req.system.as_ref().map_or(0, String::len);
    for m in &req.messages {
        bytes += m.content.len();
    }
    prompt_tokens_for_bytes(bytes as u64).saturating_add(8 * req.messages.len() as u64)
}

impl Meter {
    /// Whether calls of this run are charged to a wallet.
    pub fn metered(&self) -> bool {
        self.wallet.is_some()
    }

    /// The worst case of a text request: its prompt bound and max output.
    pub fn worst_text(req: &TextRequest) -> Consumption {
        Consumption::Tokens {
            input: prompt_tokens(req),
            output: u64::from(req.max_tokens),
        }
    }

    /// Hold the worst case of a call (`worst`, in the unit the model is
    /// priced in) before asking. A metered run needs a price in that unit.
    pub async fn reserve(
        &self,
        key: &str,
        node: &str,
        provider: &str,
        model: &str,
        worst: Consumption,
    ) -> Result<(), NodeError> {
        let Some(wallet) = &self.wallet else {
            return Ok(());
        };
        let amount = self
            .prices
            .get(provider, model)
            .and_then(|p| p.charge(worst))
            .ok_or_else(|| {
                NodeError::failed(format!(
                    "no {} price for model `{model}` of provider `{provider}` in the model catalog; metered runs need one",
                    worst.unit()
                ))
            })?;
        let outcome = wallet
            .reserve(&ReserveRequest {
                user_id: self.owner.clone(),
                key: key.to_string(),
                execution_id: self.execution_id.clone(),
                node_id: node.to_string(),
                amount,
                execution_limit: self.limit,
            })
            .await?;
        match outcome {
            ReserveOutcome::Reserved | ReserveOutcome::Unmetered => Ok(()),
            ReserveOutcome::InsufficientTokens { needed, available } => {
                Err(NodeError::InsufficientTokens { needed, available })
            }
            ReserveOutcome::ExecutionLimitExceeded {
                needed,
                limit,
                used,
            } => Err(NodeError::ExecutionLimitExceeded {
                needed,
                limit,
                used,
            }),
        }
    }

    /// The wallet cost of a call at its reported usage (also for unmetered
    /// runs when the model has a price, for reports).
    pub fn price(&self, provider: &str, model: &str, used: Consumption) -> i64 {
        self.prices
            .get(provider, model)
            .and_then(|p| p.charge(used))
            .unwrap_or(0)
    }

    /// Charge a recorded call: the reservation under `key` becomes `amount`.
    pub async fn settle(&self, key: &str, amount: i64) -> Result<(), NodeError> {
        if let Some(wallet) = &self.wallet {
            wallet.settle(&self.owner, key, amount).await?;
        }
        Ok(())
    }

    /// Return the reservation of a call whose reply was not kept.
    pub async fn release(&self, key: &str) -> Result<(), NodeError> {
        if let Some(wallet) = &self.wallet {
            wallet.release(&self.owner, key).await?;
        }
        Ok(())
    }
}

//! Wallet accounting around each AI call: reserve the worst case, settle at
//! reported usage, release on failure. Keys make every step idempotent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::node::NodeError;
use crate::provider::{TextRequest, Usage};
use crate::store::Charge;
use crate::wallet::{
    prompt_tokens_for_bytes, PriceBook, ReserveOutcome, ReserveRequest, WalletStore,
};

/// Charges per (node, item) awaiting their checkpoint.
pub(crate) type PendingCharges = HashMap<(String, Option<u32>), Vec<Charge>>;

pub(crate) struct Meter {
    /// `Some` when this user's runs are metered (they have a wallet).
    pub wallet: Option<Arc<dyn WalletStore>>,
    pub prices: Arc<PriceBook>,
    pub owner: String,
    pub execution_id: String,
    pub limit: Option<i64>,
    /// Charges of finished calls per (node, item), settled once the result
    /// is checkpointed ([`Meter::commit`]) or released when the node is
    /// stopped or paused ([`Meter::release_all`]).
    pub pending: Mutex<PendingCharges>,
}

/// Upper bound of a request's prompt tokens.
pub(crate) fn prompt_tokens(req: &TextRequest) -> u64 {
    let mut bytes = req.system.as_ref().map_or(0, String::len);
    for m in &req.messages {
        bytes += m.content.len();
    }
    prompt_tokens_for_bytes(bytes as u64) + 8 * req.messages.len() as u64
}

impl Meter {
    pub async fn reserve(&self, key: &str, node: &str, req: &TextRequest) -> Result<(), NodeError> {
        let Some(wallet) = &self.wallet else {
            return Ok(());
        };
        let price = self.prices.get(&req.provider, &req.model).ok_or_else(|| {
            NodeError::failed(format!(
                "no price for model `{}` of provider `{}` in the model catalog; metered runs need one",
                req.model, req.provider
            ))
        })?;
        let amount = price.cost(prompt_tokens(req), req.max_tokens as u64);
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

    /// Price a finished call at its reported usage and hold the charge
    /// until the node's result is checkpointed; returns the wallet cost (also
    /// computed for unmetered runs when the model has a price, for reports).
    pub fn settle_later(
        &self,
        key: &str,
        node: &str,
        item: Option<u32>,
        provider: &str,
        model: &str,
        usage: Usage,
    ) -> i64 {
        let cost = self
            .prices
            .get(provider, model)
            .map_or(0, |p| p.cost(usage.input_tokens, usage.output_tokens));
        if self.wallet.is_some() {
            if let Ok(mut p) = self.pending.lock() {
                p.entry((node.to_string(), item)).or_default().push(Charge {
                    key: key.to_string(),
                    amount: cost,
                });
            }
        }
        cost
    }

    /// The charges waiting for a node's (or item's) checkpoint.
    pub fn take_pending(&self, node: &str, item: Option<u32>) -> Vec<Charge> {
        self.pending
            .lock()
            .ok()
            .filter(|p| !p.is_empty())
            .and_then(|mut p| p.remove(&(node.to_string(), item)))
            .unwrap_or_default()
    }

    /// Settle charges: after their result was checkpointed, or when the node failed for good.
    pub async fn commit(&self, charges: &[Charge]) -> Result<(), NodeError> {
        if let Some(wallet) = &self.wallet {
            for c in charges {
                wallet.settle(&self.owner, &c.key, c.amount).await?;
            }
        }
        Ok(())
    }

    /// Return the reservations of calls whose work is not kept (stop, pause).
    pub async fn release_all(&self, charges: &[Charge]) -> Result<(), NodeError> {
        for c in charges {
            self.release(&c.key).await?;
        }
        Ok(())
    }

    pub async fn release(&self, key: &str) -> Result<(), NodeError> {
        if let Some(wallet) = &self.wallet {
            wallet.release(&self.owner, key).await?;
        }
        Ok(())
    }
}

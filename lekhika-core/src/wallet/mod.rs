//! Token wallets, tier policies and model prices.
//!
//! All numbers come from the host: [`TierPolicy`] rows (the seed's
//! `level_token_policies`), [`ModelPrice`]s (from `ai_model_metadata`) and
//! [`Wallet`]s. Every movement of tokens is a [`LedgerEntry`] with an
//! idempotency key, so replays never charge twice.

mod memory;
mod pricing;
mod store;
mod types;

pub use memory::{overflow as grant_overflow, MemoryWalletStore};
pub use pricing::{estimate_prompt_tokens, prompt_tokens_for_bytes, PriceBook};
pub use store::{ReserveOutcome, ReserveRequest, WalletStore};
pub use types::{
    Consumption, LedgerEntry, LedgerKind, ModelPrice, TierFeatures, TierPolicy, Wallet,
};

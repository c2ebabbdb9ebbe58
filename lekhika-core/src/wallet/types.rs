use serde::{Deserialize, Serialize};

/// A user's wallet. Invariant: `total_earned - total_spent == balance + reserved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Wallet {
    pub user_id: String,
    /// Tokens free to reserve.
    pub balance: i64,
    /// Tokens held by open reservations.
    pub reserved: i64,
    pub total_earned: i64,
    pub total_spent: i64,
    /// Tier level (the seed's `users.level`), if any.
    pub level: Option<String>,
    /// Last allocation period granted, e.g. `2026-11`.
    pub current_period: Option<String>,
}

/// What a tier may use. `None` means "anything".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TierFeatures {
    #[serde(default)]
    pub allowed_models: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_node_kinds: Option<Vec<String>>,
    #[serde(default)]
    pub allowed_export_formats: Option<Vec<String>>,
}

/// The seed's `level_token_policies` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierPolicy {
    pub level: String,
    pub monthly_allocation: i64,
    /// Most wallet tokens one execution may spend (reserved + settled).
    pub per_execution_limit: Option<i64>,
    #[serde(default)]
    pub features: TierFeatures,
}

/// What one model costs, in wallet tokens: per 1,000 provider tokens of
/// input and output (text), per generated image, per 1,000 characters
/// narrated (speech). A price lacks the units its model is not sold in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelPrice {
    pub provider: String,
    pub model: String,
    pub input_per_1k: f64,
    pub output_per_1k: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_image: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_1k_chars: Option<f64>,
}

/// What one call consumes, in the units it is priced in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumption {
    /// Provider tokens of a text call (images priced by tokens too).
    Tokens { input: u64, output: u64 },
    /// Generated images.
    Images(u64),
    /// Characters narrated.
    Characters(u64),
}

impl Consumption {
    /// The unit's name, for messages.
    pub fn unit(&self) -> &'static str {
        match self {
            Self::Tokens { .. } => "token",
            Self::Images(_) => "per-image",
            Self::Characters(_) => "per-character",
        }
    }
}

/// `amount` units at `per` wallet tokens each, rounded up, saturating.
fn at(per: f64, amount: f64) -> i64 {
    (per * amount).ceil().max(0.0) as i64
}

impl ModelPrice {
    /// Wallet cost of what a call consumed; `None` when this price has no
    /// rate for that unit (an image model priced per image asked for
    /// tokens is still priced by its token rates).
    pub fn charge(&self, c: Consumption) -> Option<i64> {
        match c {
            Consumption::Tokens { input, output } => Some(self.cost(input, output)),
            Consumption::Images(n) => self.per_image.map(|p| at(p, n as f64)),
            Consumption::Characters(n) => self.per_1k_chars.map(|p| at(p, n as f64 / 1000.0)),
        }
    }

    /// Wallet cost of a call, rounded up so a charge is never under-priced;
    /// never negative, and saturating at `i64::MAX` instead of wrapping.
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> i64 {
        let c = (input_tokens as f64) * self.input_per_1k / 1000.0
            + (output_tokens as f64) * self.output_per_1k / 1000.0;
        // `as` saturates (and maps NaN to 0).
        c.ceil().max(0.0) as i64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LedgerKind {
    /// Tokens added (grant, monthly allocation).
    Grant,
    /// Tokens held before a call.
    Reserve,
    /// A reservation turned into a charge of `amount` (the rest refunded).
    Settle,
    /// A reservation returned in full.
    Release,
    /// A reply served from an earlier run (`--reuse`): amount 0, the note
    /// names the execution that paid for it.
    Reuse,
}

/// One movement of tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub user_id: String,
    /// Idempotency key; `Reserve`, `Settle` and `Release` of one call share it.
    pub key: String,
    pub kind: LedgerKind,
    pub amount: i64,
    pub execution_id: Option<String>,
    pub node_id: Option<String>,
    pub note: Option<String>,
    pub created_at_ms: i64,
}

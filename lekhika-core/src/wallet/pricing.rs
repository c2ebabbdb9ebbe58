use std::collections::HashMap;

use super::types::ModelPrice;

/// Model prices by provider and model id, loaded from host data.
#[derive(Debug, Clone, Default)]
pub struct PriceBook {
    prices: HashMap<(String, String), ModelPrice>,
}

impl PriceBook {
    pub fn new(prices: impl IntoIterator<Item = ModelPrice>) -> Self {
        Self {
            prices: prices
                .into_iter()
                .map(|p| ((p.provider.clone(), p.model.clone()), p))
                .collect(),
        }
    }

    pub fn insert(&mut self, price: ModelPrice) {
        self.prices
            .insert((price.provider.clone(), price.model.clone()), price);
    }

    pub fn get(&self, provider: &str, model: &str) -> Option<&ModelPrice> {
        self.prices.get(&(provider.to_string(), model.to_string()))
    }

    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }
}

/// A conservative upper bound of the prompt tokens of `text`: byte-level
/// tokenizers never produce more tokens than half the UTF-8 bytes for
/// natural text, plus a fixed allowance for message framing.
pub fn estimate_prompt_tokens(text: &str) -> u64 {
    prompt_tokens_for_bytes(text.len() as u64)
}

/// [`estimate_prompt_tokens`] for a text of `bytes` UTF-8 bytes.
pub fn prompt_tokens_for_bytes(bytes: u64) -> u64 {
    bytes.div_ceil(2) + 16
}

//! The model catalog (the seed's `ai_model_metadata`), loaded from data.

use lekhika_core::wallet::{ModelPrice, PriceBook};
use serde::{Deserialize, Serialize};

/// What a model produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelCategory {
    Text,
    Image,
    Audio,
    Video,
}

/// One model row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub provider: String,
    pub model_id: String,
    pub name: String,
    pub category: ModelCategory,
    #[serde(default)]
    pub context_window: Option<u32>,
    #[serde(default)]
    pub max_output: Option<u32>,
    /// Wallet tokens per 1,000 input tokens.
    #[serde(default)]
    pub input_per_1k: f64,
    /// Wallet tokens per 1,000 output tokens.
    #[serde(default)]
    pub output_per_1k: f64,
    /// Wallet tokens per generated image (image models priced per image).
    #[serde(default)]
    pub per_image: Option<f64>,
    /// Wallet tokens per 1,000 characters narrated (speech models priced
    /// per character of input).
    #[serde(default)]
    pub per_1k_chars: Option<f64>,
    /// The provider's default model of this category.
    #[serde(default)]
    pub is_default: bool,
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// Catalog data that does not parse.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The JSON is malformed or a row misses a required field; fix the data.
    #[error("model catalog is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CatalogFile {
    Wrapped { models: Vec<ModelInfo> },
    Rows(Vec<ModelInfo>),
}

/// All known models.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Catalog {
    models: Vec<ModelInfo>,
}

const DEFAULT_JSON: &str = include_str!("../catalog/default.json");

impl Catalog {
    pub fn new(models: Vec<ModelInfo>) -> Self {
        Self { models }
    }

    /// Parse `{"models": [...]}` or a bare array of rows.
    pub fn from_json(json: &str) -> Result<Self, CatalogError> {
        let models = match serde_json::from_str::<CatalogFile>(json)? {
            CatalogFile::Wrapped { models } | CatalogFile::Rows(models) => models,
        };
        Ok(Self { models })
    }

    /// The catalog shipped in `catalog/default.json`.
    pub fn default_catalog() -> Self {
        // The file is part of this crate and covered by a test.
        Self::from_json(DEFAULT_JSON).unwrap_or_default()
    }

    /// The raw JSON of the shipped catalog (for hosts that seed a database).
    pub fn default_json() -> &'static str {
        DEFAULT_JSON
    }

    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    pub fn get(&self, provider: &str, model_id: &str) -> Option<&ModelInfo> {
        self.models
            .iter()
            .find(|m| m.provider.eq_ignore_ascii_case(provider) && m.model_id == model_id)
    }

    /// Active models of `provider` in `category`.
    pub fn of(&self, provider: &str, category: ModelCategory) -> impl Iterator<Item = &ModelInfo> {
        let provider = provider.to_string();
        self.models.iter().filter(move |m| {
            m.is_active && m.category == category && m.provider.eq_ignore_ascii_case(&provider)
        })
    }

    /// The provider's default model of `category` (the `is_default` row, else the first active one).
    pub fn default_model(&self, provider: &str, category: ModelCategory) -> Option<&ModelInfo> {
        self.of(provider, category)
            .find(|m| m.is_default)
            .or_else(|| self.of(provider, category).next())
    }

    /// The provider's default text model.
    pub fn default_text_model(&self, provider: &str) -> Option<&ModelInfo> {
        self.default_model(provider, ModelCategory::Text)
    }

    /// Add or replace rows (host overrides on top of the default catalog).
    pub fn merge(&mut self, other: Catalog) {
        for m in other.models {
            match self
                .models
                .iter_mut()
                .find(|x| x.provider.eq_ignore_ascii_case(&m.provider) && x.model_id == m.model_id)
            {
                Some(x) => *x = m,
                None => self.models.push(m),
            }
        }
    }

    /// Wallet prices of every model.
    pub fn price_book(&self) -> PriceBook {
        PriceBook::new(self.models.iter().map(|m| ModelPrice {
            provider: m.provider.clone(),
            model: m.model_id.clone(),
            input_per_1k: m.input_per_1k,
            output_per_1k: m.output_per_1k,
            per_image: m.per_image,
            per_1k_chars: m.per_1k_chars,
        }))
    }
}

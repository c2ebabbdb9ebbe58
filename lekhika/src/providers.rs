//! Providers and the model catalog, from environment, files and host rows.

use std::path::Path;
use std::sync::Arc;

use lekhika_core::provider::ModelProvider;
use lekhika_core::quota::SharedQuota;
use lekhika_core::wallet::PriceBook;
use lekhika_providers::{
    not_configured, parse_provider_rows, FallbackTarget, ProviderRow, ProviderSet,
};

use crate::error::{LekhikaError, Result};

pub struct Providers {
    set: Arc<ProviderSet>,
}

impl Providers {
    /// Env vars (OPENAI_API_KEY, ...) if asked, then a JSON file of provider
    /// rows (unknown keys are errors), then the host's rows; later sources
    /// win. `fallbacks` add to the rows' `fallback` chains; every target
    /// must be configured. Rate limits are kept in `quota` (the store's, so
    /// they hold for every process sharing it).
    pub fn load(
        from_env: bool,
        file: Option<&Path>,
        rows: &[ProviderRow],
        fallbacks: &[(String, FallbackTarget)],
        quota: Arc<dyn SharedQuota>,
    ) -> Result<Self> {
        let config = |e: lekhika_providers::ConfigError| LekhikaError::Config(e.to_string());
        let mut set = if from_env {
            ProviderSet::from_env().map_err(config)?
        } else {
            ProviderSet::new()
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                LekhikaError::Config(format!(
                    "cannot read providers file {}: {e}",
                    path.display()
                ))
            })?;
            let rows = parse_provider_rows(&text).map_err(|e| {
                LekhikaError::Config(format!("providers file {}: {e}", path.display()))
            })?;
            set = set.merge(ProviderSet::from_rows(&rows, None).map_err(config)?);
        }
        if !rows.is_empty() {
            set = set.merge(ProviderSet::from_rows(rows, None).map_err(config)?);
        }
        for (primary, target) in fallbacks {
            set = set.with_fallback(primary, target.clone());
        }
        set.check_fallbacks().map_err(config)?;
        // The engine retries each call itself: one budget per call.
        let set = set
            .with_client_retry(lekhika_providers::http::RetryPolicy::none())
            .and_then(|s| s.with_shared_quota(quota))
            .map_err(config)?;
        Ok(Self { set: Arc::new(set) })
    }

    pub fn model_provider(&self) -> Arc<dyn ModelProvider> {
        self.set.clone()
    }

    pub fn is_configured(&self, name: &str) -> bool {
        self.set.contains(name)
    }

    /// What to set to configure `name`.
    pub fn hint(&self, name: &str) -> String {
        not_configured(name, &self.set.names()).message
    }
}

pub struct Catalog(lekhika_providers::Catalog);

impl Catalog {
    /// The built-in catalog, or the one in `file`.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        match file {
            None => Ok(Self(lekhika_providers::Catalog::default_catalog())),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    LekhikaError::Config(format!("cannot read catalog {}: {e}", p.display()))
                })?;
                lekhika_providers::Catalog::from_json(&text)
                    .map(Self)
                    .map_err(|e| LekhikaError::Config(format!("catalog {}: {e}", p.display())))
            }
        }
    }

    pub fn from_json(json: &str) -> Result<Self> {
        lekhika_providers::Catalog::from_json(json)
            .map(Self)
            .map_err(|e| LekhikaError::Config(format!("catalog: {e}")))
    }

    /// The underlying catalog (models, categories, prices).
    pub fn inner(&self) -> &lekhika_providers::Catalog {
        &self.0
    }

    pub fn default_text_model(&self, provider: &str) -> Option<String> {
        self.0
            .default_text_model(provider)
            .map(|m| m.model_id.clone())
    }

    pub fn price_book(&self) -> PriceBook {
        self.0.price_book()
    }
}

//! What `open` takes from a binding: the JSON form of a configuration
//! (custom node kinds are added by the binding, which owns the callbacks).

use std::collections::BTreeMap;
use std::path::PathBuf;

use lekhika_providers::{FallbackTarget, ProviderRow};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{LekhikaError, Result};
use crate::runtime::{lease_seconds, Config};

/// How to open Lekhika: every key optional; unknown keys are errors.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenSettings {
    /// SQLite path, `sqlite::memory:` or `postgres://…` (default: the user's SQLite file).
    pub store: Option<String>,
    /// Provider rows `{name, kind?, api_key?, base_url?, is_active?, user_id?, ...}`.
    pub providers: Vec<ProviderRow>,
    /// A JSON file of provider rows.
    pub providers_file: Option<PathBuf>,
    /// Read OPENAI_API_KEY, ANTHROPIC_API_KEY, … from the environment.
    pub providers_from_env: bool,
    /// The model catalog (prices, default models): an object, JSON text or a file path.
    pub catalog: Option<Value>,
    /// Nodes at once per run.
    pub max_concurrency: Option<usize>,
    /// Runner lease in seconds (default 15).
    pub lease: Option<f64>,
    /// Fallback chains: `{primary: ["secondary", {"provider", "model"}, ...]}`
    /// (provider rows may also carry their own `fallback`).
    pub fallbacks: BTreeMap<String, Vec<FallbackTarget>>,
}

impl OpenSettings {
    /// From its JSON form (`null` is the defaults).
    pub fn from_json(v: Value) -> Result<Self> {
        if v.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(v)
            .map_err(|e| LekhikaError::InvalidArgument(format!("open options: {e}")))
    }

    /// The configuration these settings describe.
    pub fn into_config(self) -> Result<Config> {
        if self.max_concurrency == Some(0) {
            return Err(LekhikaError::InvalidArgument(
                "max_concurrency must be at least 1".into(),
            ));
        }
        let (catalog_json, catalog_file) = match self.catalog {
            None | Some(Value::Null) => (None, None),
            Some(v @ Value::Object(_)) => (Some(v.to_string()), None),
            Some(Value::String(s)) if s.trim_start().starts_with('{') => (Some(s), None),
            Some(Value::String(s)) => (None, Some(PathBuf::from(s))),
            Some(_) => {
                return Err(LekhikaError::InvalidArgument(
                    "catalog must be an object, JSON text or a file path".into(),
                ))
            }
        };
        Ok(Config {
            store: self.store,
            providers_from_env: self.providers_from_env,
            providers_file: self.providers_file,
            provider_rows: self.providers,
            catalog_file,
            catalog_json,
            max_concurrency: self.max_concurrency,
            lease: self.lease.map(lease_seconds).transpose()?,
            fallbacks: self
                .fallbacks
                .into_iter()
                .flat_map(|(p, ts)| {
                    let p = p.to_ascii_lowercase();
                    ts.into_iter().map(move |t| (p.clone(), t))
                })
                .collect(),
            register: Vec::new(),
        })
    }
}

//! `open()` options → `lekhika::Config`.

use lekhika::provider_clients::ProviderRow;
use lekhika::Config;
use napi_derive::napi;
use serde_json::json;

use crate::error::{BindError, BindResult};

/// One AI provider: a key and, for compatible servers, a base URL.
#[napi(object)]
#[derive(Clone)]
pub struct ProviderRowInput {
    /// `openai`, `anthropic`, `gemini`, `stability`, or any name for an OpenAI-compatible server.
    pub name: String,
    /// Wire protocol (`openai`, `anthropic`, `gemini`, `stability`); derived from the name when absent.
    pub kind: Option<String>,
    pub api_key: Option<String>,
    /// e.g. `http://127.0.0.1:11434/v1`.
    pub base_url: Option<String>,
    pub is_active: Option<bool>,
    /// A user's own key; absent for the host-wide row.
    pub user_id: Option<String>,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
}

/// How to assemble Lekhika. Everything is optional.
#[napi(object)]
pub struct OpenOptions {
    /// SQLite path, `sqlite::memory:` or `postgres://...` (default: the user's SQLite file).
    pub store: Option<String>,
    /// Read OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY, ... from the environment.
    pub providers_from_env: Option<bool>,
    /// A JSON file of provider rows.
    pub providers_file: Option<String>,
    /// Provider rows from the host (win over env and file).
    pub providers: Option<Vec<ProviderRowInput>>,
    /// A model catalog file replacing the built-in one (prices for wallets).
    pub catalog_file: Option<String>,
    /// Model catalog JSON (wins over `catalogFile`).
    pub catalog_json: Option<String>,
    /// Nodes at once per run.
    pub max_concurrency: Option<u32>,
}

impl ProviderRowInput {
    fn to_row(&self) -> BindResult<ProviderRow> {
        let v = json!({
            "name": self.name,
            "kind": self.kind,
            "api_key": self.api_key,
            "base_url": self.base_url,
            "is_active": self.is_active.unwrap_or(true),
            "user_id": self.user_id,
            "requests_per_minute": self.requests_per_minute,
            "tokens_per_minute": self.tokens_per_minute,
        });
        serde_json::from_value(v)
            .map_err(|e| BindError::new("config", format!("provider `{}`: {e}", self.name)))
    }
}

/// Build the facade's configuration (custom node kinds are added by the caller).
pub fn to_config(o: OpenOptions) -> BindResult<Config> {
    let provider_rows = o
        .providers
        .unwrap_or_default()
        .iter()
        .map(ProviderRowInput::to_row)
        .collect::<BindResult<Vec<_>>>()?;
    Ok(Config {
        store: o.store,
        providers_from_env: o.providers_from_env.unwrap_or(false),
        providers_file: o.providers_file.map(Into::into),
        provider_rows,
        catalog_file: o.catalog_file.map(Into::into),
        catalog_json: o.catalog_json,
        max_concurrency: o.max_concurrency.map(|n| n as usize),
        lease: None,
        register: Vec::new(),
    })
}

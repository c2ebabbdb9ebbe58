//! One configuration → a ready [`Engine`] with its stores, providers and catalog.

use std::path::{Path, PathBuf};

use lekhika_core::{Engine, Flow, Registry};
use lekhika_providers::{FallbackTarget, ProviderRow};
use lekhika_store::Stores;

use crate::error::{LekhikaError, Result};
use crate::providers::{Catalog, Providers};

/// A deferred registration of custom node kinds.
pub type Registration = Box<dyn FnOnce(&mut Registry) + Send>;

/// How to assemble Lekhika. Everything is optional.
#[derive(Default)]
pub struct Config {
    /// SQLite path, `sqlite::memory:` or `postgres://...` [default: [`default_store_path`]].
    pub store: Option<String>,
    /// Read OPENAI_API_KEY, ANTHROPIC_API_KEY, ... from the environment.
    pub providers_from_env: bool,
    /// A JSON file of provider rows (`[{name, kind, api_key, base_url, is_active}]`).
    pub providers_file: Option<PathBuf>,
    /// Provider rows from the host (win over env and file).
    pub provider_rows: Vec<ProviderRow>,
    /// Fallback chains added to those of the file and rows: when the
    /// provider named first fails with a retryable error, its call goes to
    /// the target (targets of one provider are tried in order). Every
    /// target must be a configured provider.
    pub fallbacks: Vec<(String, FallbackTarget)>,
    /// A catalog file replacing the built-in catalog.
    pub catalog_file: Option<PathBuf>,
    /// Catalog JSON replacing the built-in catalog (wins over the file).
    pub catalog_json: Option<String>,
    /// Nodes at once per run.
    pub max_concurrency: Option<usize>,
    /// Length of the runner lease (default 15 s): how long after a runner
    /// dies its execution can be resumed or taken over.
    pub lease: Option<std::time::Duration>,
    /// Extra node kinds (custom nodes).
    pub register: Vec<Registration>,
}

/// A runner lease of `seconds` (what `--lease` and the bindings' `lease`
/// take): between 0.3 s and a day.
pub fn lease_seconds(seconds: f64) -> Result<std::time::Duration> {
    if seconds.is_finite() && (0.3..=86_400.0).contains(&seconds) {
        Ok(std::time::Duration::from_secs_f64(seconds))
    } else {
        Err(LekhikaError::InvalidArgument(format!(
            "a lease must be between 0.3 and 86400 seconds, got {seconds}"
        )))
    }
}

/// An assembled engine and everything it was built from.
pub struct Lekhika {
    pub engine: Engine,
    pub stores: Stores,
    pub providers: Providers,
    pub catalog: Catalog,
}

/// Where the default SQLite store lives: `$XDG_DATA_HOME/lekhika/lekhika.db`,
/// else `~/.local/share/lekhika/lekhika.db`.
pub fn default_store_path() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local").join("share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("lekhika").join("lekhika.db")
}

/// Open a store by location (default: the user's SQLite file, created if missing).
pub async fn open_stores(location: Option<&str>) -> Result<Stores> {
    let location = match location {
        Some(s) => s.to_string(),
        None => {
            let p = default_store_path();
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    LekhikaError::Io(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
            p.to_string_lossy().into_owned()
        }
    };
    lekhika_store::open(&location)
        .await
        .map_err(|e| LekhikaError::store_open(&location, &e))
}

impl Lekhika {
    pub async fn open(cfg: Config) -> Result<Self> {
        let stores = open_stores(cfg.store.as_deref()).await?;
        let catalog = match (&cfg.catalog_json, &cfg.catalog_file) {
            (Some(json), _) => Catalog::from_json(json)?,
            (None, file) => Catalog::load(file.as_deref())?,
        };
        let providers = Providers::load(
            cfg.providers_from_env,
            cfg.providers_file.as_deref(),
            &cfg.provider_rows,
            &cfg.fallbacks,
            stores.quota.clone(),
        )?;
        let mut builder = Engine::builder(providers.model_provider(), stores.executions.clone())
            .artifacts(stores.artifacts.clone())
            .wallet(stores.wallet.clone())
            .prices(catalog.price_book())
            .register(crate::nodes::register);
        if let Some(n) = cfg.max_concurrency {
            builder = builder.max_concurrency(n);
        }
        if let Some(d) = cfg.lease {
            builder = builder.lease(d);
        }
        for r in cfg.register {
            builder = builder.register(r);
        }
        Ok(Self {
            engine: builder.build(),
            stores,
            providers,
            catalog,
        })
    }

    /// `provider` alone means that provider's default text model from the catalog.
    pub fn resolve_models(
        &self,
        provider: Option<&str>,
        model: Option<&str>,
    ) -> Result<(Option<String>, Option<String>)> {
        match (provider, model) {
            (Some(p), None) => match self.catalog.default_text_model(p) {
                Some(m) => Ok((Some(p.to_string()), Some(m))),
                None => Err(LekhikaError::Config(format!(
                    "the model catalog has no default text model for provider `{p}`; give a model"
                ))),
            },
            (p, m) => Ok((p.map(str::to_string), m.map(str::to_string))),
        }
    }

    /// Every provider the flow calls must be configured; the error says exactly what to set.
    pub fn check_providers(&self, flow: &Flow) -> Result<()> {
        let mut missing: Vec<String> = Vec::new();
        for n in &flow.nodes {
            for (p, _) in n.node.models() {
                if !self.providers.is_configured(&p) && !missing.contains(&p) {
                    missing.push(p);
                }
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let hints: Vec<String> = missing.iter().map(|p| self.providers.hint(p)).collect();
        Err(LekhikaError::Config(format!(
            "no provider configured for {}.\n{}",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", "),
            hints.join("\n")
        )))
    }
}

/// Read a JSON file, naming it in errors.
pub fn read_json(path: &Path, what: &str) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LekhikaError::Config(format!("cannot read {what} {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        LekhikaError::Config(format!("{what} {} is not valid JSON: {e}", path.display()))
    })
}

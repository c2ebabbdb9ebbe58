//! [`ProviderSet`]: routes requests by provider name and falls back to other
//! providers when one stays overloaded or rate limited.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use lekhika_core::provider::{
    DeltaSink, ImageRequest, ImageResponse, ModelProvider, ProviderError, ProviderErrorKind,
    ServedBy, SpeechRequest, SpeechResponse, TextRequest, TextResponse,
};

use crate::config::{ConfigError, ProviderConfig, ProviderKind, ProviderRow};
use crate::env;
pub use crate::fallback::FallbackTarget;

/// Every configured provider, by name. Implements [`ModelProvider`].
#[derive(Default, Clone)]
pub struct ProviderSet {
    clients: HashMap<String, Arc<dyn ModelProvider>>,
    /// The configurations clients were built from (to rebuild them).
    configs: HashMap<String, ProviderConfig>,
    fallbacks: HashMap<String, Vec<FallbackTarget>>,
    /// (primary, target) pairs whose first use was reported.
    reported: Arc<Mutex<HashSet<(String, String)>>>,
}

impl std::fmt::Debug for ProviderSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.clients.keys().collect();
        names.sort();
        f.debug_struct("ProviderSet")
            .field("providers", &names)
            .field("fallbacks", &self.fallbacks)
            .finish()
    }
}

/// Build the client for one configuration.
pub fn client_for(cfg: &ProviderConfig) -> Result<Arc<dyn ModelProvider>, ConfigError> {
    let missing = |feature| ConfigError::FeatureDisabled {
        name: cfg.name.clone(),
        feature,
    };
    match cfg.kind {
        #[cfg(feature = "openai")]
        ProviderKind::OpenAi => Ok(Arc::new(crate::OpenAiClient::new(cfg)?)),
        #[cfg(feature = "anthropic")]
        ProviderKind::Anthropic => Ok(Arc::new(crate::AnthropicClient::new(cfg)?)),
        #[cfg(feature = "gemini")]
        ProviderKind::Gemini => Ok(Arc::new(crate::GeminiClient::new(cfg)?)),
        #[cfg(feature = "stability")]
        ProviderKind::Stability => Ok(Arc::new(crate::StabilityClient::new(cfg)?)),
        #[allow(unreachable_patterns)]
        other => Err(missing(other.as_str())),
    }
}

impl ProviderSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Providers from the process environment; see [`ProviderSet::from_vars`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Providers from `NAME=value` pairs: `OPENAI_API_KEY`/`OPENAI_BASE_URL`,
    /// `ANTHROPIC_API_KEY`/`ANTHROPIC_BASE_URL`, `GEMINI_API_KEY` (or
    /// `GOOGLE_API_KEY`)/`GEMINI_BASE_URL`, `STABILITY_API_KEY`/`STABILITY_BASE_URL`;
    /// any other `FOO_BASE_URL` adds an OpenAI-compatible provider `foo`
    /// (key from `FOO_API_KEY`, optional), e.g. `OLLAMA_BASE_URL`.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut set = Self::new();
        for cfg in env::configs_from_vars(vars) {
            set.add(cfg)?;
        }
        Ok(set)
    }

    /// Providers from the host's `ai_providers` rows (inactive rows skipped).
    /// Rows of `user_id` override host-wide rows of the same name; other
    /// users' rows are ignored.
    pub fn from_rows(rows: &[ProviderRow], user_id: Option<&str>) -> Result<Self, ConfigError> {
        let mut set = Self::new();
        let global = rows.iter().filter(|r| r.user_id.is_none());
        let own = rows
            .iter()
            .filter(|r| r.user_id.is_some() && r.user_id.as_deref() == user_id);
        for row in global.chain(own).filter(|r| r.is_active) {
            set.add(row.to_config())?;
            let name = row.name.trim().to_ascii_lowercase();
            if row.fallback.is_empty() {
                set.fallbacks.remove(&name);
            } else {
                set.fallbacks.insert(name, row.fallback.clone());
            }
        }
        Ok(set)
    }

    /// Add (or replace) a provider from its configuration.
    pub fn add(&mut self, cfg: ProviderConfig) -> Result<&mut Self, ConfigError> {
        let client = client_for(&cfg)?;
        let name = cfg.name.to_ascii_lowercase();
        self.clients.insert(name.clone(), client);
        self.configs.insert(name, cfg);
        Ok(self)
    }

    /// Rebuild every configured client with `retry` as its own retry
    /// policy. The Lekhika engine retries each call itself (the node's
    /// `retry.attempts`, one budget per call), so it uses its providers
    /// with [`RetryPolicy::none`](crate::http::RetryPolicy::none): provider
    /// retries and engine retries never multiply.
    pub fn with_client_retry(
        mut self,
        retry: crate::http::RetryPolicy,
    ) -> Result<Self, ConfigError> {
        for (name, cfg) in self.configs.iter_mut() {
            cfg.retry = retry;
            self.clients.insert(name.clone(), client_for(cfg)?);
        }
        Ok(self)
    }

    /// Rebuild every configured client keeping its rate limits in `quota`
    /// (a store's [`SharedQuota`](lekhika_core::quota::SharedQuota)), so
    /// they hold for every process sharing the store.
    pub fn with_shared_quota(
        mut self,
        quota: Arc<dyn lekhika_core::quota::SharedQuota>,
    ) -> Result<Self, ConfigError> {
        for (name, cfg) in self.configs.iter_mut() {
            cfg.quota = Some(quota.clone());
            self.clients.insert(name.clone(), client_for(cfg)?);
        }
        Ok(self)
    }

    /// Builder form of [`add`](Self::add).
    pub fn with(mut self, cfg: ProviderConfig) -> Result<Self, ConfigError> {
        self.add(cfg)?;
        Ok(self)
    }

    /// Add any implementation under `name` (tests, host-specific clients).
    pub fn insert(&mut self, name: impl Into<String>, client: Arc<dyn ModelProvider>) -> &mut Self {
        let name = name.into().to_ascii_lowercase();
        self.configs.remove(&name);
        self.clients.insert(name, client);
        self
    }

    /// Merge `other` into this set; `other` wins on equal names.
    pub fn merge(mut self, other: ProviderSet) -> Self {
        for name in other.clients.keys() {
            self.configs.remove(name);
        }
        self.clients.extend(other.clients);
        self.configs.extend(other.configs);
        self.fallbacks.extend(other.fallbacks);
        self
    }

    /// When `primary` fails with a retryable error after its own retries, try
    /// `target` (targets are tried in the order added).
    pub fn with_fallback(mut self, primary: &str, target: FallbackTarget) -> Self {
        self.fallbacks
            .entry(primary.to_ascii_lowercase())
            .or_default()
            .push(target);
        self
    }

    /// Every fallback chain: primary provider and its targets in order.
    pub fn fallback_chains(&self) -> impl Iterator<Item = (&str, &[FallbackTarget])> {
        self.fallbacks
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_slice()))
    }

    /// Every fallback target must be a configured provider other than its primary.
    pub fn check_fallbacks(&self) -> Result<(), ConfigError> {
        let mut chains: Vec<_> = self.fallback_chains().collect();
        chains.sort_by_key(|(p, _)| *p);
        for (primary, targets) in chains {
            for t in targets {
                if t.provider.eq_ignore_ascii_case(primary) && t.model.is_none() {
                    return Err(ConfigError::BadFallback {
                        primary: primary.to_string(),
                        message: "it falls back to itself with the same model".into(),
                    });
                }
                if !self.contains(&t.provider) {
                    return Err(ConfigError::BadFallback {
                        primary: primary.to_string(),
                        message: format!(
                            "its fallback `{}` is not a configured provider ({})",
                            t.provider,
                            not_configured(&t.provider, &self.names()).message
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Said once per (primary, target) the first time the target answers.
    fn fallback_notice(
        &self,
        primary: &str,
        target: &FallbackTarget,
        err: &ProviderError,
    ) -> Option<String> {
        let key = (primary.to_ascii_lowercase(), target.provider.clone());
        let first = self
            .reported
            .lock()
            .map(|mut r| r.insert(key))
            .unwrap_or(false);
        if !first {
            return None;
        }
        let why: String = err.message.split_whitespace().collect::<Vec<_>>().join(" ");
        let why: String = why.chars().take(160).collect();
        let model = target
            .model
            .as_deref()
            .map(|m| format!(" (model `{m}`)"))
            .unwrap_or_default();
        Some(format!(
            "provider `{primary}` failed ({:?}: {why}); its fallback `{}`{model} answered \
             (later calls it answers are not reported again)",
            err.kind, target.provider
        ))
    }

    /// Configured provider names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut n: Vec<_> = self.clients.keys().cloned().collect();
        n.sort();
        n
    }

    pub fn contains(&self, name: &str) -> bool {
        self.clients.contains_key(&name.to_ascii_lowercase())
    }

    /// The client for `name`, or `NotConfigured` naming the env var to set.
    pub fn get(&self, name: &str) -> Result<&Arc<dyn ModelProvider>, ProviderError> {
        self.clients
            .get(&name.to_ascii_lowercase())
            .ok_or_else(|| not_configured(name, &self.names()))
    }

    fn chain<'a>(&'a self, provider: &str) -> &'a [FallbackTarget] {
        self.fallbacks
            .get(&provider.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// `NotConfigured` whose message says exactly what to set.
pub fn not_configured(name: &str, configured: &[String]) -> ProviderError {
    let hint = env::hint_for(name);
    let have = if configured.is_empty() {
        "no providers are configured".to_string()
    } else {
        format!("configured: {}", configured.join(", "))
    };
    ProviderError::new(
        name,
        ProviderErrorKind::NotConfigured,
        format!("provider `{name}` is not configured: {hint} ({have})"),
    )
}

/// Worth trying another provider after this failure.
fn falls_back(e: &ProviderError) -> bool {
    e.is_retryable()
}

#[async_trait]
impl ModelProvider for ProviderSet {
    async fn generate_text(
        &self,
        req: &TextRequest,
        on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        let mut emitted = false;
        let first = {
            let mut sink = |d: &str| {
                emitted = true;
                on_delta(d);
            };
            self.get(&req.provider)?.generate_text(req, &mut sink).await
        };
        let mut err = match first {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        for target in self.chain(&req.provider) {
            if emitted || !falls_back(&err) {
                break;
            }
            let Ok(client) = self.get(&target.provider) else {
                continue;
            };
            let mut alt = req.clone();
            alt.provider = target.provider.clone();
            if let Some(m) = &target.model {
                alt.model = m.clone();
            }
            let res = {
                let mut sink = |d: &str| {
                    emitted = true;
                    on_delta(d);
                };
                client.generate_text(&alt, &mut sink).await
            };
            match res {
                Ok(mut r) => {
                    if let Some(n) = self.fallback_notice(&req.provider, target, &err) {
                        r.notices.push(n);
                    }
                    r.served_by = Some(ServedBy {
                        provider: alt.provider.clone(),
                        model: alt.model.clone(),
                    });
                    return Ok(r);
                }
                Err(e) => err = e,
            }
        }
        Err(err)
    }

    async fn generate_image(&self, req: &ImageRequest) -> Result<ImageResponse, ProviderError> {
        let mut err = match self.get(&req.provider)?.generate_image(req).await {
            Ok(r) => return Ok(r),
            Err(e) => e,
        };
        for target in self.chain(&req.provider) {
            if !falls_back(&err) {
                break;
            }
            let Ok(client) = self.get(&target.provider) else {
                continue;
            };
            let mut alt = req.clone();
            alt.provider = target.provider.clone();
            if let Some(m) = &target.model {
                alt.model = m.clone();
            }
            match client.generate_image(&alt).await {
                Ok(mut r) => {
                    r.served_by = Some(ServedBy {
                        provider: alt.provider.clone(),
                        model: alt.model.clone(),
                    });
                    return Ok(r);
                }
                Err(e) => err = e,
            }
        }
        Err(err)
    }

    async fn synthesize_speech(
        &self,
        req: &SpeechRequest,
    ) -> Result<SpeechResponse, ProviderError> {
        self.get(&req.provider)?.synthesize_speech(req).await
    }
}

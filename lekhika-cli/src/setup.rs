//! Builds Lekhika from flags and environment.

use std::collections::BTreeMap;

use lekhika::{Config, FallbackTarget, Lekhika, LekhikaError, RunSettings};
use lekhika_core::node::ModelChoice as ModelChoiceOpt;

use crate::args::{Common, ModelChoice};
use crate::error::{CliError, CliResult, BAD_INPUT};

pub struct Setup {
    pub lk: Lekhika,
    pub user: String,
    /// ` --user U --store S` as a command printed for the user to run next
    /// must say them (empty for the defaults and what the environment
    /// already carries; a password in a URL is never printed).
    pub again: String,
}

/// The flags a printed follow-up command needs to reach the same run.
fn again_flags(common: &Common) -> String {
    let mut flags = String::new();
    let env = |k: &str| std::env::var(k).ok();
    if common.user != "local" && env("LEKHIKA_USER").as_deref() != Some(common.user.as_str()) {
        flags.push_str(&format!(" --user {}", shell_word(&common.user)));
    }
    if let Some(store) = &common.store {
        if env("LEKHIKA_STORE").as_deref() != Some(store.as_str()) {
            flags.push_str(&format!(
                " --store {}",
                shell_word(&lekhika::api::redact_url(store))
            ));
        }
    }
    flags
}

/// `s` quoted for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=+,%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl From<LekhikaError> for CliError {
    fn from(e: LekhikaError) -> Self {
        match e {
            LekhikaError::Engine(e) => e.into(),
            e if e.is_bad_input() => CliError::new(BAD_INPUT, e.to_string()),
            e => CliError::other(e.to_string()),
        }
    }
}

/// The runner lease `--lease` asks for.
pub fn lease(common: &Common) -> CliResult<Option<std::time::Duration>> {
    Ok(common.lease.map(lekhika::lease_seconds).transpose()?)
}

/// The fallback chains `--fallback PRIMARY=SECONDARY[:MODEL]` asks for.
pub fn fallbacks(common: &Common) -> CliResult<Vec<(String, FallbackTarget)>> {
    common
        .fallbacks
        .iter()
        .map(|v| {
            v.split_once('=')
                .and_then(|(p, t)| {
                    let p = p.trim().to_ascii_lowercase();
                    Some((p, FallbackTarget::parse(t)?)).filter(|(p, _)| !p.is_empty())
                })
                .ok_or_else(|| {
                    CliError::bad_input(format!(
                        "--fallback takes PRIMARY=SECONDARY[:MODEL], got `{v}`"
                    ))
                })
        })
        .collect()
}

pub async fn setup(common: &Common) -> CliResult<Setup> {
    let lk = Lekhika::open(Config {
        store: common.store.clone(),
        providers_from_env: true,
        providers_file: common.providers.clone(),
        fallbacks: fallbacks(common)?,
        catalog_file: common.catalog.clone(),
        lease: lease(common)?,
        ..Config::default()
    })
    .await?;
    Ok(Setup {
        lk,
        user: common.user.clone(),
        again: again_flags(common),
    })
}

/// The run settings `--provider`, `--model`, `--node-provider` and
/// `--node-model` ask for, as the acting user (a provider alone gets its
/// default model: the host API resolves it).
pub fn run_settings(choice: &ModelChoice, s: &Setup) -> CliResult<RunSettings> {
    let mut models: BTreeMap<String, ModelChoiceOpt> = BTreeMap::new();
    for (flag, pairs, is_model) in [
        ("--node-provider", &choice.node_providers, false),
        ("--node-model", &choice.node_models, true),
    ] {
        for pair in pairs {
            let Some((node, value)) = pair
                .split_once('=')
                .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            else {
                return Err(CliError::bad_input(format!(
                    "{flag} takes NODE=VALUE, got `{pair}`"
                )));
            };
            let entry = models.entry(node.to_string()).or_default();
            if is_model {
                entry.model = Some(value.to_string());
            } else {
                entry.provider = Some(value.to_string());
            }
        }
    }
    Ok(RunSettings {
        user: Some(s.user.clone()),
        provider: choice.provider.clone(),
        model: choice.model.clone(),
        models,
        ..RunSettings::default()
    })
}

//! Builds Lekhika from flags and environment.

use lekhika::{Config, FallbackTarget, Lekhika, LekhikaError};
use lekhika_store::Stores;

use std::collections::BTreeMap;

use lekhika_core::node::ModelChoice as ModelChoiceOpt;
use lekhika_core::RunOptions;

use crate::args::{Common, ModelChoice};
use crate::error::{CliError, CliResult, BAD_INPUT};

pub struct Setup {
    pub lk: Lekhika,
    pub user: String,
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

pub async fn open_stores(common: &Common) -> CliResult<Stores> {
    Ok(lekhika::open_stores(common.store.as_deref()).await?)
}

/// The runner lease `--lease` asks for.
pub fn lease(common: &Common) -> CliResult<Option<std::time::Duration>> {
    match common.lease {
        None => Ok(None),
        Some(s) if s.is_finite() && (0.3..=86_400.0).contains(&s) => {
            Ok(Some(std::time::Duration::from_secs_f64(s)))
        }
        Some(s) => Err(CliError::bad_input(format!(
            "--lease must be between 0.3 and 86400 seconds, got {s}"
        ))),
    }
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
    })
}

/// The run options `--provider`, `--model`, `--node-provider` and
/// `--node-model` ask for (a provider alone gets its default model).
pub fn model_options(choice: &ModelChoice, s: &Setup) -> CliResult<RunOptions> {
    let (provider, model) =
        s.lk.resolve_models(choice.provider.as_deref(), choice.model.as_deref())?;
    let mut per_node: BTreeMap<String, (Option<String>, Option<String>)> = BTreeMap::new();
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
            let entry = per_node.entry(node.to_string()).or_default();
            if is_model {
                entry.1 = Some(value.to_string());
            } else {
                entry.0 = Some(value.to_string());
            }
        }
    }
    let mut models = BTreeMap::new();
    for (node, (p, m)) in per_node {
        let (provider, model) = s.lk.resolve_models(p.as_deref(), m.as_deref())?;
        models.insert(node, ModelChoiceOpt { provider, model });
    }
    Ok(RunOptions {
        provider,
        model,
        models,
        ..RunOptions::default()
    })
}

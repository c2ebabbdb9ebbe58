//! Builds Lekhika from flags and environment.

use lekhika::{Config, Lekhika, LekhikaError};
use lekhika_store::Stores;

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

pub async fn setup(common: &Common) -> CliResult<Setup> {
    let lk = Lekhika::open(Config {
        store: common.store.clone(),
        providers_from_env: true,
        providers_file: common.providers.clone(),
        catalog_file: common.catalog.clone(),
        ..Config::default()
    })
    .await?;
    Ok(Setup {
        lk,
        user: common.user.clone(),
    })
}

pub fn resolve_models(
    choice: &ModelChoice,
    s: &Setup,
) -> CliResult<(Option<String>, Option<String>)> {
    Ok(s.lk.resolve_models(choice.provider.as_deref(), choice.model.as_deref())?)
}

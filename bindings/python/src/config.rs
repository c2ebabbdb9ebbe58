//! `lekhika.open(...)` keyword arguments → [`lekhika::Config`].

use std::path::PathBuf;
use std::sync::Arc;

use lekhika_providers::ProviderRow;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert::{document, py_to_value};
use crate::errors;
use crate::loops::Loops;

/// Adds one custom kind to the engine's registry.
type Registration = Box<dyn FnOnce(&mut lekhika_core::Registry) + Send>;

#[allow(clippy::too_many_arguments)]
pub fn build(
    store: Option<PathBuf>,
    providers: Option<&Bound<'_, PyAny>>,
    providers_file: Option<PathBuf>,
    providers_from_env: bool,
    catalog: Option<&Bound<'_, PyAny>>,
    max_concurrency: Option<usize>,
    lease: Option<f64>,
    nodes: Option<&Bound<'_, PyDict>>,
    loops: &Loops,
) -> PyResult<lekhika::Config> {
    let provider_rows: Vec<ProviderRow> = match providers {
        None => Vec::new(),
        Some(p) if p.is_none() => Vec::new(),
        Some(p) => serde_json::from_value(py_to_value(p)?).map_err(|e| {
            errors::config(format!("providers must be a list of provider rows: {e}"))
        })?,
    };
    let catalog_json = match catalog {
        None => None,
        Some(c) if c.is_none() => None,
        Some(c) => Some(document(c, "catalog")?.to_string()),
    };
    let mut register: Vec<Registration> = Vec::new();
    if let Some(nodes) = nodes {
        for (kind, func) in nodes.iter() {
            let kind: String = kind.extract()?;
            if !func.is_callable() {
                return Err(errors::config(format!(
                    "node kind `{kind}`: expected a function, got a value"
                )));
            }
            let func = Arc::new(func.unbind());
            let loops = loops.clone();
            register.push(Box::new(move |r| {
                crate::pynode::register(r, kind, func, loops)
            }));
        }
    }
    if max_concurrency == Some(0) {
        return Err(errors::config("max_concurrency must be at least 1"));
    }
    Ok(lekhika::Config {
        store: store.map(|p| p.to_string_lossy().into_owned()),
        providers_from_env,
        providers_file,
        provider_rows,
        catalog_file: None,
        catalog_json,
        max_concurrency,
        lease: lease
            .map(lekhika::lease_seconds)
            .transpose()
            .map_err(errors::from_lekhika)?,
        register,
    })
}

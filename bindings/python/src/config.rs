//! `lekhika.open(...)` keyword arguments → the host API's `OpenSettings`
//! (the same JSON the Node package passes), plus the custom node kinds.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::{json, Value};

use crate::convert::py_to_value;
use crate::errors;
use crate::loops::Loops;

/// The catalog argument: a dict, JSON text, or a path (str or `os.PathLike`).
fn catalog_value(c: &Bound<'_, PyAny>) -> PyResult<Value> {
    if c.is_none() {
        return Ok(Value::Null);
    }
    if c.cast::<PyString>().is_err() && c.hasattr("__fspath__")? {
        let p: PathBuf = c.extract()?;
        return Ok(Value::String(p.to_string_lossy().into_owned()));
    }
    py_to_value(c)
}

#[allow(clippy::too_many_arguments)]
pub fn build(
    store: Option<PathBuf>,
    providers: Option<&Bound<'_, PyAny>>,
    providers_file: Option<PathBuf>,
    providers_from_env: bool,
    catalog: Option<&Bound<'_, PyAny>>,
    max_concurrency: Option<usize>,
    lease: Option<f64>,
    fallbacks: Option<&Bound<'_, PyAny>>,
    nodes: Option<&Bound<'_, PyDict>>,
    loops: &Loops,
) -> PyResult<lekhika::Config> {
    let opt = |v: Option<&Bound<'_, PyAny>>| v.map(py_to_value).transpose();
    let settings = json!({
        "store": store.map(|p| p.to_string_lossy().into_owned()),
        "providers": opt(providers)?.filter(|v| !v.is_null()).unwrap_or(json!([])),
        "providers_file": providers_file,
        "providers_from_env": providers_from_env,
        "catalog": catalog.map(catalog_value).transpose()?,
        "max_concurrency": max_concurrency,
        "lease": lease,
        "fallbacks": opt(fallbacks)?.filter(|v| !v.is_null()).unwrap_or(json!({})),
    });
    let mut cfg = lekhika::OpenSettings::from_json(settings)
        .and_then(lekhika::OpenSettings::into_config)
        .map_err(errors::from_lekhika)?;
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
            cfg.register.push(Box::new(move |r| {
                crate::pynode::register(r, kind, func, loops)
            }));
        }
    }
    Ok(cfg)
}

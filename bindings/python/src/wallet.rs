//! `Wallets`: token balances, grants, the ledger and tier policies
//! (`lk.wallets`). Every method is a coroutine.

use std::sync::Arc;

use lekhika_core::wallet::{TierPolicy, WalletStore};
use pyo3::prelude::*;
use serde::Serialize;

use crate::convert::{py_to_value, Json};
use crate::errors;

/// Wallets and tier policies of the engine's store.
#[pyclass(module = "lekhika", frozen)]
pub struct Wallets {
    pub store: Arc<dyn WalletStore>,
}

fn json<T: Serialize>(v: &T) -> Json {
    Json(serde_json::to_value(v).unwrap_or_default())
}

#[pymethods]
impl Wallets {
    /// The user's wallet (`balance`, `reserved`, `total_earned`, `total_spent`, `level`, ...), or None.
    fn show<'py>(&self, py: Python<'py>, user: String) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store.clone();
        crate::aio::spawn(py, async move {
            let w = store.wallet(&user).await.map_err(errors::from_store)?;
            Ok(json(&w))
        })
    }

    /// Add `amount` tokens (creates the wallet). Idempotent by `key`: a
    /// repeated key changes nothing. Returns the wallet.
    #[pyo3(signature = (user, amount, key = None, note = None))]
    fn grant<'py>(
        &self,
        py: Python<'py>,
        user: String,
        amount: i64,
        key: Option<String>,
        note: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if amount <= 0 {
            return Err(errors::config(format!(
                "grant amount must be positive, got {amount}"
            )));
        }
        let store = self.store.clone();
        let key = key.unwrap_or_else(|| format!("grant:{}", lekhika_core::util::new_id()));
        crate::aio::spawn(py, async move {
            let w = store
                .grant(&user, amount, &key, note.as_deref())
                .await
                .map_err(errors::from_store)?;
            Ok(json(&w))
        })
    }

    /// Set the user's tier level (None clears it); creates the wallet. Returns the wallet.
    #[pyo3(signature = (user, level))]
    fn set_level<'py>(
        &self,
        py: Python<'py>,
        user: String,
        level: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store.clone();
        crate::aio::spawn(py, async move {
            let w = store
                .set_level(&user, level.as_deref())
                .await
                .map_err(errors::from_store)?;
            Ok(json(&w))
        })
    }

    /// Ledger entries, oldest first (`kind` is grant, reserve, settle or release).
    #[pyo3(signature = (user, execution_id = None))]
    fn ledger<'py>(
        &self,
        py: Python<'py>,
        user: String,
        execution_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store.clone();
        crate::aio::spawn(py, async move {
            let l = store
                .ledger(&user, execution_id.as_deref())
                .await
                .map_err(errors::from_store)?;
            Ok(json(&l))
        })
    }

    /// The policy of a tier level, or None.
    fn tier_policy<'py>(&self, py: Python<'py>, level: String) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store.clone();
        crate::aio::spawn(py, async move {
            let p = store
                .tier_policy(&level)
                .await
                .map_err(errors::from_store)?;
            Ok(json(&p))
        })
    }

    /// Create or replace a tier policy: `{"level", "monthly_allocation",
    /// "per_execution_limit", "features": {"allowed_models",
    /// "allowed_node_kinds", "allowed_export_formats"}}`.
    fn put_tier_policy<'py>(
        &self,
        py: Python<'py>,
        policy: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = py_to_value(policy)?;
        let policy: TierPolicy = serde_json::from_value(value)
            .map_err(|e| errors::config(format!("tier policy: {e}")))?;
        let store = self.store.clone();
        crate::aio::spawn(py, async move {
            store
                .put_tier_policy(&policy)
                .await
                .map_err(errors::from_store)?;
            Ok(())
        })
    }

    /// Grant the tier's monthly allocation for `period` (e.g. "2026-11") once.
    fn ensure_period<'py>(
        &self,
        py: Python<'py>,
        user: String,
        period: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let store = self.store.clone();
        crate::aio::spawn(py, async move {
            let w = store
                .ensure_period(&user, &period)
                .await
                .map_err(errors::from_store)?;
            Ok(json(&w))
        })
    }
}

//! Wallets and tier policies: token balances, grants, the ledger. Every
//! method is a coroutine.

use pyo3::prelude::*;

use super::Lekhika;
use crate::convert::{py_to_value, Json};
use crate::errors;

#[pymethods]
impl Lekhika {
    /// The user's wallet (`balance`, `reserved`, `total_earned`, `total_spent`, `level`, ...), or None (unmetered).
    fn wallet<'py>(&self, py: Python<'py>, user: String) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let w = lk.wallet(&user).await.map_err(errors::from_lekhika)?;
            Ok(Json::of(&w))
        })
    }

    /// Add `amount` tokens (creates the wallet, turns metering on).
    /// Idempotent by `key`: a repeated key changes nothing. Returns the wallet.
    #[pyo3(signature = (user, amount, key = None, note = None))]
    fn grant<'py>(
        &self,
        py: Python<'py>,
        user: String,
        amount: i64,
        key: Option<String>,
        note: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let w = lk
                .grant(&user, amount, key.as_deref(), note.as_deref())
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json::of(&w))
        })
    }

    /// Set (or clear, with None) the user's tier level. Returns the wallet.
    fn set_tier<'py>(
        &self,
        py: Python<'py>,
        user: String,
        level: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let w = lk
                .set_tier(&user, level.as_deref())
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json::of(&w))
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
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let l = lk
                .ledger(&user, execution_id.as_deref())
                .await
                .map_err(errors::from_lekhika)?;
            Ok(Json::of(&l))
        })
    }

    /// A tier's policy (`monthly_allocation`, `per_execution_limit`, `features`), or None.
    fn tier_policy<'py>(&self, py: Python<'py>, level: String) -> PyResult<Bound<'py, PyAny>> {
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            let p = lk.tier_policy(&level).await.map_err(errors::from_lekhika)?;
            Ok(Json::of(&p))
        })
    }

    /// Create or replace a tier policy (`level`, `monthly_allocation`,
    /// `per_execution_limit`, `features`).
    fn put_tier_policy<'py>(
        &self,
        py: Python<'py>,
        policy: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let policy: lekhika_core::wallet::TierPolicy = serde_json::from_value(py_to_value(policy)?)
            .map_err(|e| errors::config(format!("tier policy: {e}")))?;
        let lk = self.inner.clone();
        crate::aio::spawn(py, async move {
            lk.put_tier_policy(&policy)
                .await
                .map_err(errors::from_lekhika)
        })
    }
}

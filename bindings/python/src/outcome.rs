//! `RunOutcome`: how a run ended.

use lekhika_core::RunOutcome as RsOutcome;
use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::{value_to_py, Json};

/// How a run ended: `status` is `completed`, `paused`, `stopped` or `failed`.
#[pyclass(module = "lekhika", frozen, from_py_object)]
#[derive(Clone)]
pub struct RunOutcome {
    pub inner: RsOutcome,
}

impl RunOutcome {
    pub fn new(inner: RsOutcome) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl RunOutcome {
    #[getter]
    fn execution_id(&self) -> &str {
        &self.inner.execution_id
    }
    /// `completed`, `paused`, `stopped` or `failed`.
    #[getter]
    fn status(&self) -> &'static str {
        self.inner.status.as_str()
    }
    /// Why it paused, stopped or failed, in words.
    #[getter]
    fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }
    /// Machine-readable: `insufficient_tokens`, `awaiting_approval`, `provider_error`, ...
    #[getter]
    fn reason(&self) -> Option<&str> {
        self.inner.reason.as_deref()
    }
    /// The node that paused or failed the run.
    #[getter]
    fn node(&self) -> Option<&str> {
        self.inner.node.as_deref()
    }
    /// `{"input_tokens": int, "output_tokens": int}` over the whole execution.
    #[getter]
    fn usage(&self) -> Json {
        Json(serde_json::to_value(self.inner.usage).unwrap_or_default())
    }
    /// Wallet tokens charged over the whole execution.
    #[getter]
    fn cost(&self) -> i64 {
        self.inner.cost
    }
    /// `{"code", "message", "retryable"}` of a failed run, else None.
    #[getter]
    fn failure(&self) -> Json {
        Json(serde_json::to_value(&self.inner.failure).unwrap_or_default())
    }
    /// The output waiting at an approval gate, else None.
    #[getter]
    fn review<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, self.inner.review.as_ref().unwrap_or(&Value::Null))
    }
    #[getter]
    fn ok(&self) -> bool {
        self.inner.status == lekhika_core::store::ExecutionStatus::Completed
    }
    /// Raise the matching `RunError` subclass unless the run completed.
    fn raise_for_status(&self, py: Python<'_>) -> PyResult<()> {
        match crate::errors::from_outcome(py, self) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
    /// Everything as a plain dict.
    fn to_dict(&self) -> Json {
        let mut v = serde_json::to_value(&self.inner).unwrap_or_default();
        if let Value::Object(m) = &mut v {
            m.insert(
                "failure".into(),
                serde_json::to_value(&self.inner.failure).unwrap_or_default(),
            );
            m.insert(
                "review".into(),
                self.inner.review.clone().unwrap_or_default(),
            );
        }
        Json(v)
    }
    fn __repr__(&self) -> String {
        format!(
            "RunOutcome(execution_id={:?}, status={:?}, reason={:?}, cost={})",
            self.inner.execution_id,
            self.inner.status.as_str(),
            self.inner.reason,
            self.inner.cost
        )
    }
}

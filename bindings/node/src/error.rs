//! The one error-mapping file: every Rust error the package can raise
//! becomes a JS `Error` whose message is a JSON payload
//! `{code, message, retryable, ...details}`. `errors.js` turns it into the
//! matching `LekhikaError` subclass, so JS callers see `err.code`,
//! `err.retryable` and, for flows and inputs, `err.problems`.

use lekhika::core::exec::EngineError;
use lekhika::core::store::StoreError;
use lekhika::LekhikaError;
use serde_json::{json, Value};

/// Marker the JS side looks for before parsing the payload.
pub const PREFIX: &str = "LEKHIKA_ERROR:";

/// A binding-level error: a stable code, a message and optional details.
#[derive(Debug, Clone, PartialEq)]
pub struct BindError {
    pub code: &'static str,
    pub message: String,
    pub retryable: bool,
    pub details: Value,
}

impl BindError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retryable: false,
            details: Value::Null,
        }
    }

    /// The caller passed something unusable (bad JSON, wrong shape). Fix and retry.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("invalid_argument", message)
    }

    fn with(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

impl From<StoreError> for BindError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        match e {
            StoreError::NotFound { .. } => Self::new("not_found", message),
            StoreError::Conflict(_) => Self::new("conflict", message),
            StoreError::Forbidden(_) => Self::new("forbidden", message),
            StoreError::Backend { retryable, .. } => Self {
                retryable,
                ..Self::new("store_error", message)
            },
        }
    }
}

impl From<EngineError> for BindError {
    fn from(e: EngineError) -> Self {
        let message = e.to_string();
        match e {
            EngineError::Flow(f) => {
                Self::new("flow_invalid", message).with(json!({ "problems": f.problems }))
            }
            EngineError::InvalidInput(p) => {
                Self::new("invalid_input", message).with(json!({ "problems": p }))
            }
            EngineError::TierDenied { level, problems } => Self::new("tier_denied", message)
                .with(json!({ "level": level, "problems": problems })),
            EngineError::MissingPrices(models) => {
                Self::new("missing_prices", message).with(json!({ "models": models }))
            }
            EngineError::UnknownNode(node) => {
                Self::new("unknown_node", message).with(json!({ "node": node }))
            }
            EngineError::InvalidState(_) => Self::new("invalid_state", message),
            EngineError::AlreadyCompleted(_) => Self::new("already_completed", message),
            EngineError::Busy {
                runner,
                expires_in_ms,
                ..
            } => Self {
                retryable: true,
                ..Self::new("busy", message)
                    .with(json!({ "runner": runner, "expires_in_ms": expires_in_ms }))
            },
            EngineError::Store(s) => s.into(),
            EngineError::Task(_) => Self::new("internal", message),
        }
    }
}

impl From<LekhikaError> for BindError {
    fn from(e: LekhikaError) -> Self {
        let message = e.to_string();
        match e {
            LekhikaError::Config(_) | LekhikaError::NoBook(_) => Self::new("config", message),
            LekhikaError::StoreOpen { .. } => Self::new("store_open", message),
            LekhikaError::Engine(e) => e.into(),
            LekhikaError::Store(s) => s.into(),
            LekhikaError::Export(_) => Self::new("export_failed", message),
            LekhikaError::Io(_) => Self::new("io_error", message),
        }
    }
}

impl From<BindError> for napi::Error {
    fn from(e: BindError) -> Self {
        let mut payload = json!({ "code": e.code, "message": e.message, "retryable": e.retryable });
        if let (Value::Object(p), Value::Object(d)) = (&mut payload, e.details) {
            p.extend(d);
        }
        napi::Error::new(napi::Status::GenericFailure, format!("{PREFIX}{payload}"))
    }
}

pub type BindResult<T> = std::result::Result<T, BindError>;

/// Map any error this crate raises to a JS error.
pub fn js<E: Into<BindError>>(e: E) -> napi::Error {
    e.into().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_errors_carry_their_problems() {
        let e = EngineError::Flow(lekhika::core::FlowError {
            problems: vec![lekhika::core::FlowProblem::node("a", "bad")],
        });
        let n: napi::Error = BindError::from(e).into();
        let v: Value = serde_json::from_str(n.reason.strip_prefix(PREFIX).unwrap()).unwrap();
        assert_eq!(v["code"], "flow_invalid");
        assert_eq!(v["problems"][0]["id"], "a");
    }

    #[test]
    fn backend_errors_keep_retryable() {
        let e = BindError::from(StoreError::Backend {
            message: "busy".into(),
            retryable: true,
        });
        assert_eq!((e.code, e.retryable), ("store_error", true));
    }
}

//! The one error-mapping file: every Rust error the package can raise
//! becomes a JS `Error` whose message is a JSON payload
//! `{code, message, retryable, ...details}` (`code` and `retryable` are the
//! host API's). `errors.js` turns it into the matching `LekhikaError`
//! subclass, so JS callers see `err.code`, `err.retryable` and, for flows
//! and inputs, `err.problems`.

use lekhika::core::exec::EngineError;
use lekhika::LekhikaError;
use serde_json::{json, Value};

/// Marker the JS side looks for before parsing the payload.
pub const PREFIX: &str = "LEKHIKA_ERROR:";

/// The JSON payload of a host API error.
pub fn payload(e: &LekhikaError) -> Value {
    let mut p = json!({ "code": e.code(), "message": e.to_string(), "retryable": e.retryable() });
    let details = match e {
        LekhikaError::Engine(EngineError::Flow(f)) => json!({ "problems": f.problems }),
        LekhikaError::Engine(EngineError::InvalidInput(p)) => json!({ "problems": p }),
        LekhikaError::Engine(EngineError::TierDenied { level, problems }) => {
            json!({ "level": level, "problems": problems })
        }
        LekhikaError::Engine(EngineError::MissingPrices(models)) => json!({ "models": models }),
        LekhikaError::Engine(EngineError::UnknownNode(node)) => json!({ "node": node }),
        LekhikaError::Engine(EngineError::Busy {
            runner,
            expires_in_ms,
            ..
        }) => json!({ "runner": runner, "expires_in_ms": expires_in_ms }),
        LekhikaError::StoreOpen { cause, .. } => json!({ "reason": cause }),
        _ => Value::Null,
    };
    if let (Value::Object(p), Value::Object(d)) = (&mut p, details) {
        p.extend(d);
    }
    p
}

/// Map a host API error to a JS error.
pub fn js(e: LekhikaError) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{PREFIX}{}", payload(&e)),
    )
}

/// An argument the binding itself cannot use.
pub fn invalid_argument(message: impl Into<String>) -> napi::Error {
    js(LekhikaError::InvalidArgument(message.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lekhika::core::store::StoreError;

    #[test]
    fn flow_errors_carry_their_problems() {
        let e = LekhikaError::Engine(EngineError::Flow(lekhika::core::FlowError {
            problems: vec![lekhika::core::FlowProblem::node("a", "bad")],
        }));
        let v = payload(&e);
        assert_eq!(v["code"], "invalid_flow");
        assert_eq!(v["problems"][0]["id"], "a");
    }

    #[test]
    fn backend_errors_keep_retryable() {
        let v = payload(&LekhikaError::Store(StoreError::Backend {
            message: "busy".into(),
            retryable: true,
        }));
        assert_eq!(
            (v["code"].as_str(), v["retryable"].as_bool()),
            (Some("store_error"), Some(true))
        );
    }
}

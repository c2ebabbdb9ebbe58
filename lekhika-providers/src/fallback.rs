//! [`FallbackTarget`]: where a provider's calls go when it fails with a
//! retryable error, as code, JSON (`"name"` or `{"provider", "model"}`) or
//! a command-line value (`NAME[:MODEL]`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Where to go when a provider fails with a retryable error after its own retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FallbackTarget {
    pub provider: String,
    /// Model to ask there; `None` keeps the request's model (two endpoints
    /// serving the same model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl FallbackTarget {
    pub fn new(provider: impl Into<String>, model: Option<&str>) -> Self {
        Self {
            provider: provider.into(),
            model: model.map(str::to_string),
        }
    }

    /// `NAME` or `NAME:MODEL` (the model may itself contain `:`, as in
    /// Ollama's `llama3.1:8b`). `None` when the name is empty.
    pub fn parse(s: &str) -> Option<Self> {
        let (name, model) = match s.split_once(':') {
            Some((n, m)) => (n.trim(), Some(m.trim()).filter(|m| !m.is_empty())),
            None => (s.trim(), None),
        };
        (!name.is_empty()).then(|| Self::new(name.to_ascii_lowercase(), model))
    }
}

const SHAPE: &str = "a fallback is a provider name or {\"provider\": NAME, \"model\": MODEL}";

impl<'de> Deserialize<'de> for FallbackTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = |v: Option<&Value>, what: &str| -> Result<Option<String>, D::Error> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
                Some(other) => Err(D::Error::custom(format!(
                    "fallback `{what}` must be a non-empty string, got {other}"
                ))),
            }
        };
        match Value::deserialize(d)? {
            Value::String(s) if !s.trim().is_empty() => {
                Ok(Self::new(s.trim().to_ascii_lowercase(), None))
            }
            Value::Object(m) => {
                if let Some(k) = m
                    .keys()
                    .find(|k| !matches!(k.as_str(), "provider" | "model"))
                {
                    return Err(D::Error::custom(format!(
                        "unknown key `{k}` in a fallback; {SHAPE}"
                    )));
                }
                let provider = text(m.get("provider"), "provider")?.ok_or_else(|| {
                    D::Error::custom(format!("a fallback needs `provider`; {SHAPE}"))
                })?;
                let model = text(m.get("model"), "model")?;
                Ok(Self::new(provider.to_ascii_lowercase(), model.as_deref()))
            }
            other => Err(D::Error::custom(format!("{SHAPE}, got {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_command_line_forms() {
        let v: Vec<FallbackTarget> = serde_json::from_value(
            json!(["Local", {"provider": "ollama", "model": "llama3.1:8b"}]),
        )
        .unwrap();
        assert_eq!(v[0], FallbackTarget::new("local", None));
        assert_eq!(v[1], FallbackTarget::new("ollama", Some("llama3.1:8b")));
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!([{"provider": "local"}, {"provider": "ollama", "model": "llama3.1:8b"}])
        );
        for bad in [
            json!(""),
            json!(3),
            json!({"provider": "x", "modle": "y"}),
            json!({"model": "y"}),
        ] {
            let e = serde_json::from_value::<FallbackTarget>(bad.clone()).unwrap_err();
            assert!(e.to_string().contains("fallback"), "{bad}: {e}");
        }
        assert_eq!(
            FallbackTarget::parse("ollama:llama3.1:8b"),
            Some(FallbackTarget::new("ollama", Some("llama3.1:8b")))
        );
        assert_eq!(
            FallbackTarget::parse("Local"),
            Some(FallbackTarget::new("local", None))
        );
        assert_eq!(
            FallbackTarget::parse("local:"),
            Some(FallbackTarget::new("local", None))
        );
        assert_eq!(FallbackTarget::parse(":m"), None);
    }
}

//! A providers file: a JSON list of [`ProviderRow`]s, read strictly. A key
//! the engine does not know is an error naming the row and the key (a typo
//! such as `"fallbak"` must not be ignored without a word).

use serde_json::Value;

use crate::config::ProviderRow;

/// Every key a row may have (aliases included).
pub const ROW_KEYS: &[&str] = &[
    "name",
    "kind",
    "api_key",
    "base_url",
    "is_active",
    "active",
    "user_id",
    "requests_per_minute",
    "tokens_per_minute",
    "fallback",
    "timeouts",
];

/// A providers file that cannot be used; fix the file (retrying cannot help).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvidersFileError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("expected a JSON list of provider rows, got {0}")]
    NotAList(&'static str),
    /// Rows are numbered from 1.
    #[error("row {row}{label}: unknown key `{key}` (a row may have: {known})")]
    UnknownKey {
        row: usize,
        label: String,
        key: String,
        known: String,
    },
    #[error("row {row}{label}: {message}")]
    BadRow {
        row: usize,
        label: String,
        message: String,
    },
}

/// The rows of a providers file.
pub fn parse_provider_rows(text: &str) -> Result<Vec<ProviderRow>, ProvidersFileError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| ProvidersFileError::NotJson(e.to_string()))?;
    let Value::Array(items) = v else {
        return Err(ProvidersFileError::NotAList(kind_of(&v)));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| row(i + 1, item))
        .collect()
}

fn row(row: usize, item: Value) -> Result<ProviderRow, ProvidersFileError> {
    let label = match item.get("name").and_then(Value::as_str) {
        Some(n) => format!(" (`{n}`)"),
        None => String::new(),
    };
    let Value::Object(map) = &item else {
        return Err(ProvidersFileError::BadRow {
            row,
            label,
            message: format!("expected an object, got {}", kind_of(&item)),
        });
    };
    if let Some(key) = map.keys().find(|k| !ROW_KEYS.contains(&k.as_str())) {
        return Err(ProvidersFileError::UnknownKey {
            row,
            label,
            key: key.clone(),
            known: ROW_KEYS.join(", "),
        });
    }
    serde_json::from_value(item).map_err(|e| ProvidersFileError::BadRow {
        row,
        label,
        message: e.to_string(),
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FallbackTarget;

    #[test]
    fn rows_with_fallbacks_and_strict_keys() {
        let rows = parse_provider_rows(
            r#"[{"name": "openai", "api_key": "k", "fallback": ["local", {"provider": "anthropic", "model": "claude-x"}]},
                {"name": "local", "base_url": "http://127.0.0.1:8089/v1", "active": true}]"#,
        )
        .unwrap();
        assert_eq!(
            rows[0].fallback,
            vec![
                FallbackTarget::new("local", None),
                FallbackTarget::new("anthropic", Some("claude-x"))
            ]
        );
        let e = parse_provider_rows(r#"[{"name": "a"}, {"name": "openai", "fallbak": ["a"]}]"#)
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("row 2 (`openai`): unknown key `fallbak`"),
            "{e}"
        );
        let e = parse_provider_rows(r#"[{"name": "openai", "fallback": [{"provider": ""}]}]"#)
            .unwrap_err();
        assert!(
            e.to_string().starts_with("row 1 (`openai`): fallback"),
            "{e}"
        );
        assert_eq!(
            parse_provider_rows("{}").unwrap_err(),
            ProvidersFileError::NotAList("an object")
        );
        assert!(matches!(
            parse_provider_rows("[3]").unwrap_err(),
            ProvidersFileError::BadRow { row: 1, .. }
        ));
    }

    #[test]
    fn every_key_a_row_writes_is_known() {
        let full = ProviderRow {
            name: "n".into(),
            kind: Some(crate::ProviderKind::OpenAi),
            api_key: Some("k".into()),
            base_url: Some("u".into()),
            is_active: true,
            user_id: Some("u".into()),
            requests_per_minute: Some(1),
            tokens_per_minute: Some(1),
            fallback: vec![FallbackTarget::new("x", None)],
            timeouts: Some(crate::config::TimeoutSecs {
                connect: Some(5.0),
                request: None,
                read: Some(1200.0),
            }),
        };
        let v = serde_json::to_value(&full).unwrap();
        for k in v.as_object().unwrap().keys() {
            assert!(ROW_KEYS.contains(&k.as_str()), "{k}");
        }
        let back = parse_provider_rows(&format!("[{v}]")).unwrap();
        assert_eq!(back[0].fallback, full.fallback);
        assert_eq!(back[0].timeouts, full.timeouts);
    }

    #[test]
    fn timeouts_from_the_row_and_longer_defaults_for_local_servers() {
        use std::time::Duration;
        let rows = parse_provider_rows(
            r#"[{"name": "openai", "api_key": "k"},
                {"name": "llama", "kind": "openai", "base_url": "http://localhost:8080/v1"},
                {"name": "lan", "kind": "openai", "base_url": "http://192.168.1.20:11434/v1"},
                {"name": "slow", "kind": "openai", "base_url": "https://vllm.example.com/v1",
                 "timeouts": {"read": 600, "request": 3600}}]"#,
        )
        .unwrap();
        let t: Vec<_> = rows.iter().map(|r| r.to_config().timeouts).collect();
        assert_eq!(t[0].read, Duration::from_secs(120), "a hosted API");
        assert_eq!(t[1].read, Duration::from_secs(900), "this machine");
        assert_eq!(t[1].request, Duration::from_secs(1800));
        assert_eq!(t[2].read, Duration::from_secs(900), "the local network");
        assert_eq!(t[3].read, Duration::from_secs(600), "as the row says");
        assert_eq!(t[3].request, Duration::from_secs(3600));
        assert_eq!(
            t[3].connect,
            Duration::from_secs(15),
            "the rest keep the defaults"
        );
        let bad = parse_provider_rows(r#"[{"name": "x", "timeouts": {"reed": 5}}]"#).unwrap_err();
        assert!(bad.to_string().contains("reed"), "{bad}");
    }
}

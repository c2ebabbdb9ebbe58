//! Provider defaults from environment variables (pure: takes the pairs).

use std::collections::BTreeMap;

use crate::config::{ProviderConfig, ProviderKind};

/// The env var prefix of a provider name (`ollama` -> `OLLAMA`).
pub(crate) fn prefix(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// What to set so that provider `name` exists.
pub(crate) fn hint_for(name: &str) -> String {
    let p = prefix(name);
    match ProviderKind::from_name(name) {
        ProviderKind::Gemini => "set GEMINI_API_KEY (optionally GEMINI_BASE_URL)".to_string(),
        ProviderKind::OpenAi if name.eq_ignore_ascii_case("openai") => {
            "set OPENAI_API_KEY (optionally OPENAI_BASE_URL)".to_string()
        }
        ProviderKind::OpenAi if name.eq_ignore_ascii_case("ollama") => {
            "set OLLAMA_BASE_URL (e.g. http://localhost:11434/v1)".to_string()
        }
        ProviderKind::OpenAi => format!(
            "set {p}_BASE_URL to its OpenAI-compatible endpoint (and {p}_API_KEY if it needs one)"
        ),
        _ => format!("set {p}_API_KEY (optionally {p}_BASE_URL)"),
    }
}

/// Configurations found in `vars`, in name order.
pub(crate) fn configs_from_vars(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Vec<ProviderConfig> {
    let vars: BTreeMap<String, String> = vars
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let get = |k: &str| vars.get(k).cloned();
    let mut out = Vec::new();
    let known = [
        ("openai", ProviderKind::OpenAi, "OPENAI"),
        ("anthropic", ProviderKind::Anthropic, "ANTHROPIC"),
        ("gemini", ProviderKind::Gemini, "GEMINI"),
        ("stability", ProviderKind::Stability, "STABILITY"),
    ];
    for (name, kind, p) in known {
        let mut key = get(&format!("{p}_API_KEY"));
        if kind == ProviderKind::Gemini {
            key = key.or_else(|| get("GOOGLE_API_KEY"));
        }
        let base = get(&format!("{p}_BASE_URL"));
        // A base URL alone is enough for OpenAI-compatible servers that need no key.
        let usable = key.is_some() || (kind == ProviderKind::OpenAi && base.is_some());
        if !usable {
            continue;
        }
        let mut cfg = ProviderConfig::new(name, kind, key.unwrap_or_default());
        if let Some(b) = base {
            cfg = cfg.with_base_url(b);
        }
        out.push(cfg);
    }
    let reserved = ["OPENAI", "ANTHROPIC", "GEMINI", "STABILITY", "GOOGLE"];
    for (k, base) in &vars {
        let Some(p) = k.strip_suffix("_BASE_URL") else {
            continue;
        };
        if p.is_empty() || reserved.contains(&p) || !base.starts_with("http") {
            continue;
        }
        let key = get(&format!("{p}_API_KEY")).unwrap_or_default();
        out.push(
            ProviderConfig::new(p.to_ascii_lowercase(), ProviderKind::OpenAi, key)
                .with_base_url(base.clone()),
        );
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn known_and_compatible_providers() {
        let c = configs_from_vars(vars(&[
            ("OPENAI_API_KEY", "sk-1"),
            ("ANTHROPIC_API_KEY", ""),
            ("GOOGLE_API_KEY", "g"),
            ("OLLAMA_BASE_URL", "http://localhost:11434/v1/"),
            ("PATH_BASE_URL", "/usr/bin"),
        ]));
        let names: Vec<_> = c.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["openai", "gemini", "ollama"]);
        assert_eq!(c[2].base_url, "http://localhost:11434/v1");
        assert_eq!(c[2].kind, ProviderKind::OpenAi);
        assert_eq!(c[0].base_url, "https://api.openai.com/v1");
    }

    #[test]
    fn hints_name_the_variable() {
        assert!(hint_for("anthropic").contains("ANTHROPIC_API_KEY"));
        assert!(hint_for("openai").contains("OPENAI_API_KEY"));
        assert!(hint_for("google").contains("GEMINI_API_KEY"));
        assert!(hint_for("my-vllm").contains("MY_VLLM_BASE_URL"));
    }
}

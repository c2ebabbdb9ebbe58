//! Per-node execution policy, parsed once from the generic config keys
//! `retry`, `timeout_ms` and `validate` that every node kind accepts.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::schema::check_schema;

/// Retries with exponential backoff and full jitter; a provider's
/// retry-after wins when it is longer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Total attempts, including the first.
    pub attempts: u32,
    pub base_ms: u64,
    pub max_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            base_ms: 500,
            max_ms: 30_000,
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
            .min(self.max_ms);
        let jittered = exp / 2 + fastrand::u64(0..=exp / 2);
        let d = Duration::from_millis(jittered);
        match retry_after {
            Some(r) if r > d => r,
            _ => d,
        }
    }
}

/// Checks on a node's output; a failure regenerates the node with the
/// message appended to its prompt, up to `attempts` times.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputValidator {
    pub min_words: Option<u64>,
    pub max_words: Option<u64>,
    /// Markdown headings (text after `#`s) that must appear.
    pub required_headings: Vec<String>,
    /// JSON schema the output must match (type, required, properties, items, enum, minItems, maxItems, minLength).
    pub json_schema: Option<Value>,
    /// Phrases that must not appear (case-insensitive).
    pub banned_phrases: Vec<String>,
    /// Regeneration attempts after a failed validation.
    pub attempts: Option<u32>,
}

impl OutputValidator {
    pub fn is_empty(&self) -> bool {
        self.min_words.is_none()
            && self.max_words.is_none()
            && self.required_headings.is_empty()
            && self.json_schema.is_none()
            && self.banned_phrases.is_empty()
    }

    /// All problems with `output`, as instructions a writer can act on.
    pub fn check(&self, output: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(schema) = &self.json_schema {
            problems.extend(check_schema(output, schema, "output"));
        }
        let text = match output {
            Value::String(s) => s.clone(),
            Value::Object(m) => m
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        };
        let words = crate::text::word_count(&text);
        if let Some(min) = self.min_words {
            if words < min {
                problems.push(format!("the text has {words} words; write at least {min}"));
            }
        }
        if let Some(max) = self.max_words {
            if words > max {
                problems.push(format!(
                    "the text has {words} words; keep it to at most {max}"
                ));
            }
        }
        for h in &self.required_headings {
            let found = text.lines().any(|l| {
                let t = l.trim_start();
                t.starts_with('#') && t.trim_start_matches('#').trim().eq_ignore_ascii_case(h)
            });
            if !found {
                problems.push(format!("add a heading `{h}`"));
            }
        }
        let lower = text.to_lowercase();
        for p in &self.banned_phrases {
            if !p.is_empty() && lower.contains(&p.to_lowercase()) {
                problems.push(format!("remove the stock phrase \"{p}\""));
            }
        }
        problems
    }
}

/// Everything the executor applies around one node.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodePolicy {
    pub retry: RetryPolicy,
    pub timeout: Option<Duration>,
    pub validate: OutputValidator,
}

impl NodePolicy {
    /// Take the generic keys out of a node's config.
    pub fn extract(config: &mut Map<String, Value>) -> Result<Self, String> {
        let mut p = NodePolicy::default();
        if let Some(v) = config.remove("retry") {
            p.retry = serde_json::from_value(v).map_err(|e| format!("`retry`: {e}"))?;
            if p.retry.attempts == 0 {
                return Err("`retry.attempts` must be at least 1".into());
            }
        }
        if let Some(v) = config.remove("timeout_ms") {
            let ms = v
                .as_u64()
                .ok_or("`timeout_ms` must be a positive integer")?;
            p.timeout = Some(Duration::from_millis(ms));
        }
        if let Some(v) = config.remove("validate") {
            p.validate = serde_json::from_value(v).map_err(|e| format!("`validate`: {e}"))?;
        }
        Ok(p)
    }
}

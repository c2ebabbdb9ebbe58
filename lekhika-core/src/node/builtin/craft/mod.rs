//! Book-craft helpers shared by the writer (`text`) and the whole-book
//! passes (`continuity`, `phrase_check`): `{placeholder}` filling of
//! prompts taken from flow data, the LongWriter length score, excerpts,
//! and the writer session that continues cut replies.

pub(crate) mod append;
pub(crate) mod degenerate;
pub(crate) mod estimate;
pub(crate) mod length;
pub(crate) mod nested;
pub(crate) mod review;
pub(crate) mod rewrite;
pub(crate) mod session;

use serde_json::Value;

/// Replace `{key}` placeholders in one pass (inserted values are never
/// scanned again, so text containing braces is safe). Unknown `{...}` stay.
pub(crate) fn fill(src: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(src.len() + 64);
    let mut rest = src;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let hit = after.find('}').and_then(|close| {
            let key = &after[..close];
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (v, close))
        });
        match hit {
            Some((v, close)) => {
                out.push_str(v);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// LongWriter's length score of `delivered` words for `requested`:
/// over by y/x: 100·max(0, 1−(y/x−1)/3); under: 100·max(0, 1−(x/y−1)/2).
pub fn length_score(requested: u64, delivered: u64) -> f64 {
    if requested == 0 {
        return if delivered == 0 { 100.0 } else { 0.0 };
    }
    if delivered == 0 {
        return 0.0;
    }
    let (x, y) = (requested as f64, delivered as f64);
    let s = if y >= x {
        1.0 - (y / x - 1.0) / 3.0
    } else {
        1.0 - (x / y - 1.0) / 2.0
    };
    (100.0 * s.max(0.0) * 10.0).round() / 10.0
}

/// The first `n` words of `text` (whitespace-separated).
pub(crate) fn head_words(text: &str, n: usize) -> String {
    text.split_whitespace()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The last `n` words of `text`.
pub(crate) fn tail_words(text: &str, n: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    words[words.len().saturating_sub(n)..].join(" ")
}

/// A chapter's text: a string, or an object's `text`/`content`/`markdown`/`chapter`.
pub(crate) fn chapter_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => ["text", "content", "markdown", "chapter"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str).map(str::to_string)),
        _ => None,
    }
}

/// A list value: an array, or an object's `chapters`/`items`/`sections`/`entries` array.
pub(crate) fn as_list(v: Value, what: &str) -> Result<Vec<Value>, crate::node::NodeError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Null => Ok(Vec::new()),
        Value::Object(mut m) => ["chapters", "items", "sections", "entries"]
            .iter()
            .find_map(|k| match m.remove(*k) {
                Some(Value::Array(a)) => Some(a),
                _ => None,
            })
            .ok_or_else(|| {
                crate::node::NodeError::InvalidOutput(format!(
                    "`{what}` is an object without a list"
                ))
            }),
        other => Err(crate::node::NodeError::InvalidOutput(format!(
            "`{what}` must be a list, got {}",
            crate::util::json_kind(&other)
        ))),
    }
}

/// Text of a JSON value for prompts: strings as is, others as JSON.
pub(crate) fn show(v: &Value) -> String {
    let mut s = String::new();
    crate::template::push_value(&mut s, v);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_once_and_keeps_unknown_braces() {
        let s = fill("{a} and {b} {c}", &[("a", "{b}".into()), ("b", "x".into())]);
        assert_eq!(s, "{b} and x {c}");
    }

    #[test]
    fn longwriter_score() {
        assert_eq!(length_score(1000, 1000), 100.0);
        assert_eq!(length_score(1000, 1300), 90.0);
        assert_eq!(length_score(1000, 500), 50.0);
        assert_eq!(length_score(1000, 4000), 0.0);
        assert_eq!(length_score(1000, 0), 0.0);
    }

    #[test]
    fn excerpts() {
        assert_eq!(head_words("a b c d", 2), "a b");
        assert_eq!(tail_words("a b c d", 3), "b c d");
        assert_eq!(tail_words("a", 3), "a");
    }
}

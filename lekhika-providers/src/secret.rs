//! API keys that never print.

use std::fmt;

/// An API key. `Debug` and `Display` print `[REDACTED]`; the key is only
/// read when a request header is built.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into().trim().to_string())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The key itself, for a request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced (a provider may echo it).
    ///
    /// A short key (a local server's placeholder such as `ollama` or
    /// `local`) is replaced only where it stands as a word of its own, so
    /// `http://localhost` stays readable with the key `local`; a real key is
    /// replaced wherever it appears.
    pub fn redact(&self, text: &str) -> String {
        let key = self.0.as_str();
        if key.len() < 4 {
            return text.to_string();
        }
        if key.len() >= SHORT_KEY {
            return text.replace(key, "[REDACTED]");
        }
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (at, _) in text.match_indices(key) {
            let before = text[..at].chars().next_back();
            let after = text[at + key.len()..].chars().next();
            if at < last || word(before) || word(after) {
                continue;
            }
            out.push_str(&text[last..at]);
            out.push_str("[REDACTED]");
            last = at + key.len();
        }
        out.push_str(&text[last..]);
        out
    }
}

/// Keys shorter than this are redacted as whole words only.
const SHORT_KEY: usize = 16;

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("ApiKey(none)")
        } else {
            f.write_str("ApiKey([REDACTED])")
        }
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl From<&str> for ApiKey {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for ApiKey {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::ApiKey;

    #[test]
    fn real_keys_everywhere_short_placeholders_as_words() {
        let real = ApiKey::new("sk-proj-abcdefghijklmnop1234");
        assert_eq!(
            real.redact(
                "bad key sk-proj-abcdefghijklmnop1234x at url?k=sk-proj-abcdefghijklmnop1234"
            ),
            "bad key [REDACTED]x at url?k=[REDACTED]"
        );
        let local = ApiKey::new("local");
        assert_eq!(
            local.redact("http://localhost:8090/v1 refused key local (local)"),
            "http://localhost:8090/v1 refused key [REDACTED] ([REDACTED])"
        );
        assert_eq!(ApiKey::new("abc").redact("abc"), "abc");
    }
}

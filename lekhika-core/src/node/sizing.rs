//! Arithmetic of cost estimates: sizes and work in two figures, *expected*
//! (replies as long as asked, the first try of every loop accepted) and
//! *worst* (every loop — regenerations, length passes, revisions, rounds,
//! pairs — at its limit, replies at the bound the flow sets), and a scope
//! that gives item variables the size of the item.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::EstimateScope;

/// Tokens per word of English prose (o200k/cl100k measure 1.25–1.35).
pub const TOKENS_PER_WORD: f64 = 1.35;

/// Tokens of `words` words of prose.
pub fn words_to_tokens(words: u64) -> u64 {
    (words as f64 * TOKENS_PER_WORD).ceil() as u64
}

/// Tokens of literal prompt text of `bytes` bytes (about 4 bytes a token).
pub fn literal_tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4)
}

/// A size in tokens: what is typical and what the flow allows at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenSpan {
    pub expected: u64,
    pub worst: u64,
}

impl TokenSpan {
    pub const ZERO: TokenSpan = TokenSpan {
        expected: 0,
        worst: 0,
    };

    pub fn new(expected: u64, worst: u64) -> Self {
        Self {
            expected,
            worst: worst.max(expected),
        }
    }

    /// The same size either way.
    pub fn exact(n: u64) -> Self {
        Self::new(n, n)
    }

    pub fn plus(self, o: TokenSpan) -> Self {
        Self {
            expected: self.expected.saturating_add(o.expected),
            worst: self.worst.saturating_add(o.worst),
        }
    }

    pub fn times(self, n: u64) -> Self {
        Self {
            expected: self.expected.saturating_mul(n),
            worst: self.worst.saturating_mul(n),
        }
    }

    /// One of `n` equal parts (at least 1 token when not empty).
    pub fn part(self, n: u64) -> Self {
        let n = n.max(1);
        Self {
            expected: self.expected.div_ceil(n),
            worst: self.worst.div_ceil(n),
        }
    }
}

/// Model work: calls and their total tokens, and for calls priced per
/// unit (images, characters narrated) the units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Work {
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default)]
    pub units: u64,
}

impl Work {
    /// `calls` calls of `input` prompt and `output` reply tokens each.
    pub fn calls(calls: u64, input: u64, output: u64) -> Self {
        Self {
            calls,
            input_tokens: input.saturating_mul(calls),
            output_tokens: output.saturating_mul(calls),
            units: 0,
        }
    }

    /// `calls` calls of `units` priced units (images, characters) each.
    pub fn units(calls: u64, units: u64) -> Self {
        Self {
            calls,
            units: units.saturating_mul(calls),
            ..Self::default()
        }
    }

    pub fn plus(self, o: Work) -> Self {
        Self {
            calls: self.calls.saturating_add(o.calls),
            input_tokens: self.input_tokens.saturating_add(o.input_tokens),
            output_tokens: self.output_tokens.saturating_add(o.output_tokens),
            units: self.units.saturating_add(o.units),
        }
    }

    pub fn times(self, n: u64) -> Self {
        Self {
            calls: self.calls.saturating_mul(n),
            input_tokens: self.input_tokens.saturating_mul(n),
            output_tokens: self.output_tokens.saturating_mul(n),
            units: self.units.saturating_mul(n),
        }
    }
}

/// A scope for work run per item (map items, a pass's checks and
/// rewrites): `item.*`, `previous`, `prev_item.*`, `next_item.*` have the
/// size of one item; everything else comes from `inner`.
pub struct ItemSized<'a> {
    pub inner: &'a dyn EstimateScope,
    pub item: TokenSpan,
}

impl EstimateScope for ItemSized<'_> {
    fn var_tokens(&self, path: &[String]) -> TokenSpan {
        match path.first().map(String::as_str) {
            Some("item" | "previous" | "prev_item" | "next_item") => self.item,
            _ => self.inner.var_tokens(path),
        }
    }
    fn input(&self, path: &[String]) -> Option<Value> {
        self.inner.input(path)
    }
    fn items(&self, path: &[String]) -> Option<u64> {
        self.inner.items(path)
    }
}

/// A number from a JSON value (a number or a numeric string).
pub fn as_count(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f.max(0.0) as u64))
        .or_else(|| {
            v.as_str()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map(|f| f.max(0.0) as u64)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_work_saturate() {
        let s = TokenSpan::new(10, 5);
        assert_eq!(s.worst, 10, "worst is never below expected");
        assert_eq!(TokenSpan::exact(u64::MAX).plus(s).worst, u64::MAX);
        assert_eq!(TokenSpan::new(10, 30).part(3), TokenSpan::new(4, 10));
        let w = Work::calls(3, 100, 10).plus(Work::calls(1, 5, 5)).times(2);
        assert_eq!((w.calls, w.input_tokens, w.output_tokens), (8, 610, 70));
        assert_eq!(words_to_tokens(1000), 1350);
        assert_eq!(as_count(&serde_json::json!("12")), Some(12));
    }
}

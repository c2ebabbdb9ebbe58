//! Estimates of a `text` node: the draft (with the continuations its size
//! needs), length passes, the reviewer and its revisions, in two figures
//! (see `node::sizing`):
//! - expected: a reply as long as the budget asks (else a quarter of
//!   `max_tokens`), accepted at once; one review;
//! - worst: every length pass, every revision with its own passes and
//!   review; a text under length control at `max_ratio` × its budget (a
//!   longer reply is tightened: those passes are counted), any other reply
//!   at twice its expected size.
//!
//! Guard rails that send invalid output back (regenerations, a reviewer
//! asked again for a score on its scale) are not in either figure, like
//! provider retries: they are rare, and counting every one as certain
//! would multiply the worst case by them.

use std::collections::BTreeMap;

use crate::node::builtin::text::TextNode;
use crate::node::sizing::{literal_tokens, words_to_tokens, TokenSpan, Work};
use crate::node::{CallEstimate, EstimateScope};
use crate::template::Template;

/// Tokens of a template: its literal text and its variables. Variables
/// under one root (`item.title` and `item.beats`; `nodes.plan.output.a` and
/// `nodes.plan.output.b`) count that root's size once: parts of one value
/// never add up to more than the value.
pub(crate) fn template_tokens(t: &Template, scope: &dyn EstimateScope) -> TokenSpan {
    let mut roots: BTreeMap<Vec<String>, TokenSpan> = BTreeMap::new();
    for p in t.variables() {
        let depth = if p.first().is_some_and(|r| r == "nodes") {
            2
        } else {
            1
        };
        let root = p[..depth.min(p.len())].to_vec();
        let size = scope.var_tokens(p);
        let e = roots.entry(root).or_insert(TokenSpan::ZERO);
        *e = TokenSpan::new(e.expected.max(size.expected), e.worst.max(size.worst));
    }
    roots.into_values().fold(
        TokenSpan::exact(literal_tokens(t.literal_bytes())),
        TokenSpan::plus,
    )
}

/// Writing one text of `size` tokens from a prompt of `prompt` tokens
/// (plus a `previous` text sent back), `max_tokens` per reply: each
/// continuation resends the text so far.
fn draft(prompt: u64, previous: u64, size: u64, max_tokens: u64) -> Work {
    let calls = size.div_ceil(max_tokens.max(1)).max(1);
    Work {
        calls,
        input_tokens: prompt
            .saturating_add(previous)
            .saturating_mul(calls)
            .saturating_add(size.saturating_mul(calls - 1)),
        output_tokens: size,
        units: 0,
    }
}

impl TextNode {
    /// The size of this node's text (expected, at most).
    pub(crate) fn text_size(&self, scope: &dyn EstimateScope) -> TokenSpan {
        let max = u64::from(self.max_tokens);
        let cap = max.saturating_mul(1 + u64::from(self.max_continuations));
        match self.length.as_ref() {
            Some(l) => match l.words_before_run(scope) {
                Some(words) => {
                    let t = words_to_tokens(words);
                    let worst = (t as f64 * l.max_ratio()).ceil() as u64;
                    TokenSpan::new(t.min(cap), worst.min(cap))
                }
                None => TokenSpan::new(max / 2, max),
            },
            // Structured answers sit far below the limit a flow sets for
            // its largest case; prose replies nearer to it. At worst twice
            // that (every reply at `max_tokens` would be a product of
            // maxima: each feeds the prompts after it).
            None if self.json => TokenSpan::new(max / 8, max / 4),
            None => TokenSpan::new(max / 4, max / 2),
        }
    }

    pub(crate) fn estimate_calls(&self, scope: &dyn EstimateScope) -> Vec<CallEstimate> {
        let max = u64::from(self.max_tokens);
        let mut prompt = template_tokens(&self.prompt, scope);
        if let Some(s) = &self.system {
            prompt = prompt.plus(template_tokens(s, scope));
        }
        if let Some(s) = &self.json_schema {
            prompt = prompt.plus(TokenSpan::exact(literal_tokens(s.size_bytes())));
        }
        let size = self.text_size(scope);
        let passes = self.length.as_ref().map_or(0, |l| u64::from(l.max_passes));
        let expected = draft(prompt.expected, 0, size.expected, max);
        let redraft = draft(prompt.worst, size.worst, size.worst, max);
        let revisions = self
            .review
            .as_ref()
            .map_or(0, |r| u64::from(r.max_revisions));
        let worst = draft(prompt.worst, 0, size.worst, max)
            .plus(redraft.times(passes))
            .plus(redraft.times(passes + 1).times(revisions));
        let mut out = vec![CallEstimate {
            provider: self.provider.clone(),
            model: self.model.clone(),
            expected,
            worst,
            ..CallEstimate::default()
        }];
        if let Some(r) = &self.review {
            let mut p = template_tokens(&r.prompt, scope);
            if let Some(s) = &r.system {
                p = p.plus(template_tokens(s, scope));
            }
            let p = p.plus(size);
            let out_max = u64::from(r.max_tokens());
            out.push(CallEstimate {
                provider: r.provider.clone(),
                model: r.model.clone(),
                expected: Work::calls(1, p.expected, out_max / 8),
                worst: Work::calls(1 + revisions, p.worst, out_max),
                ..CallEstimate::default()
            });
        }
        out
    }
}

/// The chapters a whole-book pass works on: how many, and their total size.
pub(crate) fn chapters_of(t: &Template, scope: &dyn EstimateScope) -> (u64, TokenSpan) {
    let n = t
        .variables()
        .find_map(|p| scope.items(p))
        .unwrap_or(1)
        .max(1);
    let size = t
        .variables()
        .map(|p| scope.var_tokens(p))
        .fold(TokenSpan::ZERO, TokenSpan::plus);
    (n, size)
}

/// A nested node config (a checker, a rewrite) run `expected` times in a
/// typical pass and `worst` times at most, its `item` of size `item`.
pub(crate) fn nested_runs(
    built: &crate::node::BuiltNode,
    scope: &dyn EstimateScope,
    item: TokenSpan,
    expected: u64,
    worst: u64,
) -> Vec<CallEstimate> {
    let sized = crate::node::sizing::ItemSized { inner: scope, item };
    built
        .node
        .estimate(&sized)
        .into_iter()
        .map(|c| CallEstimate {
            expected: c.expected.times(expected),
            worst: c.worst.times(worst),
            ..c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::draft;

    #[test]
    fn continuations_resend_the_text_so_far() {
        let w = draft(100, 0, 2500, 1000);
        assert_eq!((w.calls, w.output_tokens), (3, 2500));
        assert_eq!(w.input_tokens, 300 + 5000);
        assert_eq!(draft(100, 50, 10, 1000).input_tokens, 150);
    }
}

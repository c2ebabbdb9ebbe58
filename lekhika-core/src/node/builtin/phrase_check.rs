//! `phrase_check`: stock phrases ("slop") and repeated passages across a
//! whole book. Finds, per chapter, the phrases of the `phrases` list it uses,
//! the passages of at least `ngram` words it shares with an earlier
//! chapter, and degenerate text inside it (`within`: a sentence said again
//! and again, a passage the model looped on); each flagged chapter is rewritten with its hits as the
//! instruction (`{hits}` in `instruction`), then checked again, up to
//! `max_rounds` rounds. Chapters without hits are never touched.
//!
//! The rewrite is any node config (usually the writer's), run with `item` =
//! the outline chapter plus `draft` and `issue` (as in `continuity`).
//!
//! Output: `{chapters: [text], rewritten: [numbers], report: [...], remaining: [...]}`.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::craft::degenerate::{norm_words, repeats, Repeats};
use super::craft::estimate::{chapters_of, nested_runs, template_tokens};
use super::craft::nested::{build_inner, inner_vars};
use super::craft::rewrite::{chapter_texts, Draft};
use super::craft::{as_list, fill};
use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::{
    BuiltNode, CallEstimate, EstimateScope, Node, NodeContext, NodeError, NodeOutput, Registry,
    TokenSpan, VarUse,
};
use crate::template::Template;

fn d_ngram() -> usize {
    8
}
fn d_rounds() -> u32 {
    1
}
fn d_conc() -> usize {
    4
}
fn d_hits() -> usize {
    12
}

#[derive(Deserialize)]
struct Config {
    chapters: String,
    #[serde(default)]
    outline: Option<String>,
    /// Stock phrases to avoid (case-insensitive).
    #[serde(default)]
    phrases: Vec<String>,
    /// Shortest repeated passage that counts, in words (0 = no repetition check).
    #[serde(default = "d_ngram")]
    ngram: usize,
    /// A chapter is rewritten when it has at least this many hits.
    #[serde(default)]
    min_hits: Option<usize>,
    rewrite: Map<String, Value>,
    /// Appended to the rewrite's prompt; `{hits}` lists what to fix.
    instruction: String,
    #[serde(default = "d_rounds")]
    max_rounds: u32,
    #[serde(default = "d_conc")]
    concurrency: usize,
    /// Hits listed per chapter in the instruction.
    #[serde(default = "d_hits")]
    max_hits_listed: usize,
    /// Degenerate text inside one chapter.
    #[serde(default)]
    within: Within,
}

/// `within` of `phrase_check`: a sentence of at least `sentence_words`
/// words, or a passage of `loop_ngram` words, that occurs `times` times in
/// one chapter is a hit (`times: 0` turns the check off).
#[derive(Deserialize)]
#[serde(default)]
struct Within {
    times: usize,
    sentence_words: usize,
    loop_ngram: usize,
}

impl Default for Within {
    fn default() -> Self {
        let d = Repeats::default();
        Self {
            times: d.times,
            sentence_words: d.sentence_words,
            loop_ngram: d.loop_ngram,
        }
    }
}

pub struct PhraseCheckNode {
    chapters: Template,
    outline: Option<Template>,
    phrases: Vec<String>,
    ngram: usize,
    min_hits: usize,
    rewrite: BuiltNode,
    instruction: String,
    max_rounds: u32,
    concurrency: usize,
    max_hits_listed: usize,
    within: Repeats,
}

impl PhraseCheckNode {
    pub fn build(spec: &NodeSpec, registry: &Registry) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        let chapters = template("chapters", &c.chapters).map_err(|e| problems.push(e));
        let outline = c
            .outline
            .as_deref()
            .map(|s| template("outline", s))
            .transpose()
            .map_err(|e| problems.push(e));
        let rewrite =
            build_inner(spec, registry, "rewrite", c.rewrite).map_err(|e| problems.extend(e));
        if c.concurrency == 0 {
            problems.push("`concurrency` must be at least 1".into());
        }
        match (chapters, outline, rewrite) {
            (Ok(chapters), Ok(outline), Ok(rewrite)) if problems.is_empty() => Ok(Self {
                chapters,
                outline,
                phrases: c
                    .phrases
                    .into_iter()
                    .filter(|p| !p.trim().is_empty())
                    .collect(),
                ngram: c.ngram,
                min_hits: c.min_hits.unwrap_or(1).max(1),
                rewrite,
                instruction: c.instruction,
                max_rounds: c.max_rounds,
                concurrency: c.concurrency,
                max_hits_listed: c.max_hits_listed.max(1),
                within: Repeats {
                    times: c.within.times,
                    sentence_words: c.within.sentence_words,
                    loop_ngram: c.within.loop_ngram,
                },
            }),
            _ => Err(problems),
        }
    }
}

/// Stock phrases `text` uses.
pub(crate) fn phrase_hits(text: &str, phrases: &[String]) -> Vec<String> {
    let lower = text.to_lowercase();
    phrases
        .iter()
        .filter(|p| lower.contains(&p.to_lowercase()))
        .cloned()
        .collect()
}

/// Passages (≥ `n` words) of each chapter that also occur in an earlier
/// chapter: per chapter, `(earlier chapter index, passage)`.
pub(crate) fn repeated_passages(texts: &[String], n: usize) -> Vec<Vec<(usize, String)>> {
    let mut out = vec![Vec::new(); texts.len()];
    if n == 0 {
        return out;
    }
    let mut seen: HashMap<Vec<String>, usize> = HashMap::new();
    for (ci, t) in texts.iter().enumerate() {
        let w = norm_words(t);
        let mut i = 0;
        let mut mine: Vec<Vec<String>> = Vec::new();
        while i + n <= w.len() {
            let key = w[i..i + n].to_vec();
            match seen.get(&key) {
                Some(&src) if src < ci => {
                    // Extend the match as far as it goes, report it once.
                    let mut end = i + n;
                    while end < w.len() {
                        let k = w[end + 1 - n..=end].to_vec();
                        if seen.get(&k).is_some_and(|&s| s < ci) {
                            end += 1;
                        } else {
                            break;
                        }
                    }
                    out[ci].push((src, w[i..end].join(" ")));
                    for j in i..=end - n {
                        mine.push(w[j..j + n].to_vec());
                    }
                    i = end;
                }
                _ => {
                    mine.push(key);
                    i += 1;
                }
            }
        }
        for k in mine {
            seen.entry(k).or_insert(ci);
        }
    }
    out
}

#[async_trait]
impl Node for PhraseCheckNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let texts = chapter_texts(ctx.render_value(&self.chapters)?)?;
        let outline = match &self.outline {
            Some(t) => as_list(ctx.render_value(t)?, "outline")?,
            None => Vec::new(),
        };
        let mut draft = Draft::new(&outline, texts);
        let (mut report, mut remaining) = (Vec::new(), Vec::new());
        let mut rounds = 0;
        // Chapters with degenerate text of their own, as first found.
        let mut degenerate: Vec<usize> = Vec::new();
        loop {
            let across = repeated_passages(&draft.texts, self.ngram);
            let mut flagged: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            for (i, t) in draft.texts.iter().enumerate() {
                let mut hits: Vec<String> = phrase_hits(t, &self.phrases)
                    .into_iter()
                    .map(|p| format!("the stock phrase \"{p}\""))
                    .collect();
                let own = repeats(t, self.within);
                if !own.is_empty() && !degenerate.contains(&(i + 1)) {
                    degenerate.push(i + 1);
                }
                hits.extend(own.iter().map(|r| r.hit()));
                hits.extend(
                    across[i]
                        .iter()
                        .map(|(src, p)| format!("the passage \"{p}\" repeats chapter {}", src + 1)),
                );
                if hits.len() >= self.min_hits {
                    flagged.insert(i, hits);
                }
            }
            let last = flagged.is_empty() || rounds >= self.max_rounds;
            for (i, hits) in &flagged {
                let entry = json!({"round": rounds + 1, "chapter": i + 1, "hits": hits});
                if last {
                    remaining.push(entry);
                } else {
                    report.push(entry);
                }
            }
            if last {
                break;
            }
            rounds += 1;
            ctx.progress(format!(
                "revising {} chapters for stock phrases and repeats",
                flagged.len()
            ));
            let fixes = flagged
                .into_iter()
                .map(|(i, hits)| {
                    let list = hits
                        .iter()
                        .take(self.max_hits_listed)
                        .map(|h| format!("- {h}"))
                        .collect::<Vec<_>>()
                        .join("\n");
                    let instruction = fill(&self.instruction, &[("hits", list.clone())]);
                    (i, list, instruction)
                })
                .collect();
            draft
                .rewrite(ctx, &self.rewrite, fixes, self.concurrency)
                .await?;
        }
        let mut rewritten = draft.rewritten;
        rewritten.sort_unstable();
        Ok(NodeOutput {
            metrics: json!({
                "rounds": rounds,
                "rewritten": rewritten,
                "remaining": remaining.len(),
                "degenerate": degenerate,
                "rewrite_metrics": draft.metrics,
            }),
            output: json!({
                "chapters": draft.texts,
                "rewritten": rewritten,
                "report": report,
                "remaining": remaining,
            }),
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        for t in std::iter::once(&self.chapters).chain(self.outline.iter()) {
            uses(t, false, &mut v);
        }
        v.extend(inner_vars(&self.rewrite));
        v
    }

    fn models(&self) -> Vec<(String, String)> {
        self.rewrite.node.models()
    }

    fn estimate(&self, scope: &dyn EstimateScope) -> Vec<CallEstimate> {
        let (n, chapters) = chapters_of(&self.chapters, scope);
        let outline = self
            .outline
            .as_ref()
            .map_or(TokenSpan::ZERO, |t| template_tokens(t, scope).part(n));
        // Typical: no chapter needs it. At most: every chapter, every round.
        let chapter = chapters.part(n).plus(outline);
        nested_runs(
            &self.rewrite,
            scope,
            chapter,
            0,
            n * u64::from(self.max_rounds),
        )
    }

    fn output_tokens(&self, scope: &dyn EstimateScope) -> TokenSpan {
        chapters_of(&self.chapters, scope).1
    }

    fn output_items(&self, scope: &dyn EstimateScope) -> Option<u64> {
        Some(chapters_of(&self.chapters, scope).0)
    }

    fn override_model(&mut self, provider: Option<&str>, model: Option<&str>) {
        if let Some(node) = std::sync::Arc::get_mut(&mut self.rewrite.node) {
            node.override_model(provider, model);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeats_in_later_chapters_only() {
        let a = "The rain fell on the old harbour while the gulls cried over the grey water."
            .to_string();
        let b =
            "Morning came. The rain fell on the old harbour while the gulls cried, and she left."
                .to_string();
        let c = "Nothing here repeats anything at all in this chapter of the book.".to_string();
        let r = repeated_passages(&[a, b, c], 6);
        assert!(r[0].is_empty());
        assert_eq!(r[1].len(), 1);
        assert_eq!(r[1][0].0, 0);
        assert_eq!(
            r[1][0].1,
            "the rain fell on the old harbour while the gulls cried"
        );
        assert!(r[2].is_empty());
    }

    #[test]
    fn finds_stock_phrases() {
        let hits = phrase_hits(
            "A Tapestry of lies; she let out a breath she didn't know she was holding.",
            &[
                "tapestry of".into(),
                "a breath she didn't know".into(),
                "delve".into(),
            ],
        );
        assert_eq!(hits, vec!["tapestry of", "a breath she didn't know"]);
    }
}

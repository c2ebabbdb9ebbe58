//! `continuity`: after chapters were drafted in parallel, a checker model
//! compares each chapter's actual ending with the next chapter's opening
//! (plus the planned states, the recorded change states and whatever the
//! checker prompt adds, e.g. the story bible). Only chapters in a
//! contradicting pair are rewritten, with the contradiction as the
//! instruction; pairs touching a rewritten chapter are checked again, up to
//! `max_rounds` rewrite rounds. Checks and rewrites run concurrently.
//!
//! The checker is any node config (usually `text` with JSON output) run per
//! adjacent pair with `item` = `{earlier, later, earlier_number,
//! later_number, ending, opening, earlier_state, later_state}`; it must
//! answer `{"consistent": bool, "issue": "...", "fix": "earlier" | "later"
//! | "both"}` (`fix` defaults to `later`). The rewrite is any node config
//! (usually the writer's) run per flagged chapter with `item` = the outline
//! chapter plus `draft` (the current text) and `issue`, `prev_item` /
//! `next_item` = the neighbouring outline chapters, `previous` = the
//! previous chapter's current text; `instruction` (with `{issue}`) is
//! appended to its prompt.
//!
//! Output: `{chapters: [text], rewritten: [numbers], report: [...], unresolved: [...]}`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::craft::estimate::{chapters_of, nested_runs, template_tokens};
use super::craft::nested::{build_inner, inner_vars, run_all, Job};
use super::craft::rewrite::{chapter_texts, Draft};
use super::craft::{as_list, fill, head_words, show, tail_words};
use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::sizing::words_to_tokens;
use crate::node::{
    BuiltNode, CallEstimate, EstimateScope, ItemScope, Node, NodeContext, NodeError, NodeOutput,
    Registry, TokenSpan, VarUse,
};
use crate::template::Template;

fn d_window() -> usize {
    300
}
fn d_rounds() -> u32 {
    2
}
fn d_conc() -> usize {
    4
}

#[derive(Deserialize)]
struct Config {
    /// Single-variable template: the drafted chapters (texts).
    chapters: String,
    /// Single-variable template: the outline's chapters (same order).
    outline: String,
    /// Optional single-variable template: one change record per chapter.
    #[serde(default)]
    states: Option<String>,
    /// Node config run per adjacent pair.
    check: Map<String, Value>,
    /// Node config run per chapter to fix.
    rewrite: Map<String, Value>,
    /// Appended to the rewrite's prompt; `{issue}` is the contradiction.
    instruction: String,
    /// Words of each ending and opening shown to the checker.
    #[serde(default = "d_window")]
    window_words: usize,
    #[serde(default = "d_rounds")]
    max_rounds: u32,
    #[serde(default = "d_conc")]
    concurrency: usize,
}

pub struct ContinuityNode {
    chapters: Template,
    outline: Template,
    states: Option<Template>,
    check: BuiltNode,
    rewrite: BuiltNode,
    instruction: String,
    window: usize,
    max_rounds: u32,
    concurrency: usize,
}

impl ContinuityNode {
    pub fn build(spec: &NodeSpec, registry: &Registry) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        let chapters = template("chapters", &c.chapters).map_err(|e| problems.push(e));
        let outline = template("outline", &c.outline).map_err(|e| problems.push(e));
        let states = c
            .states
            .as_deref()
            .map(|s| template("states", s))
            .transpose()
            .map_err(|e| problems.push(e));
        let check = build_inner(spec, registry, "check", c.check).map_err(|e| problems.extend(e));
        let rewrite =
            build_inner(spec, registry, "rewrite", c.rewrite).map_err(|e| problems.extend(e));
        if c.concurrency == 0 || c.window_words == 0 {
            problems.push("`concurrency` and `window_words` must be at least 1".into());
        }
        match (chapters, outline, states, check, rewrite) {
            (Ok(chapters), Ok(outline), Ok(states), Ok(check), Ok(rewrite))
                if problems.is_empty() =>
            {
                Ok(Self {
                    chapters,
                    outline,
                    states,
                    check,
                    rewrite,
                    instruction: c.instruction,
                    window: c.window_words,
                    max_rounds: c.max_rounds,
                    concurrency: c.concurrency,
                })
            }
            _ => Err(problems),
        }
    }

    fn pair_scope(
        &self,
        i: usize,
        texts: &[String],
        outline: &[Value],
        states: &[Value],
    ) -> ItemScope {
        let at = |l: &[Value], k: usize| l.get(k).cloned().unwrap_or(Value::Null);
        ItemScope {
            index: i as u32,
            item: json!({
                "earlier": at(outline, i),
                "later": at(outline, i + 1),
                "earlier_number": i + 1,
                "later_number": i + 2,
                "ending": tail_words(&texts[i], self.window),
                "opening": head_words(&texts[i + 1], self.window),
                "earlier_state": at(states, i),
                "later_state": at(states, i + 1),
            }),
            ..ItemScope::default()
        }
    }
}

/// A checker's verdict: `None` when consistent, else (issue, fix earlier, fix later).
fn verdict(v: &Value) -> Result<Option<(String, bool, bool)>, NodeError> {
    let v = match v {
        Value::String(s) => super::json_reply::parse_reply(s).map_err(|e| {
            NodeError::InvalidOutput(format!("the continuity checker's reply is not JSON ({e})"))
        })?,
        other => other.clone(),
    };
    let consistent = v
        .get("consistent")
        .and_then(Value::as_bool)
        .ok_or_else(|| {
            NodeError::InvalidOutput(
                "the continuity checker's reply has no boolean `consistent`".into(),
            )
        })?;
    if consistent {
        return Ok(None);
    }
    let issue = v.get("issue").map(show).unwrap_or_default();
    let (earlier, later) = match v.get("fix").and_then(Value::as_str) {
        Some("earlier") => (true, false),
        Some("both") => (true, true),
        _ => (false, true),
    };
    Ok(Some((issue, earlier, later)))
}

#[async_trait]
impl Node for ContinuityNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let texts = chapter_texts(ctx.render_value(&self.chapters)?)?;
        let outline = as_list(ctx.render_value(&self.outline)?, "outline")?;
        let states = match &self.states {
            Some(t) => as_list(ctx.render_value(t)?, "states")?,
            None => Vec::new(),
        };
        let n = texts.len();
        let mut draft = Draft::new(&outline, texts);
        let mut to_check: Vec<usize> = (0..n.saturating_sub(1)).collect();
        let (mut report, mut unresolved) = (Vec::new(), Vec::new());
        let (mut checks, mut rounds) = (0usize, 0u32);
        loop {
            ctx.progress(format!("checking {} chapter joins", to_check.len()));
            let jobs: Vec<Job> = to_check
                .iter()
                .map(|&i| (i, self.pair_scope(i, &draft.texts, &outline, &states), None))
                .collect();
            checks += jobs.len();
            let results = run_all(ctx, &self.check, jobs, self.concurrency).await?;
            let mut flagged: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            for (i, r) in results {
                let Some((issue, earlier, later)) = verdict(&r.output)? else {
                    continue;
                };
                let mut fixes = Vec::new();
                for (yes, ch) in [(earlier, i), (later, i + 1)] {
                    if yes {
                        flagged.entry(ch).or_default().push(issue.clone());
                        fixes.push(ch + 1);
                    }
                }
                let entry = json!({"round": rounds + 1, "earlier": i + 1, "later": i + 2,
                    "issue": issue, "rewrite": fixes});
                if rounds >= self.max_rounds {
                    unresolved.push(entry);
                } else {
                    report.push(entry);
                }
            }
            if flagged.is_empty() || rounds >= self.max_rounds {
                break;
            }
            rounds += 1;
            ctx.progress(format!(
                "rewriting {} chapters (round {rounds})",
                flagged.len()
            ));
            let fixes = flagged
                .into_iter()
                .map(|(i, issues)| {
                    let issue = issues.join("\n");
                    let instruction = fill(&self.instruction, &[("issue", issue.clone())]);
                    (i, issue, instruction)
                })
                .collect();
            let mut next: Vec<usize> = Vec::new();
            for i in draft
                .rewrite(ctx, &self.rewrite, fixes, self.concurrency)
                .await?
            {
                // Both joins of a rewritten chapter are checked again.
                next.extend(i.checked_sub(1));
                if i + 1 < n {
                    next.push(i);
                }
            }
            next.sort_unstable();
            next.dedup();
            to_check = next;
        }
        let mut rewritten = draft.rewritten;
        rewritten.sort_unstable();
        let metrics = json!({
            "pairs_checked": checks,
            "rounds": rounds,
            "rewritten": rewritten,
            "unresolved": unresolved.len(),
            "rewrite_metrics": draft.metrics,
        });
        Ok(NodeOutput {
            output: json!({
                "chapters": draft.texts,
                "rewritten": rewritten,
                "report": report,
                "unresolved": unresolved,
            }),
            metrics,
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        for t in [&self.chapters, &self.outline]
            .into_iter()
            .chain(self.states.iter())
        {
            uses(t, false, &mut v);
        }
        v.extend(inner_vars(&self.check));
        v.extend(inner_vars(&self.rewrite));
        v
    }

    fn models(&self) -> Vec<(String, String)> {
        let mut m = self.check.node.models();
        m.extend(self.rewrite.node.models());
        m
    }

    fn estimate(&self, scope: &dyn EstimateScope) -> Vec<CallEstimate> {
        let (n, chapters) = chapters_of(&self.chapters, scope);
        let outline = template_tokens(&self.outline, scope).part(n);
        let states = self
            .states
            .as_ref()
            .map_or(TokenSpan::ZERO, |t| template_tokens(t, scope).part(n));
        let pairs = n.saturating_sub(1);
        // A check sees two windows, two outline entries and two states.
        let window = TokenSpan::exact(words_to_tokens(2 * self.window as u64));
        let check_item = window.plus(outline.times(2)).plus(states.times(2));
        // Typical: every join checked once, no contradiction. At most: every
        // round rewrites every chapter and checks every join again.
        let rounds = u64::from(self.max_rounds);
        let mut out = nested_runs(&self.check, scope, check_item, pairs, pairs * (1 + rounds));
        let chapter = chapters.part(n).plus(outline);
        out.extend(nested_runs(&self.rewrite, scope, chapter, 0, n * rounds));
        out
    }

    fn output_tokens(&self, scope: &dyn EstimateScope) -> TokenSpan {
        chapters_of(&self.chapters, scope).1
    }

    fn output_items(&self, scope: &dyn EstimateScope) -> Option<u64> {
        Some(chapters_of(&self.chapters, scope).0)
    }

    fn override_model(&mut self, provider: Option<&str>, model: Option<&str>) {
        for b in [&mut self.check, &mut self.rewrite] {
            if let Some(node) = std::sync::Arc::get_mut(&mut b.node) {
                node.override_model(provider, model);
            }
        }
    }
}

//! Critique and revise: a reviewer model scores the draft against a rubric
//! given in its prompt (data); while the score is under `threshold` the
//! writer revises with the reviewer's notes, at most `max_revisions` times,
//! stopping early when a revision improves the score by less than
//! `min_improvement` (a plateau). The best-scoring draft is kept; every
//! score is recorded in the node's metrics.
//!
//! Scores are held to their scale (`scale`, else the `score` bounds of the
//! review's `json_schema`, else 0–10): a reply outside it (a "2014" on a
//! 1–10 scale), like one that is not JSON or breaks the schema, is asked
//! again with the problem as feedback, and after three such replies the
//! node's output is invalid (regenerated), never a pass.

use serde::Deserialize;
use serde_json::{json, Value};

use super::fill;
use super::length::{Length, LengthReport};
use super::session::Session;
use crate::node::builtin::json_reply::parse_reply;
use crate::node::schema::{check_schema, shown};
use crate::node::{NodeContext, NodeError};
use crate::provider::{ChatMessage, OutputFormat, TextRequest};
use crate::template::Template;

fn d_revisions() -> u32 {
    2
}

/// `review` block of a `text` node.
#[derive(Deserialize)]
pub(crate) struct ReviewConfig {
    pub provider: String,
    pub model: String,
    #[serde(default)]
    system: Option<String>,
    /// Template (may use `{{item.*}}`); `{draft}` is replaced by the text under review.
    /// The reply must be JSON with a numeric `score` and `notes`.
    prompt: String,
    max_tokens: u32,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    json_schema: Option<Value>,
    threshold: f64,
    /// `[min, max]` of the score; default: the schema's `score` bounds, else `[0, 10]`.
    #[serde(default)]
    scale: Option<[f64; 2]>,
    #[serde(default = "d_revisions")]
    max_revisions: u32,
    /// A revision must raise the score by more than this, or the loop stops (plateau).
    #[serde(default)]
    min_improvement: f64,
    /// Sent to the writer with its draft; placeholders `{score}`, `{threshold}`, `{notes}`.
    revise_prompt: String,
}

pub(crate) struct Review {
    pub provider: String,
    pub model: String,
    pub system: Option<Template>,
    pub prompt: Template,
    max_tokens: u32,
    temperature: Option<f32>,
    json_schema: Option<Value>,
    threshold: f64,
    scale: [f64; 2],
    pub max_revisions: u32,
    min_improvement: f64,
    revise: String,
}

/// Why the loop stopped.
fn stop_name(passed: bool, capped: bool) -> &'static str {
    match (passed, capped) {
        (true, _) => "threshold",
        (false, true) => "cap",
        (false, false) => "plateau",
    }
}

impl Review {
    pub fn build(c: ReviewConfig) -> Result<Self, String> {
        if c.provider.trim().is_empty() || c.model.trim().is_empty() || c.max_tokens == 0 {
            return Err("`review` needs `provider`, `model` and `max_tokens` of at least 1".into());
        }
        let scale = c
            .scale
            .or_else(|| schema_scale(c.json_schema.as_ref()))
            .unwrap_or([0.0, 10.0]);
        let [lo, hi] = scale;
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err("`review.scale` must be [min, max] with min below max".into());
        }
        if !(lo..=hi).contains(&c.threshold) {
            return Err(format!(
                "`review.threshold` {} is outside the score scale {} to {}; set `review.scale`",
                shown(c.threshold),
                shown(lo),
                shown(hi)
            ));
        }
        Ok(Self {
            provider: c.provider,
            model: c.model,
            system: c
                .system
                .as_deref()
                .map(Template::parse)
                .transpose()
                .map_err(|e| format!("`review.system`: {e}"))?,
            prompt: Template::parse(&c.prompt).map_err(|e| format!("`review.prompt`: {e}"))?,
            max_tokens: c.max_tokens,
            temperature: c.temperature,
            json_schema: c.json_schema,
            threshold: c.threshold,
            scale,
            max_revisions: c.max_revisions,
            min_improvement: c.min_improvement,
            revise: c.revise_prompt,
        })
    }

    pub fn max_tokens(&self) -> u32 {
        self.max_tokens
    }

    async fn score(&self, ctx: &NodeContext, draft: &str) -> Result<(f64, String), NodeError> {
        let prompt = fill(&ctx.render(&self.prompt)?, &[("draft", draft.to_string())]);
        let system = self.system.as_ref().map(|t| ctx.render(t)).transpose()?;
        let req = TextRequest {
            provider: self.provider.clone(),
            model: self.model.clone(),
            system,
            messages: vec![ChatMessage::user(prompt)],
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            output: match &self.json_schema {
                Some(s) => OutputFormat::JsonSchema {
                    name: "review".into(),
                    schema: s.clone(),
                },
                None => OutputFormat::Json,
            },
            stream: false,
        };
        let mut last = String::new();
        for _ in 0..VERDICT_TRIES {
            let mut req = req.clone();
            if !last.is_empty() {
                if let Some(m) = req.messages.first_mut() {
                    m.content.push_str(&format!(
                        "\n\nYour previous answer could not be used: {last}. Answer again."
                    ));
                }
            }
            let resp = ctx.generate_text(&req).await?;
            match self.verdict(&resp.text) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    ctx.progress(format!("the reviewer's reply was rejected: {e}"));
                    last = e;
                }
            }
        }
        Err(NodeError::InvalidOutput(format!(
            "the reviewer's reply: {last}"
        )))
    }

    /// A reply's score and notes, held to the schema and the scale.
    fn verdict(&self, text: &str) -> Result<(f64, String), String> {
        let v: Value = parse_reply(text).map_err(|e| format!("not valid JSON ({e})"))?;
        if let Some(schema) = &self.json_schema {
            let problems = check_schema(&v, schema, "reply");
            if !problems.is_empty() {
                return Err(problems.join("; "));
            }
        }
        let (score, notes) = parse_verdict(&v)?;
        let [lo, hi] = self.scale;
        if !(lo..=hi).contains(&score) {
            return Err(format!(
                "the score {} is outside the scale {} to {}; give a score from {} to {}",
                shown(score),
                shown(lo),
                shown(hi),
                shown(lo),
                shown(hi)
            ));
        }
        Ok((score, notes))
    }

    /// Score, revise while under the threshold, return the best draft.
    pub async fn run(
        &self,
        s: &mut Session<'_>,
        mut text: String,
        length: Option<(&Length, u64)>,
        mut report: Option<LengthReport>,
    ) -> Result<(String, Option<LengthReport>, Value), NodeError> {
        let mut scores: Vec<f64> = Vec::new();
        let mut best: (f64, String, Option<LengthReport>) = (f64::MIN, String::new(), None);
        let mut revisions = 0;
        let (passed, capped) = loop {
            let (score, notes) = self.score(s.ctx, &text).await?;
            s.ctx.progress(format!(
                "review score {score} (threshold {})",
                self.threshold
            ));
            let improved = scores
                .last()
                .is_none_or(|p| score > p + self.min_improvement);
            scores.push(score);
            if score >= best.0 {
                best = (score, text.clone(), report.clone());
            }
            if score >= self.threshold {
                break (true, false);
            }
            if revisions >= self.max_revisions {
                break (false, true);
            }
            if !improved {
                break (false, false);
            }
            revisions += 1;
            let instruction = fill(
                &self.revise,
                &[
                    ("score", score.to_string()),
                    ("threshold", self.threshold.to_string()),
                    ("notes", notes),
                ],
            );
            text = s.write(Some((&text, &instruction))).await?;
            if let Some((l, requested)) = length {
                let (t, r) = l.control(s, text, requested).await?;
                text = t;
                report = Some(r);
            }
        };
        let metrics = json!({
            "review_scores": scores,
            "review_score": best.0,
            "revisions": revisions,
            "review_stop": stop_name(passed, capped),
        });
        Ok((best.1, best.2, metrics))
    }

    pub fn override_model(&mut self, provider: Option<&str>, model: Option<&str>) {
        if let Some(p) = provider {
            self.provider = p.to_string();
        }
        if let Some(m) = model {
            self.model = m.to_string();
        }
    }
}

/// Tries of the reviewer per score before the node's output is invalid.
pub(crate) const VERDICT_TRIES: usize = 3;

/// The `[minimum, maximum]` of the `score` property of a review schema.
fn schema_scale(schema: Option<&Value>) -> Option<[f64; 2]> {
    let score = schema?.pointer("/properties/score")?;
    Some([
        score.get("minimum")?.as_f64()?,
        score.get("maximum")?.as_f64()?,
    ])
}

/// `{"score": n, "notes": "..." | [...]}` from a reply's JSON.
fn parse_verdict(v: &Value) -> Result<(f64, String), String> {
    let score = match v.get("score") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|s: &f64| s.is_finite())
    .ok_or("no numeric `score`")?;
    let notes = match v.get("notes") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| format!("- {}", super::show(x)))
            .collect::<Vec<_>>()
            .join("\n"),
        Some(x) => super::show(x),
        None => String::new(),
    };
    Ok((score, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn review(extra: Value) -> Result<Review, String> {
        let mut c = json!({"provider": "p", "model": "m", "max_tokens": 10, "prompt": "{draft}",
            "threshold": 8, "revise_prompt": "r"});
        if let (Value::Object(c), Value::Object(e)) = (&mut c, extra) {
            c.extend(e);
        }
        Review::build(serde_json::from_value(c).unwrap())
    }

    #[test]
    fn parses_verdicts_within_their_scale() {
        let r = review(json!({"json_schema": {"type": "object", "properties":
            {"score": {"type": "number", "minimum": 1, "maximum": 10}}}}))
        .unwrap();
        assert_eq!(r.scale, [1.0, 10.0]);
        let (s, n) = r
            .verdict("```json\n{\"score\": 7.5, \"notes\": [\"a\", \"b\"]}\n```")
            .unwrap();
        assert_eq!(s, 7.5);
        assert_eq!(n, "- a\n- b");
        assert!(r.verdict("{\"notes\": \"x\"}").is_err());
        let e = r.verdict("{\"score\": 2014, \"notes\": []}").unwrap_err();
        assert!(e.contains("2014") && e.contains("1 to 10"), "{e}");
        let plain = review(json!({})).unwrap();
        assert_eq!(plain.scale, [0.0, 10.0]);
        assert!(plain.verdict("{\"score\": 11}").is_err());
        assert!(plain.verdict("{\"score\": \"9\"}").is_ok());
        let hundred = review(json!({"scale": [0, 100], "threshold": 80})).unwrap();
        assert!(hundred.verdict("{\"score\": 85}").is_ok());
        let bad = review(json!({"threshold": 80})).err().unwrap();
        assert!(bad.contains("outside the score scale 0 to 10"), "{bad}");
    }
}

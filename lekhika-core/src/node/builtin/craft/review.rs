//! Critique and revise: a reviewer model scores the draft against a rubric
//! given in its prompt (data); while the score is under `threshold` the
//! writer revises with the reviewer's notes, at most `max_revisions` times,
//! stopping early when a revision improves the score by less than
//! `min_improvement` (a plateau). The best-scoring draft is kept; every
//! score is recorded in the node's metrics.

use serde::Deserialize;
use serde_json::{json, Value};

use super::fill;
use super::length::{Length, LengthReport};
use super::session::Session;
use crate::node::builtin::json_reply::json_text;
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
        for _ in 0..2 {
            let resp = ctx.generate_text(&req).await?;
            match parse_verdict(&resp.text) {
                Ok(v) => return Ok(v),
                Err(e) => last = e,
            }
        }
        Err(NodeError::InvalidOutput(format!(
            "the reviewer's reply: {last}"
        )))
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

/// `{"score": n, "notes": "..." | [...]}` from a reply.
fn parse_verdict(text: &str) -> Result<(f64, String), String> {
    let v: Value =
        serde_json::from_str(json_text(text)).map_err(|e| format!("not valid JSON ({e})"))?;
    let score = match v.get("score") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
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
    #[test]
    fn parses_verdicts() {
        let (s, n) =
            super::parse_verdict("```json\n{\"score\": 7.5, \"notes\": [\"a\", \"b\"]}\n```")
                .unwrap();
        assert_eq!(s, 7.5);
        assert_eq!(n, "- a\n- b");
        assert!(super::parse_verdict("{\"notes\": \"x\"}").is_err());
    }
}

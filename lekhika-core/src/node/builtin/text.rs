//! `text`: one AI text call, configured entirely by data. A reply cut by
//! the output limit is continued (never kept truncated); JSON output is
//! parsed and checked against an optional schema. Book craft, all optional
//! and all data: `length` (expand/tighten toward a word budget, length
//! score in the metrics) and `review` (critique-and-revise loop with a
//! score gate, a cap and plateau detection).

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{json, Value};

use super::craft::length::{Length, LengthConfig};
use super::craft::review::{Review, ReviewConfig};
use super::craft::session::Session;
use super::json_reply::parse_reply;
use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::schema::check_schema;
use crate::node::schema_bounds::BoundSchema;
use crate::node::{
    CallEstimate, EstimateScope, Node, NodeContext, NodeError, NodeOutput, TokenSpan, VarUse,
};
use crate::provider::{ChatMessage, OutputFormat, TextRequest};
use crate::template::Template;

#[derive(Deserialize)]
struct Config {
    provider: String,
    model: String,
    #[serde(default)]
    system: Option<String>,
    prompt: String,
    #[serde(default)]
    temperature: Option<f32>,
    max_tokens: u32,
    /// `text` (default) or `json`.
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    json_schema: Option<Value>,
    #[serde(default)]
    stream: Option<bool>,
    /// How many times a reply cut by the output limit is continued.
    #[serde(default)]
    max_continuations: Option<u32>,
    /// The user turn sent to continue a cut reply.
    #[serde(default)]
    continue_prompt: Option<String>,
    /// Length control toward a word budget (see `craft::length`).
    #[serde(default)]
    length: Option<LengthConfig>,
    /// Critique-and-revise loop (see `craft::review`).
    #[serde(default)]
    review: Option<ReviewConfig>,
    /// Human label some editors keep in `data`.
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

pub struct TextNode {
    pub(crate) provider: String,
    pub(crate) model: String,
    pub(crate) system: Option<Template>,
    pub(crate) prompt: Template,
    temperature: Option<f32>,
    pub(crate) max_tokens: u32,
    pub(crate) json: bool,
    /// The reply's schema; its bounds may be templates (`{{input.chapters}}`).
    pub(crate) json_schema: Option<BoundSchema>,
    stream: bool,
    pub(crate) max_continuations: u32,
    pub(crate) continue_prompt: String,
    pub(crate) length: Option<Length>,
    pub(crate) review: Option<Review>,
}

impl TextNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        let system = c
            .system
            .as_deref()
            .map(|s| template("system", s))
            .transpose();
        let prompt = template("prompt", &c.prompt);
        let json = match c.output.as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(o) => {
                problems.push(format!("`output` must be `text` or `json`, not `{o}`"));
                false
            }
        };
        if c.max_tokens == 0 {
            problems.push("`max_tokens` must be at least 1".into());
        }
        if let Some(t) = c.temperature {
            if !(0.0..=2.0).contains(&t) {
                problems.push("`temperature` must be between 0 and 2".into());
            }
        }
        if c.provider.trim().is_empty() || c.model.trim().is_empty() {
            problems.push("`provider` and `model` must not be empty".into());
        }
        let is_json = json || c.json_schema.is_some();
        if is_json && (c.length.is_some() || c.review.is_some()) {
            problems.push("`length` and `review` apply to text output, not JSON".into());
        }
        let length = c.length.map(Length::build).transpose().unwrap_or_else(|e| {
            problems.push(e);
            None
        });
        let review = c.review.map(Review::build).transpose().unwrap_or_else(|e| {
            problems.push(e);
            None
        });
        let json_schema = c
            .json_schema
            .map(|s| BoundSchema::build(s, "json_schema"))
            .transpose()
            .unwrap_or_else(|e| {
                problems.extend(e);
                None
            });
        match (system, prompt) {
            (Ok(system), Ok(prompt)) if problems.is_empty() => Ok(Self {
                provider: c.provider,
                model: c.model,
                system,
                prompt,
                temperature: c.temperature,
                max_tokens: c.max_tokens,
                json: is_json,
                json_schema,
                stream: c.stream.unwrap_or(true),
                max_continuations: c.max_continuations.unwrap_or(4),
                continue_prompt: c.continue_prompt.unwrap_or_else(|| {
                    "Continue exactly where you stopped. Do not repeat anything.".into()
                }),
                length,
                review,
            }),
            (s, p) => {
                problems.extend(s.err());
                problems.extend(p.err());
                Err(problems)
            }
        }
    }

    /// A request of this node; `schema` is its schema as rendered for the run.
    pub(crate) fn request(
        &self,
        system: Option<String>,
        messages: Vec<ChatMessage>,
        schema: Option<&Value>,
    ) -> TextRequest {
        TextRequest {
            provider: self.provider.clone(),
            model: self.model.clone(),
            system,
            messages,
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            output: match (schema, self.json) {
                (Some(s), _) => OutputFormat::JsonSchema {
                    name: "output".into(),
                    schema: s.clone(),
                },
                (None, true) => OutputFormat::Json,
                _ => OutputFormat::Text,
            },
            stream: self.stream,
        }
    }
}

#[async_trait]
impl Node for TextNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let system = self.system.as_ref().map(|t| ctx.render(t)).transpose()?;
        let mut prompt = ctx.render(&self.prompt)?;
        if let Some(extra) = ctx.instruction() {
            prompt.push_str("\n\n");
            prompt.push_str(extra);
        }
        let schema = self
            .json_schema
            .as_ref()
            .map(|s| s.render(ctx))
            .transpose()?;
        let mut s = Session::new(ctx, self, system, prompt, schema);
        let mut text = s.write(None).await?;
        let mut metrics = serde_json::Map::new();
        if self.json {
            let v: Value = parse_reply(&text).map_err(|e| {
                NodeError::InvalidOutput(format!(
                    "the reply is not valid JSON ({e}); answer with JSON only"
                ))
            })?;
            if let Some(schema) = &s.schema {
                let problems = check_schema(&v, schema, "output");
                if !problems.is_empty() {
                    return Err(NodeError::InvalidOutput(problems.join("; ")));
                }
            }
            return Ok(NodeOutput {
                output: v,
                metrics: base_metrics(&s, &text, metrics),
            });
        }
        let requested = match &self.length {
            Some(l) => l.requested(ctx)?.map(|r| (l, r)),
            None => None,
        };
        let mut report = None;
        if let Some((l, r)) = requested {
            let (t, rep) = l.control(&mut s, text, r).await?;
            text = t;
            report = Some(rep);
        }
        if let Some(review) = &self.review {
            let (t, rep, m) = review.run(&mut s, text, requested, report).await?;
            text = t;
            report = rep;
            if let Value::Object(m) = m {
                metrics.extend(m);
            }
        }
        if let Some(Value::Object(m)) = report.map(|r| r.metrics()) {
            metrics.extend(m);
        }
        Ok(NodeOutput {
            metrics: base_metrics(&s, &text, metrics),
            output: Value::String(text),
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        uses(&self.prompt, false, &mut v);
        if let Some(s) = &self.system {
            uses(s, false, &mut v);
        }
        if let Some(s) = &self.json_schema {
            s.variables(&mut v);
        }
        if let Some(l) = &self.length {
            for t in l.templates() {
                uses(t, false, &mut v);
            }
            l.append_variables(&mut v);
        }
        if let Some(r) = &self.review {
            uses(&r.prompt, false, &mut v);
            if let Some(s) = &r.system {
                uses(s, false, &mut v);
            }
        }
        v
    }

    fn models(&self) -> Vec<(String, String)> {
        let mut m = vec![(self.provider.clone(), self.model.clone())];
        if let Some(r) = &self.review {
            m.push((r.provider.clone(), r.model.clone()));
        }
        m
    }

    fn estimate(&self, scope: &dyn EstimateScope) -> Vec<CallEstimate> {
        self.estimate_calls(scope)
    }

    fn output_tokens(&self, scope: &dyn EstimateScope) -> TokenSpan {
        self.text_size(scope)
    }

    fn override_model(&mut self, provider: Option<&str>, model: Option<&str>) {
        if let Some(p) = provider {
            self.provider = p.to_string();
        }
        if let Some(m) = model {
            self.model = m.to_string();
        }
        if let Some(r) = &mut self.review {
            r.override_model(provider, model);
        }
    }
}

/// Words, continuations and tokens of the whole session, plus `extra`.
fn base_metrics(s: &Session<'_>, text: &str, extra: serde_json::Map<String, Value>) -> Value {
    let mut m = json!({
        "words": crate::text::word_count(text),
        "continuations": s.continuations,
        "calls": s.calls,
        "input_tokens": s.usage.input_tokens,
        "output_tokens": s.usage.output_tokens,
    });
    if let Value::Object(o) = &mut m {
        o.extend(extra);
    }
    m
}

//! `image`: one image generation call (e.g. a book cover). Output
//! `{mime, base64}`, the shape `compile`'s `cover` takes.

use async_trait::async_trait;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::{EstimateScope, Node, NodeContext, NodeError, NodeOutput, VarUse};
use crate::provider::ImageRequest;
use crate::template::Template;

#[derive(Deserialize)]
struct Config {
    provider: String,
    model: String,
    prompt: String,
    #[serde(default)]
    negative_prompt: Option<String>,
    /// `1024x1536` style size (OpenAI).
    #[serde(default)]
    size: Option<String>,
    /// `2:3` style aspect ratio (Stability).
    #[serde(default)]
    aspect_ratio: Option<String>,
    /// `png`, `jpeg` or `webp`.
    #[serde(default)]
    output_format: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

pub struct ImageNode {
    provider: String,
    model: String,
    prompt: Template,
    negative_prompt: Option<Template>,
    size: Option<String>,
    aspect_ratio: Option<String>,
    output_format: Option<String>,
    seed: Option<u64>,
}

impl ImageNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        if c.provider.trim().is_empty() || c.model.trim().is_empty() {
            problems.push("`provider` and `model` must not be empty".to_string());
        }
        if let Some(f) = &c.output_format {
            if !["png", "jpeg", "webp"].contains(&f.as_str()) {
                problems.push(format!(
                    "`output_format` must be png, jpeg or webp, not `{f}`"
                ));
            }
        }
        let prompt = template("prompt", &c.prompt).map_err(|e| problems.push(e));
        let negative = c
            .negative_prompt
            .as_deref()
            .map(|t| template("negative_prompt", t))
            .transpose()
            .map_err(|e| problems.push(e));
        match (prompt, negative) {
            (Ok(prompt), Ok(negative_prompt)) if problems.is_empty() => Ok(Self {
                provider: c.provider,
                model: c.model,
                prompt,
                negative_prompt,
                size: c.size,
                aspect_ratio: c.aspect_ratio,
                output_format: c.output_format,
                seed: c.seed,
            }),
            _ => Err(problems),
        }
    }
}

#[async_trait]
impl Node for ImageNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let mut prompt = ctx.render(&self.prompt)?;
        if let Some(extra) = ctx.instruction() {
            prompt.push_str("\n\n");
            prompt.push_str(extra);
        }
        let req = ImageRequest {
            provider: self.provider.clone(),
            model: self.model.clone(),
            prompt,
            negative_prompt: self
                .negative_prompt
                .as_ref()
                .map(|t| ctx.render(t))
                .transpose()?,
            size: self.size.clone(),
            aspect_ratio: self.aspect_ratio.clone(),
            output_format: self.output_format.clone(),
            seed: self.seed,
        };
        let resp = ctx.generate_image(&req).await?;
        let Some(img) = resp.images.into_iter().next() else {
            return Err(NodeError::InvalidOutput(
                "the provider returned no image".into(),
            ));
        };
        Ok(NodeOutput {
            metrics: json!({"bytes": img.bytes.len(), "mime": img.mime}),
            output: json!({
                "mime": img.mime,
                "base64": base64::engine::general_purpose::STANDARD.encode(&img.bytes),
            }),
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        uses(&self.prompt, false, &mut v);
        if let Some(t) = &self.negative_prompt {
            uses(t, false, &mut v);
        }
        v
    }

    fn models(&self) -> Vec<(String, String)> {
        vec![(self.provider.clone(), self.model.clone())]
    }

    fn model_calls(&self) -> Vec<(String, String, crate::store::CallKind)> {
        vec![(
            self.provider.clone(),
            self.model.clone(),
            crate::store::CallKind::Image,
        )]
    }

    fn output_tokens(&self, _scope: &dyn EstimateScope) -> crate::node::TokenSpan {
        crate::node::TokenSpan::exact(64)
    }

    /// One image, priced per image.
    fn estimate(&self, _scope: &dyn EstimateScope) -> Vec<crate::node::CallEstimate> {
        vec![crate::node::CallEstimate {
            kind: crate::store::CallKind::Image,
            provider: self.provider.clone(),
            model: self.model.clone(),
            expected: crate::node::Work::units(1, 1),
            worst: crate::node::Work::units(1, 1),
        }]
    }

    fn override_model(&mut self, _provider: Option<&str>, _model: Option<&str>) {
        // A run-wide text model override does not apply to image models.
    }
}

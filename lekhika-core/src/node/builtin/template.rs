//! `template`: render text (or pick a value) from inputs and upstream
//! outputs, without calling a model. Useful for assembling prompts,
//! briefs and metadata.

use async_trait::async_trait;
use serde::Deserialize;

use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::{EstimateScope, Node, NodeContext, NodeError, NodeOutput, VarUse};
use crate::template::Template;

#[derive(Deserialize)]
struct Config {
    template: String,
}

pub struct TemplateNode {
    template: Template,
}

impl TemplateNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        Ok(Self {
            template: template("template", &c.template).map_err(|e| vec![e])?,
        })
    }
}

#[async_trait]
impl Node for TemplateNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        Ok(NodeOutput::new(ctx.render_value(&self.template)?))
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        uses(&self.template, false, &mut v);
        v
    }

    fn output_tokens(&self, scope: &dyn EstimateScope) -> crate::node::TokenSpan {
        super::craft::estimate::template_tokens(&self.template, scope)
    }
}

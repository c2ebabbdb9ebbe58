//! `approval`: a human review point. The run pauses (reason
//! `awaiting_approval`) showing the upstream output; the host approves it
//! (optionally edited) or rejects it with an instruction, which
//! regenerates the reviewed node. Its output is the approved value, so
//! downstream nodes read `nodes.GATE.output`.
//!
//! `when` (a template, e.g. `{{input.review_outline}}`) makes the gate
//! optional: when it renders empty, `false`, `no` or `0` the output passes
//! through without pausing.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::{Node, NodeContext, NodeError, NodeOutput, VarUse};
use crate::template::Template;

#[derive(Deserialize, Default)]
struct Config {
    /// Shown to the reviewer.
    #[serde(default)]
    #[allow(dead_code)]
    prompt: Option<String>,
    /// Pause only when this renders truthy.
    #[serde(default)]
    when: Option<String>,
}

pub struct ApprovalNode {
    when: Option<Template>,
}

impl ApprovalNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let when = c
            .when
            .as_deref()
            .map(|w| template("when", w))
            .transpose()
            .map_err(|e| vec![e])?;
        Ok(Self { when })
    }
}

fn falsy(s: &str) -> bool {
    matches!(
        s.trim().to_ascii_lowercase().as_str(),
        "" | "false" | "no" | "0" | "off"
    )
}

#[async_trait]
impl Node for ApprovalNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let skip = match &self.when {
            Some(t) => falsy(&ctx.render(t)?),
            None => false,
        };
        let approval = ctx.run.approvals.get(ctx.node_id());
        if approval.is_none() && !skip {
            return Err(NodeError::AwaitingApproval);
        }
        if let Some(edited) = approval
            .and_then(|a| a.get("edited"))
            .filter(|v| !v.is_null())
        {
            return Ok(NodeOutput {
                output: edited.clone(),
                metrics: serde_json::json!({"edited": true}),
            });
        }
        let ups = ctx.upstream_outputs();
        let output = match ups.as_slice() {
            [(_, one)] => (**one).clone(),
            many => Value::Array(many.iter().map(|(_, v)| (**v).clone()).collect()),
        };
        Ok(NodeOutput {
            output,
            metrics: serde_json::json!({"edited": false, "reviewed": !skip}),
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        if let Some(t) = &self.when {
            uses(t, false, &mut v);
        }
        v
    }

    fn passes_through(&self) -> bool {
        true
    }
}

//! `approval`: a human review point. The run pauses (reason
//! `awaiting_approval`) showing the upstream output; the host approves it
//! (optionally edited) or rejects it with an instruction, which
//! regenerates the reviewed node. Its output is the approved value, so
//! downstream nodes read `nodes.GATE.output`.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::parse_config;
use crate::flow::NodeSpec;
use crate::node::{EstimateScope, Node, NodeContext, NodeError, NodeOutput};

#[derive(Deserialize, Default)]
struct Config {
    /// Shown to the reviewer.
    #[serde(default)]
    #[allow(dead_code)]
    prompt: Option<String>,
}

pub struct ApprovalNode;

impl ApprovalNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let _: Config = parse_config(spec)?;
        Ok(Self)
    }
}

#[async_trait]
impl Node for ApprovalNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let Some(approval) = ctx.run.approvals.get(ctx.node_id()) else {
            return Err(NodeError::AwaitingApproval);
        };
        if let Some(edited) = approval.get("edited").filter(|v| !v.is_null()) {
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
            metrics: serde_json::json!({"edited": false}),
        })
    }

    fn output_tokens_bound(&self, _scope: &dyn EstimateScope) -> u64 {
        0
    }
}

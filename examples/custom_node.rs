//! A custom node kind: `shout` upper-cases its upstream text. Registered
//! like the built-ins, configured by the flow's data, run by the executor.
//!
//!     cargo run -p lekhika --example custom_node

use std::sync::Arc;

use async_trait::async_trait;
use lekhika::core::flow::NodeSpec;
use lekhika::core::memory_store::MemoryStore;
use lekhika::core::testing::ScriptedModel;
use lekhika::core::{Engine, Node, NodeContext, NodeError, NodeOutput, RunOptions};
use serde_json::{json, Value};

/// Upper-cases the text of its upstream node, adding a configured suffix.
struct Shout {
    suffix: String,
}

#[async_trait]
impl Node for Shout {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let text: String = ctx
            .upstream_outputs()
            .iter()
            .filter_map(|(_, v)| v.as_str().map(str::to_string))
            .collect::<Vec<_>>()
            .join("\n");
        ctx.progress(format!("shouting {} characters", text.len()));
        Ok(NodeOutput::new(Value::String(format!(
            "{}{}",
            text.to_uppercase(),
            self.suffix
        ))))
    }
}

fn build(spec: &NodeSpec) -> Result<Box<dyn Node>, Vec<String>> {
    match spec.config.get("suffix") {
        None => Ok(Box::new(Shout {
            suffix: String::new(),
        })),
        Some(Value::String(s)) => Ok(Box::new(Shout { suffix: s.clone() })),
        Some(_) => Err(vec!["`suffix` must be a string".into()]),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = ScriptedModel::new(|_, _| Ok(ScriptedModel::reply("a quiet line of verse", 10, 5)));
    let store = Arc::new(MemoryStore::new());
    let engine = Engine::builder(model, store.clone())
        .register(|r| r.register("shout", |spec, _| build(spec)))
        .build();
    let flow = json!({
        "nodes": [
            {"id": "poem", "type": "text", "data": {"provider": "scripted", "model": "m", "max_tokens": 50, "prompt": "Write one line."}},
            {"id": "loud", "type": "shout", "data": {"suffix": "!"}}
        ],
        "edges": [{"id": "e", "source": "poem", "target": "loud"}]
    });
    let outcome = engine
        .start("me", &flow, &json!({}), &RunOptions::default())
        .await?
        .wait()
        .await?;
    use lekhika::core::store::ExecutionStore;
    for (key, result) in store.node_results("me", &outcome.execution_id).await? {
        println!("{}: {}", key.node, result.output);
    }
    println!("status: {:?}", outcome.status);
    Ok(())
}

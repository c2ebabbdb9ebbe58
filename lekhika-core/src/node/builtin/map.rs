//! `map`: dynamic fan-out. Runs a node template once per item of a list
//! produced upstream (e.g. one writer per outlined chapter), with its own
//! concurrency limit. Results come back in item order; every finished item
//! is checkpointed, so a resume runs only the items that had not finished.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::{parse_config, template, uses};
use crate::exec::attempt::run_item;
use crate::flow::NodeSpec;
use crate::node::{
    BuiltNode, CallEstimate, EstimateScope, ItemScope, Node, NodeContext, NodeError, NodeOutput,
    Registry, VarUse,
};
use crate::template::Template;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// A single-variable template giving the list (or a count).
    items: String,
    /// The node run per item: `{"kind": "text", ...config}`.
    node: Map<String, Value>,
    #[serde(default)]
    concurrency: Option<usize>,
    /// Run items one after another, giving each `previous` and `results`.
    #[serde(default)]
    sequential: bool,
    /// For estimates before the list exists: a number or a template such as `{{input.chapters}}`.
    #[serde(default)]
    expected_items: Option<Value>,
}

pub struct MapNode {
    items: Template,
    template: BuiltNode,
    concurrency: usize,
    sequential: bool,
    expected_items: Option<Value>,
}

impl MapNode {
    pub fn build(spec: &NodeSpec, registry: &Registry) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let items = template("items", &c.items).map_err(|e| vec![e])?;
        if items.render_value(&NoScope).is_none() {
            return Err(vec![
                "`items` must be a single variable such as `{{nodes.outline.output.chapters}}`"
                    .into(),
            ]);
        }
        let mut inner = c.node;
        let kind = match inner.remove("kind") {
            Some(Value::String(k)) => k,
            _ => return Err(vec!["`node.kind` must name the kind run per item".into()]),
        };
        let inner_spec = NodeSpec {
            id: spec.id.clone(),
            kind,
            config: inner,
        };
        let template = registry
            .build(&inner_spec, &Default::default())
            .map_err(|ps| {
                ps.into_iter()
                    .map(|p| format!("node: {p}"))
                    .collect::<Vec<_>>()
            })?;
        if c.concurrency == Some(0) {
            return Err(vec!["`concurrency` must be at least 1".into()]);
        }
        Ok(Self {
            items,
            template,
            concurrency: c.concurrency.unwrap_or(4),
            sequential: c.sequential,
            expected_items: c.expected_items,
        })
    }

    fn expected(&self, scope: &dyn EstimateScope) -> u64 {
        match &self.expected_items {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(1),
            Some(Value::String(s)) => Template::parse(s)
                .ok()
                .and_then(|t| t.variables().next().map(<[String]>::to_vec))
                .and_then(|p| scope.input(&p))
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                })
                .unwrap_or(1),
            _ => 1,
        }
    }
}

struct NoScope;
impl crate::template::Scope for NoScope {
    fn lookup(&self, _: &[String]) -> Option<Value> {
        Some(Value::Null)
    }
}

fn list_of(v: Value) -> Result<Vec<Value>, NodeError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Number(n) => Ok((0..n.as_u64().unwrap_or(0)).map(Value::from).collect()),
        Value::Object(mut m) => match ["items", "chapters", "sections"]
            .iter()
            .find_map(|k| m.remove(*k))
        {
            Some(Value::Array(a)) => Ok(a),
            _ => Err(NodeError::InvalidOutput(
                "map `items` is an object without a list".into(),
            )),
        },
        other => Err(NodeError::InvalidOutput(format!(
            "map `items` must be a list, got {}",
            crate::util::json_kind(&other)
        ))),
    }
}

#[async_trait]
impl Node for MapNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let list = Arc::new(list_of(ctx.render_value(&self.items)?)?);
        let n = list.len();
        if n >= crate::store::STEP_BASE as usize {
            return Err(NodeError::InvalidOutput(format!(
                "map `items` has {n} entries; at most {} are supported",
                crate::store::STEP_BASE - 1
            )));
        }
        let mut done = ctx.run.take_item_results(ctx.node_idx);
        let mut results: Vec<Option<Value>> = (0..n)
            .map(|i| done.remove(&(i as u32)).map(|r| r.output))
            .collect();
        let resumed = results.iter().filter(|r| r.is_some()).count();
        ctx.run.events.emit(crate::exec::EventKind::MapStarted {
            node: ctx.node_id().to_string(),
            items: n,
            done: resumed,
        });
        let scope_for = |i: usize, results: &[Option<Value>]| {
            let earlier: Vec<Value> = results
                .iter()
                .take(i)
                .map(|r| r.clone().unwrap_or(Value::Null))
                .collect();
            ItemScope {
                index: i as u32,
                item: list[i].clone(),
                prev_item: i
                    .checked_sub(1)
                    .and_then(|p| list.get(p))
                    .cloned()
                    .unwrap_or(Value::Null),
                next_item: list.get(i + 1).cloned().unwrap_or(Value::Null),
                previous: earlier.last().cloned().unwrap_or(Value::Null),
                results: Value::Array(earlier),
            }
        };
        let instruction = ctx.instruction().map(str::to_string);
        if self.sequential {
            for i in 0..n {
                if results[i].is_some() {
                    continue;
                }
                let scope = scope_for(i, &results);
                let r = run_item(
                    &ctx.run,
                    ctx.node_idx,
                    &self.template,
                    scope,
                    instruction.clone(),
                )
                .await?;
                results[i] = Some(r.output);
            }
        } else {
            let mut set = JoinSet::new();
            let todo: Vec<usize> = (0..n).filter(|&i| results[i].is_none()).collect();
            let mut pending = todo.into_iter();
            let mut first_err: Option<NodeError> = None;
            loop {
                while first_err.is_none() && set.len() < self.concurrency {
                    let Some(i) = pending.next() else { break };
                    let (run, tpl, idx, instr) = (
                        ctx.run.clone(),
                        self.template.clone(),
                        ctx.node_idx,
                        instruction.clone(),
                    );
                    let scope = scope_for(i, &[]);
                    set.spawn(async move { (i, run_item(&run, idx, &tpl, scope, instr).await) });
                }
                let Some(joined) = set.join_next().await else {
                    break;
                };
                match joined {
                    Ok((i, Ok(r))) => results[i] = Some(r.output),
                    Ok((_, Err(e))) => {
                        // Let running items finish (their results are checkpointed); start no more.
                        if first_err.is_none() || matches!(first_err, Some(NodeError::Cancelled)) {
                            first_err = Some(e);
                        }
                    }
                    Err(join) => {
                        first_err = Some(NodeError::failed(format!("map item task failed: {join}")))
                    }
                }
            }
            if let Some(e) = first_err {
                return Err(e);
            }
        }
        let out: Vec<Value> = results
            .into_iter()
            .map(|r| r.unwrap_or(Value::Null))
            .collect();
        Ok(NodeOutput {
            metrics: serde_json::json!({ "items": n, "resumed_items": resumed }),
            output: Value::Array(out),
        })
    }

    fn variables(&self) -> Vec<VarUse> {
        let mut v = Vec::new();
        uses(&self.items, false, &mut v);
        v.extend(
            self.template
                .node
                .variables()
                .into_iter()
                .map(|u| VarUse { in_item: true, ..u }),
        );
        v
    }

    fn models(&self) -> Vec<(String, String)> {
        self.template.node.models()
    }

    fn export_formats(&self) -> Vec<String> {
        self.template.node.export_formats()
    }

    fn estimate(&self, scope: &dyn EstimateScope) -> Vec<CallEstimate> {
        let n = self.expected(scope);
        let attempts = self.template.policy.retry.attempts.max(1) as u64
            * (1 + self.template.policy.validate.attempts.unwrap_or(2) as u64
                * (!self.template.policy.validate.is_empty()) as u64);
        self.template
            .node
            .estimate(scope)
            .into_iter()
            .map(|c| CallEstimate {
                calls: c.calls * n * attempts,
                ..c
            })
            .collect()
    }

    fn output_tokens_bound(&self, scope: &dyn EstimateScope) -> u64 {
        self.expected(scope) * self.template.node.output_tokens_bound(scope)
    }

    fn override_model(&mut self, provider: Option<&str>, model: Option<&str>) {
        if let Some(node) = Arc::get_mut(&mut self.template.node) {
            node.override_model(provider, model);
        }
    }
}

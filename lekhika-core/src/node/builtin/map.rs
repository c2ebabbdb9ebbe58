//! `map`: dynamic fan-out. Runs a node template once per item of a list
//! produced upstream (e.g. one writer per outlined chapter), with its own
//! concurrency limit. Results come back in item order; every finished item
//! is checkpointed, so a resume runs only the items that had not finished.

use std::sync::Arc;

use super::{parse_config, template, uses};
use crate::flow::NodeSpec;
use crate::node::sizing::ItemSized;
use crate::node::{
    BuiltNode, CallEstimate, EstimateScope, ItemScope, Node, NodeContext, NodeError, NodeOutput,
    Registry, TokenSpan, VarUse,
};
use crate::template::Template;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
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

    /// Size of one item of the list.
    fn item_size(&self, scope: &dyn EstimateScope, n: u64) -> TokenSpan {
        self.items
            .variables()
            .map(|p| scope.var_tokens(p))
            .fold(TokenSpan::ZERO, TokenSpan::plus)
            .part(n)
    }

    /// Items expected: `expected_items`, else the list's known length, else 1.
    fn expected(&self, scope: &dyn EstimateScope) -> u64 {
        let known = || self.items.variables().next().and_then(|p| scope.items(p));
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
                .or_else(known)
                .unwrap_or(1),
            _ => known().unwrap_or(1),
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
        if n >= crate::store::LEGACY_STEP_BASE as usize {
            return Err(NodeError::InvalidOutput(format!(
                "map `items` has {n} entries; at most {} are supported",
                crate::store::LEGACY_STEP_BASE - 1
            )));
        }
        let resumed = ctx.run.saved_items(ctx.node_idx);
        ctx.run.events.emit(crate::exec::EventKind::MapStarted {
            node: ctx.node_id().to_string(),
            items: n,
            done: resumed,
        });
        let scope_for = |i: usize, results: &[Value]| {
            let earlier: Vec<Value> = results.iter().take(i).cloned().collect();
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
        let instruction = ctx.instruction();
        let mut results: Vec<Value> = Vec::with_capacity(n);
        if self.sequential {
            // One item at a time: each sees the results before it.
            for i in 0..n {
                let scope = scope_for(i, &results);
                let r = ctx
                    .run_items(&self.template, vec![scope], 1, instruction)
                    .await?;
                results.extend(r.into_iter().map(|r| r.output));
            }
        } else {
            let scopes = (0..n).map(|i| scope_for(i, &[])).collect();
            let r = ctx
                .run_items(&self.template, scopes, self.concurrency, instruction)
                .await?;
            results.extend(r.into_iter().map(|r| r.output));
        }
        Ok(NodeOutput {
            metrics: serde_json::json!({ "items": n, "resumed_items": resumed }),
            output: Value::Array(results),
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
        let item = ItemSized {
            inner: scope,
            item: self.item_size(scope, n),
        };
        self.template
            .node
            .estimate(&item)
            .into_iter()
            .map(|c| CallEstimate {
                expected: c.expected.times(n),
                worst: c.worst.times(n),
                ..c
            })
            .collect()
    }

    fn output_tokens(&self, scope: &dyn EstimateScope) -> TokenSpan {
        let n = self.expected(scope);
        let item = ItemSized {
            inner: scope,
            item: self.item_size(scope, n),
        };
        self.template.node.output_tokens(&item).times(n)
    }

    fn output_items(&self, scope: &dyn EstimateScope) -> Option<u64> {
        Some(self.expected(scope))
    }

    fn override_model(&mut self, provider: Option<&str>, model: Option<&str>) {
        if let Some(node) = Arc::get_mut(&mut self.template.node) {
            node.override_model(provider, model);
        }
    }
}

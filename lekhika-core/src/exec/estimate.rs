//! Cost estimates before a run, in two figures per node and in total:
//! **expected** (replies as long as the flow asks, the first try of every
//! loop accepted) and **worst** (every loop at the flow's own limit —
//! length passes, revisions, continuity rounds over the real number of
//! chapter pairs — and replies at the bound the flow sets). Failed calls
//! cost nothing (their reservation is released), so provider retries are
//! not counted; nor are the guard rails that send invalid output back
//! (regenerations, re-asked scores), which would multiply every figure. The wallet still reserves each call's own worst
//! case (prompt bound + `max_tokens`) when it is made. Sums saturate
//! instead of wrapping: a huge input gives a huge estimate, never a
//! negative one.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Engine, EngineError, RunOptions};
use crate::flow::Flow;
use crate::node::builtin::input::normalize_input;
use crate::node::sizing::{literal_tokens, TokenSpan, Work};
use crate::node::EstimateScope;
use crate::store::CallKind;
use crate::template::walk;
use crate::wallet::Consumption;

/// Calls, tokens and wallet cost of one node on one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NodeFigures {
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Wallet tokens; `None` when the model has no price.
    pub cost: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeEstimate {
    pub node: String,
    pub provider: String,
    pub model: String,
    pub expected: NodeFigures,
    pub worst: NodeFigures,
}

/// Calls, tokens and wallet cost of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Figures {
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Wallet tokens of the priced models.
    pub cost: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Estimate {
    pub nodes: Vec<NodeEstimate>,
    /// A typical run.
    pub expected: Figures,
    /// The most the flow's limits allow.
    pub worst: Figures,
    /// `provider/model` pairs without a price (their cost is not counted).
    pub missing_prices: Vec<String>,
}

struct Scope<'a> {
    flow: &'a Flow,
    input: &'a Value,
}

impl Scope<'_> {
    fn node_index(&self, path: &[String]) -> Option<usize> {
        match path.first().map(String::as_str) {
            Some("nodes") => path
                .get(1)
                .and_then(|id| self.flow.graph.index.get(id.as_str()))
                .copied(),
            _ => None,
        }
    }

    /// Output size of node `i` (a pass-through node: its inputs').
    fn size_of(&self, i: usize, depth: usize) -> TokenSpan {
        let n = &self.flow.nodes[i];
        if n.node.passes_through() && depth < 64 {
            return self.flow.graph.deps[i]
                .iter()
                .map(|&d| self.size_of(d, depth + 1))
                .fold(TokenSpan::ZERO, TokenSpan::plus);
        }
        n.node.output_tokens(self)
    }

    fn items_of(&self, i: usize, depth: usize) -> Option<u64> {
        let n = &self.flow.nodes[i];
        if n.node.passes_through() && depth < 64 {
            return self.flow.graph.deps[i]
                .iter()
                .find_map(|&d| self.items_of(d, depth + 1));
        }
        n.node.output_items(self)
    }
}

impl EstimateScope for Scope<'_> {
    fn var_tokens(&self, path: &[String]) -> TokenSpan {
        match path.first().map(String::as_str) {
            Some("input") => self.input(path).map_or(TokenSpan::ZERO, |v| {
                let text = match &v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                TokenSpan::exact(literal_tokens(text.len()))
            }),
            Some("nodes") => self
                .node_index(path)
                .map_or(TokenSpan::ZERO, |i| self.size_of(i, 0)),
            _ => TokenSpan::ZERO,
        }
    }
    fn input(&self, path: &[String]) -> Option<Value> {
        match path.split_first() {
            Some((root, rest)) if root == "input" => walk(self.input, rest).cloned(),
            _ => None,
        }
    }
    fn items(&self, path: &[String]) -> Option<u64> {
        match path.first().map(String::as_str) {
            Some("input") => self.input(path).and_then(|v| match v {
                Value::Array(a) => Some(a.len() as u64),
                other => crate::node::sizing::as_count(&other),
            }),
            Some("nodes") => self.node_index(path).and_then(|i| self.items_of(i, 0)),
            _ => None,
        }
    }
}

impl Engine {
    /// Estimate a run of `doc` with `input` without calling any model.
    pub fn estimate(
        &self,
        doc: &Value,
        input: &Value,
        options: &RunOptions,
    ) -> Result<Estimate, EngineError> {
        let flow = self.load(doc, options)?;
        self.estimate_loaded(&flow, input)
    }

    /// [`Engine::estimate`] of a flow loaded already.
    pub fn estimate_loaded(&self, flow: &Flow, input: &Value) -> Result<Estimate, EngineError> {
        let input =
            normalize_input(&flow.input_fields, input).map_err(EngineError::InvalidInput)?;
        Ok(estimate_flow(flow, &input, self.prices()))
    }
}

pub(crate) fn estimate_flow(
    flow: &Flow,
    input: &Value,
    prices: &crate::wallet::PriceBook,
) -> Estimate {
    let scope = Scope { flow, input };
    let mut est = Estimate::default();
    let mut missing: HashMap<String, ()> = HashMap::new();
    for (i, n) in flow.nodes.iter().enumerate() {
        for c in n.node.estimate(&scope) {
            let price = prices.get(&c.provider, &c.model);
            let kind = c.kind;
            let figures = |w: Work| NodeFigures {
                calls: w.calls,
                input_tokens: w.input_tokens,
                output_tokens: w.output_tokens,
                cost: price.and_then(|p| p.charge(consumption(kind, &w))),
            };
            let e = figures(c.expected);
            let w = figures(c.worst);
            // No price, or none in the unit this call is sold in.
            if w.cost.is_none() && c.worst.calls > 0 {
                missing.insert(format!("{}/{}", c.provider, c.model), ());
            }
            add(&mut est.expected, &e);
            add(&mut est.worst, &w);
            est.nodes.push(NodeEstimate {
                node: flow.graph.ids[i].to_string(),
                provider: c.provider,
                model: c.model,
                expected: e,
                worst: w,
            });
        }
    }
    est.missing_prices = missing.into_keys().collect();
    est.missing_prices.sort();
    est
}

/// What `w` consumes in the unit a call of `kind` is priced in.
fn consumption(kind: CallKind, w: &Work) -> Consumption {
    match kind {
        CallKind::Text => Consumption::Tokens {
            input: w.input_tokens,
            output: w.output_tokens,
        },
        CallKind::Image => Consumption::Images(w.units),
        CallKind::Speech => Consumption::Characters(w.units),
    }
}

fn add(total: &mut Figures, f: &NodeFigures) {
    total.calls = total.calls.saturating_add(f.calls);
    total.input_tokens = total.input_tokens.saturating_add(f.input_tokens);
    total.output_tokens = total.output_tokens.saturating_add(f.output_tokens);
    total.cost = total.cost.saturating_add(f.cost.unwrap_or(0));
}

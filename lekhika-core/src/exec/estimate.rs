//! Cost estimates before a run: tokens and wallet cost per node and in
//! total, from the flow, its inputs and the price book. Worst case: every
//! call at its prompt bound and max output, every regeneration. Retries of
//! failed calls cost nothing (their reservation is released). Sums saturate
//! instead of wrapping: a huge input gives a huge estimate, never a
//! negative one.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Engine, EngineError, RunOptions};
use crate::flow::Flow;
use crate::node::builtin::input::normalize_input;
use crate::node::EstimateScope;
use crate::template::walk;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeEstimate {
    pub node: String,
    pub provider: String,
    pub model: String,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Wallet tokens; `None` when the model has no price.
    pub cost: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Estimate {
    pub nodes: Vec<NodeEstimate>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Worst-case wallet cost of the whole run.
    pub cost: i64,
    /// `provider/model` pairs without a price (their cost is not counted).
    pub missing_prices: Vec<String>,
}

struct Scope<'a> {
    flow: &'a Flow,
    input: &'a Value,
}

impl EstimateScope for Scope<'_> {
    fn var_tokens(&self, path: &[String]) -> u64 {
        match path.first().map(String::as_str) {
            Some("input") => self.input(path).map_or(0, |v| {
                crate::wallet::prompt_tokens_for_bytes(v.to_string().len() as u64)
            }),
            Some("nodes") => path
                .get(1)
                .and_then(|id| self.flow.node(id))
                .map_or(0, |n| n.node.output_tokens_bound(self)),
            _ => 0,
        }
    }
    fn input(&self, path: &[String]) -> Option<Value> {
        match path.split_first() {
            Some((root, rest)) if root == "input" => walk(self.input, rest).cloned(),
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
        let is_map = n.kind == "map";
        let drafts = if is_map {
            1
        } else {
            1 + u64::from(n.policy.validate.attempts.unwrap_or(2))
                * u64::from(!n.policy.validate.is_empty())
        };
        for c in n.node.estimate(&scope) {
            let calls = c.calls.saturating_mul(drafts);
            let cost = prices.get(&c.provider, &c.model).map(|p| {
                p.cost(c.input_tokens, c.output_tokens)
                    .saturating_mul(i64::try_from(calls).unwrap_or(i64::MAX))
            });
            if cost.is_none() {
                missing.insert(format!("{}/{}", c.provider, c.model), ());
            }
            let input_tokens = c.input_tokens.saturating_mul(calls);
            let output_tokens = c.output_tokens.saturating_mul(calls);
            est.input_tokens = est.input_tokens.saturating_add(input_tokens);
            est.output_tokens = est.output_tokens.saturating_add(output_tokens);
            est.cost = est.cost.saturating_add(cost.unwrap_or(0));
            est.nodes.push(NodeEstimate {
                node: flow.graph.ids[i].to_string(),
                provider: c.provider,
                model: c.model,
                calls,
                input_tokens,
                output_tokens,
                cost,
            });
        }
    }
    est.missing_prices = missing.into_keys().collect();
    est.missing_prices.sort();
    est
}

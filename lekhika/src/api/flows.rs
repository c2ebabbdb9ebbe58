//! Flows: node kinds, validation, provider checks, estimates, and the run
//! options a request's settings resolve to.

use lekhika_core::exec::estimate::Estimate;
use lekhika_core::node::builtin::input::InputField;
use lekhika_core::node::ModelChoice;
use lekhika_core::{Flow, RunOptions};
use serde::{Deserialize, Serialize};

use super::request::{FlowDoc, RunRequest, RunSettings};
use crate::error::Result;
use crate::runtime::Lekhika;

/// One node of a validated flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowNodeInfo {
    pub id: String,
    pub kind: String,
}

/// What a valid flow is: its nodes in run order and its input form, and
/// what deserves a look (config keys a node ignored: an editor's own keys,
/// or a typo of a setting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowInfo {
    pub nodes: Vec<FlowNodeInfo>,
    pub inputs: Vec<InputField>,
    pub warnings: Vec<lekhika_core::FlowProblem>,
}

impl Lekhika {
    /// Node kinds this engine knows (built-ins, `export`, custom kinds).
    pub fn node_kinds(&self) -> Vec<String> {
        self.engine.registry().kinds()
    }

    /// The engine's run options for `settings`: a provider named without a
    /// model gets that provider's default model from the catalog.
    pub fn run_options(&self, settings: &RunSettings) -> Result<RunOptions> {
        let (provider, model) =
            self.resolve_models(settings.provider.as_deref(), settings.model.as_deref())?;
        let mut models = std::collections::BTreeMap::new();
        for (node, c) in &settings.models {
            let (provider, model) =
                self.resolve_models(c.provider.as_deref(), c.model.as_deref())?;
            models.insert(node.clone(), ModelChoice { provider, model });
        }
        Ok(RunOptions {
            provider,
            model,
            models,
            max_concurrency: settings.max_concurrency,
            engine_id: settings.engine_id.clone(),
            host: settings.host.clone(),
            execution_id: settings.execution_id.clone(),
            reuse: settings.reuse,
            ..RunOptions::default()
        })
    }

    /// Parse and validate a flow: every problem at once in a `FlowError`.
    pub fn validate(&self, flow: &FlowDoc, settings: &RunSettings) -> Result<FlowInfo> {
        let options = self.run_options(settings)?;
        let f = self.engine.load(flow.source(), &options)?;
        Ok(flow_info(&f))
    }

    /// Validate a flow and check that every provider it calls is
    /// configured (the error says exactly what to set).
    pub fn check_flow(&self, flow: &FlowDoc, settings: &RunSettings) -> Result<FlowInfo> {
        let options = self.run_options(settings)?;
        let f = self.engine.load(flow.source(), &options)?;
        self.check_providers(&f)?;
        Ok(flow_info(&f))
    }

    /// Worst-case tokens and wallet cost of a run, calling no model.
    pub fn estimate(&self, req: &RunRequest) -> Result<Estimate> {
        let options = self.run_options(&req.settings)?;
        let f = self.engine.load(req.flow.source(), &options)?;
        Ok(self.engine.estimate_loaded(&f, &req.input)?)
    }
}

fn flow_info(f: &Flow) -> FlowInfo {
    let order = f.graph.topo_order().unwrap_or_default();
    FlowInfo {
        nodes: order
            .iter()
            .map(|&i| FlowNodeInfo {
                id: f.graph.ids[i].to_string(),
                kind: f.nodes[i].kind.clone(),
            })
            .collect(),
        inputs: f.input_fields.clone(),
        warnings: f.warnings.clone(),
    }
}

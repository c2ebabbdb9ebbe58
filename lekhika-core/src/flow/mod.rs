//! Flow documents: parsing, graph, validation. Pure: no I/O.

mod document;
mod error;
mod graph;
mod json;

use std::collections::HashSet;

use serde_json::Value;

pub use document::{EdgeSpec, FlowDocument, NodeSpec};
pub use error::{FlowError, FlowProblem};
pub use graph::Graph;
pub use json::{FlowJson, FlowSource};

use crate::node::builtin::input::InputField;
use crate::node::registry::ModelOverride;
use crate::node::{BuiltNode, Registry, VarUse};

/// A loaded, validated flow, ready to run.
pub struct Flow {
    pub graph: Graph,
    /// Built nodes by graph index.
    pub nodes: Vec<BuiltNode>,
    /// Every field declared by the flow's `input` nodes.
    pub input_fields: Vec<InputField>,
    /// What was accepted but deserves a look: config keys a node ignored
    /// (an editor's own keys, or a typo of a setting).
    pub warnings: Vec<FlowProblem>,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("nodes", &self.graph.ids)
            .finish()
    }
}

const ITEM_ROOTS: &[&str] = &["item", "prev_item", "next_item", "previous", "results"];

impl Flow {
    /// Parse and validate a React Flow document; every problem is reported at once.
    pub fn load(
        doc: &Value,
        registry: &Registry,
        overrides: &ModelOverride,
    ) -> Result<Flow, FlowError> {
        let mut problems = Vec::new();
        let parsed = FlowDocument::parse(doc, &mut problems);
        Self::build(parsed, problems, registry, overrides)
    }

    /// [`Flow::load`] from the document's JSON text, without building a
    /// `serde_json::Value` of the whole document.
    pub fn load_str(
        text: &str,
        registry: &Registry,
        overrides: &ModelOverride,
    ) -> Result<Flow, FlowError> {
        let mut problems = Vec::new();
        let parsed = FlowDocument::parse_str(text, &mut problems);
        Self::build(parsed, problems, registry, overrides)
    }

    /// [`Flow::load`] from any [`FlowSource`].
    pub fn load_source(
        doc: FlowSource<'_>,
        registry: &Registry,
        overrides: &ModelOverride,
    ) -> Result<Flow, FlowError> {
        match doc {
            FlowSource::Value(v) => Self::load(v, registry, overrides),
            FlowSource::Text(t) => Self::load_str(t, registry, overrides),
            FlowSource::Json(j) => Self::load_str(j.as_str(), registry, overrides),
        }
    }

    fn build(
        parsed: FlowDocument,
        mut problems: Vec<FlowProblem>,
        registry: &Registry,
        overrides: &ModelOverride,
    ) -> Result<Flow, FlowError> {
        let graph = Graph::build(&parsed, &mut problems);
        let no_nodes = parsed.nodes.is_empty();
        let mut warnings = Vec::new();
        let mut nodes: Vec<Option<BuiltNode>> = (0..graph.len()).map(|_| None).collect();
        for spec in parsed.nodes {
            let Some(&idx) = graph.index.get(spec.id.as_str()) else {
                continue;
            };
            if nodes[idx].is_some() {
                continue; // duplicate id, already reported
            }
            let id = spec.id.clone();
            let (built, ignored) = registry.build_checked(spec, overrides);
            warnings.extend(ignored.into_iter().map(|w| FlowProblem::node(&id, w)));
            match built {
                Ok(b) => nodes[idx] = Some(b),
                Err(ps) => problems.extend(ps.into_iter().map(|p| FlowProblem::node(&id, p))),
            }
        }
        for id in overrides.nodes.keys() {
            if !graph.index.contains_key(id.as_str()) {
                problems.push(FlowProblem::flow(format!(
                    "a model is chosen for node `{id}`, which this flow does not have"
                )));
            }
        }
        if no_nodes && problems.is_empty() {
            problems.push(FlowProblem::flow("the flow has no nodes"));
        }
        let input_fields: Vec<InputField> = nodes
            .iter()
            .flatten()
            .flat_map(|n| n.node.input_fields())
            .collect();
        let declared: HashSet<&str> = input_fields.iter().map(|f| f.name.as_str()).collect();
        for (idx, n) in nodes.iter().enumerate() {
            let Some(n) = n else { continue };
            for u in n.node.variables() {
                if let Some(msg) = check_var(&graph, idx, &u, &declared) {
                    problems.push(FlowProblem::node(&graph.ids[idx], msg));
                }
            }
        }
        if !problems.is_empty() {
            return Err(FlowError { problems });
        }
        Ok(Flow {
            graph,
            nodes: nodes.into_iter().flatten().collect(),
            input_fields,
            warnings,
        })
    }

    pub fn len(&self) -> usize {
        self.graph.len()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.is_empty()
    }

    pub fn node(&self, id: &str) -> Option<&BuiltNode> {
        self.graph.index.get(id).map(|&i| &self.nodes[i])
    }
}

fn check_var(graph: &Graph, idx: usize, u: &VarUse, declared: &HashSet<&str>) -> Option<String> {
    let name = u.path.join(".");
    let root = u.path.first().map(String::as_str).unwrap_or_default();
    match root {
        "input" => {
            let field = u.path.get(1)?;
            if declared.contains(field.as_str()) {
                None
            } else if declared.is_empty() {
                Some(format!(
                    "unknown variable `{{{{{name}}}}}`: the flow has no input node declaring `{field}`"
                ))
            } else {
                let mut known: Vec<&&str> = declared.iter().collect();
                known.sort();
                Some(format!(
                    "unknown variable `{{{{{name}}}}}`: no input field `{field}` (declared: {})",
                    known.into_iter().copied().collect::<Vec<_>>().join(", ")
                ))
            }
        }
        "nodes" => {
            let Some(id) = u.path.get(1) else {
                return Some(format!("unknown variable `{{{{{name}}}}}`: name a node, e.g. nodes.ID.output"));
            };
            if u.path.get(2).map(String::as_str) != Some("output") {
                return Some(format!("unknown variable `{{{{{name}}}}}`: use `nodes.{id}.output`"));
            }
            match graph.index.get(id.as_str()) {
                None => Some(format!("unknown variable `{{{{{name}}}}}`: there is no node `{id}`")),
                Some(&a) if !graph.is_ancestor(a, idx) => Some(format!(
                    "unknown variable `{{{{{name}}}}}`: node `{id}` is not upstream of this node (add an edge)"
                )),
                Some(_) => None,
            }
        }
        r if ITEM_ROOTS.contains(&r) => {
            (!u.in_item).then(|| format!("unknown variable `{{{{{name}}}}}`: `{r}` exists only inside a map's node"))
        }
        _ => Some(format!(
            "unknown variable `{{{{{name}}}}}` (use input.*, nodes.ID.output, or item.* inside a map)"
        )),
    }
}

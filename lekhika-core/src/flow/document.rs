//! Reading the React Flow JSON an editor saves. UI-only fields are ignored;
//! every structural problem is collected, not just the first.

use serde_json::{Map, Value};

use super::error::FlowProblem;

/// A node as written in the document: id, kind and configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub id: String,
    /// `data.kind` when present, else the React Flow `type`.
    pub kind: String,
    /// `data` without `kind`.
    pub config: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EdgeSpec {
    pub id: String,
    pub source: String,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowDocument {
    pub nodes: Vec<NodeSpec>,
    pub edges: Vec<EdgeSpec>,
}

impl FlowDocument {
    /// Parse a React Flow document, collecting every problem.
    pub fn parse(doc: &Value, problems: &mut Vec<FlowProblem>) -> Self {
        let mut out = FlowDocument::default();
        let Some(root) = doc.as_object() else {
            problems.push(FlowProblem::flow(
                "the flow must be a JSON object with `nodes` and `edges`",
            ));
            return out;
        };
        match root.get("nodes") {
            Some(Value::Array(nodes)) => {
                for (i, n) in nodes.iter().enumerate() {
                    if let Some(spec) = parse_node(i, n, problems) {
                        out.nodes.push(spec);
                    }
                }
            }
            Some(_) => problems.push(FlowProblem::flow("`nodes` must be an array")),
            None => problems.push(FlowProblem::flow("the flow has no `nodes` array")),
        }
        match root.get("edges") {
            Some(Value::Array(edges)) => {
                for (i, e) in edges.iter().enumerate() {
                    if let Some(spec) = parse_edge(i, e, problems) {
                        out.edges.push(spec);
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => problems.push(FlowProblem::flow("`edges` must be an array")),
        }
        out
    }
}

fn parse_node(i: usize, n: &Value, problems: &mut Vec<FlowProblem>) -> Option<NodeSpec> {
    let Some(obj) = n.as_object() else {
        problems.push(FlowProblem::flow(format!("nodes[{i}] is not an object")));
        return None;
    };
    let id = match obj.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            problems.push(FlowProblem::flow(format!("nodes[{i}] has no string `id`")));
            return None;
        }
    };
    let mut config = match obj.get("data") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            problems.push(FlowProblem::node(&id, "`data` must be an object"));
            Map::new()
        }
    };
    let kind = match config.remove("kind") {
        Some(Value::String(k)) => k,
        Some(_) => {
            problems.push(FlowProblem::node(&id, "`data.kind` must be a string"));
            return None;
        }
        None => match obj.get("type") {
            Some(Value::String(t)) => t.clone(),
            _ => {
                problems.push(FlowProblem::node(&id, "has neither `data.kind` nor `type`"));
                return None;
            }
        },
    };
    Some(NodeSpec { id, kind, config })
}

fn parse_edge(i: usize, e: &Value, problems: &mut Vec<FlowProblem>) -> Option<EdgeSpec> {
    let Some(obj) = e.as_object() else {
        problems.push(FlowProblem::flow(format!("edges[{i}] is not an object")));
        return None;
    };
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("edges[{i}]"));
    let get = |k: &str| match obj.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match (get("source"), get("target")) {
        (Some(source), Some(target)) => Some(EdgeSpec { id, source, target }),
        _ => {
            problems.push(FlowProblem::edge(&id, "needs string `source` and `target`"));
            None
        }
    }
}

//! Reading the React Flow JSON an editor saves. UI-only fields are ignored;
//! every structural problem is collected, not just the first.

use serde::Deserialize;
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

/// Node and edge fields the engine reads; everything else (position,
/// measured, style, …) is skipped without being built.
#[derive(Deserialize)]
struct RawDoc {
    #[serde(default)]
    nodes: Option<Vec<RawNode>>,
    #[serde(default)]
    edges: Option<Vec<RawEdge>>,
}

#[derive(Deserialize)]
struct RawNode {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, rename = "type")]
    ty: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Deserialize)]
struct RawEdge {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    source: Option<Value>,
    #[serde(default)]
    target: Option<Value>,
}

impl FlowDocument {
    /// Parse a React Flow document from its JSON text, collecting every
    /// problem. Only the fields the engine reads are built.
    pub fn parse_str(text: &str, problems: &mut Vec<FlowProblem>) -> Self {
        match serde_json::from_str::<RawDoc>(text) {
            Ok(raw) => Self::from_raw(raw, problems),
            // Not the usual shape (or not JSON at all): the general path
            // says precisely what is wrong.
            Err(_) => match serde_json::from_str::<Value>(text) {
                Ok(doc) => Self::parse(&doc, problems),
                Err(e) => {
                    problems.push(FlowProblem::flow(format!(
                        "the flow is not valid JSON: {e}"
                    )));
                    Self::default()
                }
            },
        }
    }

    fn from_raw(raw: RawDoc, problems: &mut Vec<FlowProblem>) -> Self {
        let mut out = FlowDocument::default();
        match raw.nodes {
            Some(nodes) => {
                out.nodes.reserve(nodes.len());
                for (i, n) in nodes.into_iter().enumerate() {
                    if let Some(spec) = node_spec(i, n.id, n.ty, n.data, problems) {
                        out.nodes.push(spec);
                    }
                }
            }
            None => problems.push(FlowProblem::flow("the flow has no `nodes` array")),
        }
        if let Some(edges) = raw.edges {
            out.edges.reserve(edges.len());
            for (i, e) in edges.into_iter().enumerate() {
                let id = match e.id {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                };
                if let Some(spec) = edge_spec(i, id, e.source, e.target, problems) {
                    out.edges.push(spec);
                }
            }
        }
        out
    }
}

fn parse_node(i: usize, n: &Value, problems: &mut Vec<FlowProblem>) -> Option<NodeSpec> {
    let Some(obj) = n.as_object() else {
        problems.push(FlowProblem::flow(format!("nodes[{i}] is not an object")));
        return None;
    };
    node_spec(
        i,
        obj.get("id").cloned(),
        obj.get("type").cloned(),
        obj.get("data").cloned(),
        problems,
    )
}

fn node_spec(
    i: usize,
    id: Option<Value>,
    ty: Option<Value>,
    data: Option<Value>,
    problems: &mut Vec<FlowProblem>,
) -> Option<NodeSpec> {
    let id = match id {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            problems.push(FlowProblem::flow(format!("nodes[{i}] has no string `id`")));
            return None;
        }
    };
    let mut config = match data {
        Some(Value::Object(m)) => m,
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
        None => match ty {
            Some(Value::String(t)) => t,
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
    let id = obj.get("id").and_then(Value::as_str).map(str::to_string);
    edge_spec(
        i,
        id,
        obj.get("source").cloned(),
        obj.get("target").cloned(),
        problems,
    )
}

fn edge_spec(
    i: usize,
    id: Option<String>,
    source: Option<Value>,
    target: Option<Value>,
    problems: &mut Vec<FlowProblem>,
) -> Option<EdgeSpec> {
    let id = id.unwrap_or_else(|| format!("edges[{i}]"));
    let get = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    match (get(source), get(target)) {
        (Some(source), Some(target)) => Some(EdgeSpec { id, source, target }),
        _ => {
            problems.push(FlowProblem::edge(&id, "needs string `source` and `target`"));
            None
        }
    }
}

//! Flow documents (React Flow JSON text, as a host receives them from the
//! editor) for each workload. Node kinds `inc`,
//! `leaf`, `sum` and `fail_once` are registered by [`crate::nodes`].

use serde_json::{json, Value};

/// A node object as an editor saves it (type + data).
fn node(id: &str, kind: &str, data: Value) -> Value {
    json!({"id": id, "type": kind, "position": {"x": 0, "y": 0}, "data": data})
}

fn edge(source: &str, target: &str) -> Value {
    json!({"id": format!("{source}-{target}"), "source": source, "target": target})
}

fn chain_id(i: usize) -> String {
    format!("n{i}")
}

/// `n` nodes `n1 → n2 → … → nN` of kind `kind` (each `inc` adds one to its
/// upstream's number, so the last output is `n`). Written straight as
/// text, the same bytes `json!` would give, so that generating a 100k-node
/// document does not leave the benchmark process holding the heap of a
/// parsed one.
pub fn chain(n: usize, kind: &str) -> String {
    use std::fmt::Write;
    let kind = Value::from(kind).to_string();
    let mut s = String::with_capacity(n * 130);
    s.push_str("{\"edges\":[");
    for i in 2..=n {
        if i > 2 {
            s.push(',');
        }
        let (a, b) = (chain_id(i - 1), chain_id(i));
        let _ = write!(s, r#"{{"id":"{a}-{b}","source":"{a}","target":"{b}"}}"#);
    }
    s.push_str("],\"nodes\":[");
    for i in 1..=n {
        if i > 1 {
            s.push(',');
        }
        let id = chain_id(i);
        let _ = write!(
            s,
            r#"{{"data":{{}},"id":"{id}","position":{{"x":0,"y":0}},"type":{kind}}}"#
        );
    }
    s.push_str("]}");
    s
}

/// A chain of built-in `template` nodes: each renders a short constant
/// text, so no model and no custom code runs.
pub fn template_chain(n: usize) -> String {
    let mut nodes = Vec::with_capacity(n);
    let mut edges = Vec::with_capacity(n.saturating_sub(1));
    for i in 1..=n {
        nodes.push(node(&chain_id(i), "template", json!({"template": "step"})));
        if i > 1 {
            edges.push(edge(&chain_id(i - 1), &chain_id(i)));
        }
    }
    json!({"nodes": nodes, "edges": edges}).to_string()
}

/// A chain whose node number `fail_at` (1-based) fails on its first call.
pub fn failing_chain(n: usize, fail_at: usize) -> String {
    let mut nodes = Vec::with_capacity(n);
    let mut edges = Vec::with_capacity(n.saturating_sub(1));
    for i in 1..=n {
        let kind = if i == fail_at { "fail_once" } else { "inc" };
        nodes.push(node(&chain_id(i), kind, json!({})));
        if i > 1 {
            edges.push(edge(&chain_id(i - 1), &chain_id(i)));
        }
    }
    json!({"nodes": nodes, "edges": edges}).to_string()
}

/// Static fan-out: `start → leaf0..leaf{n-1} → join`; `join` sums its
/// `n` inputs (each leaf outputs 1), so its output is `n`.
pub fn fanout_static(n: usize) -> String {
    let mut nodes = Vec::with_capacity(n + 2);
    let mut edges = Vec::with_capacity(2 * n);
    nodes.push(node("start", "inc", json!({})));
    for i in 0..n {
        let id = format!("leaf{i}");
        nodes.push(node(&id, "leaf", json!({})));
        edges.push(edge("start", &id));
        edges.push(edge(&id, "join"));
    }
    nodes.push(node("join", "sum", json!({})));
    json!({"nodes": nodes, "edges": edges}).to_string()
}

/// Dynamic fan-out with the built-in `map` node (LangGraph's `Send`):
/// `start` outputs a list of `n` numbers, `fan` runs a `leaf` per item
/// (each item checkpointed), `join` sums the results.
pub fn fanout_map(n: usize, concurrency: usize) -> String {
    json!({
        "nodes": [
            node("start", "list", json!({"n": n})),
            node("fan", "map", json!({
                "items": "{{nodes.start.output}}",
                "concurrency": concurrency,
                "node": {"kind": "leaf"}
            })),
            node("join", "sum", json!({})),
        ],
        "edges": [edge("start", "fan"), edge("fan", "join")]
    })
    .to_string()
}

/// W3: `outline` (a model call) → `write` (a map of one model call per
/// chapter, `concurrency` at once) → `book` (a `template` joining them,
/// no model).
pub fn book(concurrency: usize) -> String {
    json!({
        "nodes": [
            node("outline", "text", json!({
                "provider": "scripted", "model": "planner", "max_tokens": 800, "output": "json",
                "prompt": "OUTLINE"
            })),
            node("write", "map", json!({
                "items": "{{nodes.outline.output.chapters}}",
                "concurrency": concurrency,
                "node": {"kind": "text", "provider": "scripted", "model": "writer", "max_tokens": 400,
                         "prompt": "WRITE chapter {{item.number}}"}
            })),
            node("book", "template", json!({"template": "{{nodes.write.output}}"})),
        ],
        "edges": [edge("outline", "write"), edge("write", "book")]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_text_is_the_json_document() {
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for i in 1..=5 {
            nodes.push(node(&chain_id(i), "inc", json!({})));
            if i > 1 {
                edges.push(edge(&chain_id(i - 1), &chain_id(i)));
            }
        }
        let want = json!({"nodes": nodes, "edges": edges}).to_string();
        assert_eq!(chain(5, "inc"), want);
    }
}

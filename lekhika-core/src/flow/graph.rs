//! The dependency graph of a flow: indices, edges both ways, cycle detection.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::document::FlowDocument;
use super::error::FlowProblem;

/// Nodes by index with upstream (`deps`) and downstream (`children`) lists.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Node ids by index, shared with `index` (one allocation per id).
    pub ids: Vec<Arc<str>>,
    pub index: HashMap<Arc<str>, usize>,
    pub deps: Vec<Vec<usize>>,
    pub children: Vec<Vec<usize>>,
}

impl Graph {
    /// Build the graph; reports duplicate ids, edges to missing nodes and cycles.
    pub fn build(doc: &FlowDocument, problems: &mut Vec<FlowProblem>) -> Graph {
        let mut g = Graph::default();
        g.ids.reserve(doc.nodes.len());
        g.index.reserve(doc.nodes.len());
        for n in &doc.nodes {
            if g.index.contains_key(n.id.as_str()) {
                problems.push(FlowProblem::node(&n.id, "duplicate node id"));
                continue;
            }
            let id: Arc<str> = n.id.as_str().into();
            g.index.insert(id.clone(), g.ids.len());
            g.ids.push(id);
        }
        g.deps = vec![Vec::new(); g.ids.len()];
        g.children = vec![Vec::new(); g.ids.len()];
        let mut seen_edges = HashSet::with_capacity(doc.edges.len());
        let mut seen_ids = HashSet::with_capacity(doc.edges.len());
        for e in &doc.edges {
            if !seen_ids.insert(e.id.as_str()) {
                problems.push(FlowProblem::edge(&e.id, "duplicate edge id"));
            }
            let s = g.index.get(e.source.as_str()).copied();
            let t = g.index.get(e.target.as_str()).copied();
            if s.is_none() {
                problems.push(FlowProblem::edge(
                    &e.id,
                    format!("source `{}` is not a node of this flow", e.source),
                ));
            }
            if t.is_none() {
                problems.push(FlowProblem::edge(
                    &e.id,
                    format!("target `{}` is not a node of this flow", e.target),
                ));
            }
            if let (Some(s), Some(t)) = (s, t) {
                if s == t {
                    problems.push(FlowProblem::edge(
                        &e.id,
                        format!("connects `{}` to itself (cycle)", e.source),
                    ));
                    continue;
                }
                if seen_edges.insert((s, t)) {
                    g.deps[t].push(s);
                    g.children[s].push(t);
                }
            }
        }
        if let Some(cycle) = g.find_cycle() {
            let names: Vec<&str> = cycle.iter().map(|&i| &*g.ids[i]).collect();
            problems.push(FlowProblem::flow(format!(
                "cycle: {} -> {}",
                names.join(" -> "),
                names.first().copied().unwrap_or_default()
            )));
        }
        g
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Topological order (Kahn); `None` when there is a cycle.
    pub fn topo_order(&self) -> Option<Vec<usize>> {
        let mut indeg: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut order: Vec<usize> = (0..self.len()).filter(|&i| indeg[i] == 0).collect();
        let mut head = 0;
        while head < order.len() {
            let n = order[head];
            head += 1;
            for &c in &self.children[n] {
                indeg[c] -= 1;
                if indeg[c] == 0 {
                    order.push(c);
                }
            }
        }
        (order.len() == self.len()).then_some(order)
    }

    /// One cycle, as node indices in edge order, if the graph has any.
    fn find_cycle(&self) -> Option<Vec<usize>> {
        if self.topo_order().is_some() {
            return None;
        }
        // Iterative DFS with colours; the back edge closes the cycle.
        let n = self.len();
        let mut colour = vec![0u8; n];
        let mut parent = vec![usize::MAX; n];
        for start in 0..n {
            if colour[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            colour[start] = 1;
            while let Some(&mut (node, ref mut next)) = stack.last_mut() {
                if let Some(&c) = self.children[node].get(*next) {
                    *next += 1;
                    match colour[c] {
                        0 => {
                            colour[c] = 1;
                            parent[c] = node;
                            stack.push((c, 0));
                        }
                        1 => {
                            let mut cycle = vec![node];
                            let mut cur = node;
                            while cur != c {
                                cur = parent[cur];
                                cycle.push(cur);
                            }
                            cycle.reverse();
                            return Some(cycle);
                        }
                        _ => {}
                    }
                } else {
                    colour[node] = 2;
                    stack.pop();
                }
            }
        }
        None
    }

    /// Is `anc` upstream of `node` (directly or transitively)?
    pub fn is_ancestor(&self, anc: usize, node: usize) -> bool {
        if self.deps[node].contains(&anc) {
            return true;
        }
        let mut seen = vec![false; self.len()];
        let mut stack = self.deps[node].clone();
        while let Some(n) = stack.pop() {
            if n == anc {
                return true;
            }
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(self.deps[n].iter().copied());
            }
        }
        false
    }

    /// `node` and everything downstream of it.
    pub fn descendants(&self, node: usize) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut out = Vec::new();
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            if !std::mem::replace(&mut seen[n], true) {
                out.push(n);
                stack.extend(self.children[n].iter().copied());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::document::{EdgeSpec, NodeSpec};

    fn chain(n: usize) -> Graph {
        let nodes = (0..n)
            .map(|i| NodeSpec {
                id: format!("n{i}"),
                kind: "k".into(),
                config: Default::default(),
            })
            .collect();
        let edges = (1..n)
            .map(|i| EdgeSpec {
                id: format!("e{i}"),
                source: format!("n{}", i - 1),
                target: format!("n{i}"),
            })
            .collect();
        let mut problems = Vec::new();
        let g = Graph::build(&FlowDocument { nodes, edges }, &mut problems);
        assert!(problems.is_empty());
        g
    }

    #[test]
    fn ancestors_near_and_far_and_not_downstream() {
        let g = chain(50);
        assert!(g.is_ancestor(48, 49));
        assert!(g.is_ancestor(47, 49));
        assert!(g.is_ancestor(0, 49));
        assert!(!g.is_ancestor(49, 0));
        assert!(!g.is_ancestor(10, 10));
    }
}

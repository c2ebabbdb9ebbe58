//! Tier features checked before anything is spent.

use crate::flow::Flow;
use crate::wallet::TierPolicy;

/// Everything in `flow` the tier does not allow.
pub(crate) fn check(flow: &Flow, policy: &TierPolicy) -> Vec<String> {
    let f = &policy.features;
    let mut problems = Vec::new();
    for (i, n) in flow.nodes.iter().enumerate() {
        let id = &flow.graph.ids[i];
        if let Some(kinds) = &f.allowed_node_kinds {
            if !kinds.contains(&n.kind) {
                problems.push(format!("node `{id}`: kind `{}` is not included", n.kind));
            }
        }
        if let Some(models) = &f.allowed_models {
            for (p, m) in n.node.models() {
                if !models.iter().any(|a| a == &m || *a == format!("{p}/{m}")) {
                    problems.push(format!("node `{id}`: model `{p}/{m}` is not included"));
                }
            }
        }
        if let Some(formats) = &f.allowed_export_formats {
            for fmt in n.node.export_formats() {
                if !formats.contains(&fmt) {
                    problems.push(format!(
                        "node `{id}`: export format `{fmt}` is not included"
                    ));
                }
            }
        }
    }
    problems
}

//! Rewriting flagged chapters of a finished draft, shared by the
//! whole-book passes (`continuity`, `phrase_check`): each chapter is
//! rewritten by the pass's `rewrite` node config, seeing its outline entry,
//! its draft and what to fix.

use serde_json::{json, Map, Value};

use super::nested::{run_all, Job};
use super::{as_list, chapter_text};
use crate::node::{BuiltNode, ItemScope, NodeContext, NodeError};

/// The chapters' texts of a rendered `chapters` list (strings, or objects
/// with the text under a content key).
pub(crate) fn chapter_texts(chapters: Value) -> Result<Vec<String>, NodeError> {
    as_list(chapters, "chapters")?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            chapter_text(c)
                .ok_or_else(|| NodeError::InvalidOutput(format!("chapter {} has no text", i + 1)))
        })
        .collect()
}

/// The book a pass works on, and what it has rewritten so far.
pub(crate) struct Draft<'a> {
    pub outline: &'a [Value],
    pub texts: Vec<String>,
    /// Rewritten chapters, 1-based, in the order first rewritten.
    pub rewritten: Vec<usize>,
    /// The rewrite node's metrics by chapter (1-based, as a string key).
    pub metrics: Map<String, Value>,
}

impl<'a> Draft<'a> {
    pub fn new(outline: &'a [Value], texts: Vec<String>) -> Self {
        Self {
            outline,
            texts,
            rewritten: Vec::new(),
            metrics: Map::new(),
        }
    }

    /// The rewrite's `item`: the outline entry (an object, or `entry`)
    /// with `draft` and `issue` added.
    fn item(&self, i: usize, issue: &str) -> Value {
        let draft = self.texts[i].as_str();
        match self.outline.get(i) {
            Some(Value::Object(m)) => {
                let mut m = m.clone();
                m.insert("draft".into(), Value::String(draft.to_string()));
                m.insert("issue".into(), Value::String(issue.to_string()));
                Value::Object(m)
            }
            other => {
                json!({"entry": other.cloned().unwrap_or(Value::Null), "draft": draft, "issue": issue})
            }
        }
    }

    /// Rewrite chapter `i` for each `(i, issue, instruction)`, `concurrency`
    /// at once; the new texts replace the drafts. Returns the chapters
    /// rewritten (0-based, ascending).
    pub async fn rewrite(
        &mut self,
        ctx: &NodeContext,
        node: &BuiltNode,
        fixes: Vec<(usize, String, String)>,
        concurrency: usize,
    ) -> Result<Vec<usize>, NodeError> {
        let jobs: Vec<Job> = fixes
            .into_iter()
            .map(|(i, issue, instruction)| {
                let neighbour = |k: Option<usize>| {
                    k.and_then(|k| self.outline.get(k))
                        .cloned()
                        .unwrap_or(Value::Null)
                };
                let scope = ItemScope {
                    index: i as u32,
                    item: self.item(i, &issue),
                    prev_item: neighbour(i.checked_sub(1)),
                    next_item: neighbour(Some(i + 1)),
                    previous: i
                        .checked_sub(1)
                        .map(|p| Value::String(self.texts[p].clone()))
                        .unwrap_or(Value::Null),
                    results: Value::Null,
                };
                (i, scope, Some(instruction))
            })
            .collect();
        let mut done = Vec::new();
        for (i, r) in run_all(ctx, node, jobs, concurrency).await? {
            self.texts[i] = chapter_text(&r.output).ok_or_else(|| {
                NodeError::InvalidOutput(format!("the rewrite of chapter {} has no text", i + 1))
            })?;
            self.metrics.insert((i + 1).to_string(), r.metrics);
            if !self.rewritten.contains(&(i + 1)) {
                self.rewritten.push(i + 1);
            }
            done.push(i);
        }
        Ok(done)
    }
}

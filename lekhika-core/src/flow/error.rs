use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing wrong with a flow, naming where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowProblem {
    /// `node`, `edge` or `flow`.
    pub scope: String,
    /// The node or edge id, when there is one.
    pub id: Option<String>,
    pub message: String,
}

impl FlowProblem {
    pub fn node(id: &str, message: impl Into<String>) -> Self {
        Self {
            scope: "node".into(),
            id: Some(id.to_string()),
            message: message.into(),
        }
    }
    pub fn edge(id: &str, message: impl Into<String>) -> Self {
        Self {
            scope: "edge".into(),
            id: Some(id.to_string()),
            message: message.into(),
        }
    }
    pub fn flow(message: impl Into<String>) -> Self {
        Self {
            scope: "flow".into(),
            id: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for FlowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} `{}`: {}", self.scope, id, self.message),
            None => write!(f, "flow: {}", self.message),
        }
    }
}

/// Every problem found while loading a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct FlowError {
    pub problems: Vec<FlowProblem>,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid flow ({} problem", self.problems.len())?;
        if self.problems.len() != 1 {
            write!(f, "s")?;
        }
        write!(f, ")")?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

//! `Flow`: a flow document that loaded and validated.

use pyo3::prelude::*;
use serde_json::Value;

use crate::convert::Json;

/// A validated flow document. Pass it wherever a flow is expected.
#[pyclass(module = "lekhika", frozen)]
pub struct Flow {
    pub doc: Value,
    pub node_ids: Vec<String>,
    pub kinds: Vec<String>,
    pub input_fields: Value,
}

impl Flow {
    pub fn new(doc: Value, flow: &lekhika_core::Flow) -> Self {
        Self {
            doc,
            node_ids: flow.graph.ids.iter().map(|s| s.to_string()).collect(),
            kinds: flow.nodes.iter().map(|n| n.kind.clone()).collect(),
            input_fields: serde_json::to_value(&flow.input_fields).unwrap_or_default(),
        }
    }
}

#[pymethods]
impl Flow {
    /// The document as given (a dict in React Flow shape).
    #[getter]
    fn doc(&self) -> Json {
        Json(self.doc.clone())
    }
    /// Node ids in document order.
    #[getter]
    fn node_ids(&self) -> Vec<String> {
        self.node_ids.clone()
    }
    /// Each node's kind, in the order of `node_ids`.
    #[getter]
    fn kinds(&self) -> Vec<String> {
        self.kinds.clone()
    }
    /// The input form: `[{"name", "type", "required", "default", ...}]`.
    #[getter]
    fn input_fields(&self) -> Json {
        Json(self.input_fields.clone())
    }
    fn __repr__(&self) -> String {
        format!("Flow(nodes={:?})", self.node_ids)
    }
}

//! The flow document an execution keeps: its JSON text, shared.
//!
//! An execution record holds the document it was started with so that a
//! resume (in this process or on another worker) runs exactly that flow.
//! Keeping it as text rather than a parsed `serde_json::Value` matters at
//! scale: a parsed React Flow document costs about 3–4 KB of heap per node
//! (a `BTreeMap` per object), its text about 100 bytes, and an `Arc<str>`
//! is shared by every copy of the record instead of deep-cloned.

use std::fmt;
use std::sync::Arc;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A flow document as JSON text. Cheap to clone; always valid JSON.
/// Equality is of the documents, not the texts: a store that normalizes
/// JSON (PostgreSQL's `jsonb` reorders keys) returns an equal document.
#[derive(Clone)]
pub struct FlowJson(Arc<str>);

impl PartialEq for FlowJson {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 || matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b)
    }
}

impl FlowJson {
    /// The text of a parsed document.
    pub fn from_value(doc: &Value) -> Self {
        // Serializing a `Value` to a string cannot fail (its keys are strings).
        Self(serde_json::to_string(doc).unwrap_or_default().into())
    }

    /// Check that `text` is one JSON value and keep it as is.
    pub fn parse(text: impl Into<Arc<str>>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        serde_json::from_str::<IgnoredAny>(&text)?;
        Ok(Self(text))
    }

    /// `text` already known to be valid JSON (it was just parsed).
    pub(crate) fn trusted(text: &str) -> Self {
        Self(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Parse the document (for hosts that want to inspect or edit it).
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// Entries of the document's `nodes` array (0 when it has none).
    pub fn node_count(&self) -> usize {
        #[derive(Deserialize)]
        struct Nodes {
            #[serde(default)]
            nodes: Option<Vec<IgnoredAny>>,
        }
        serde_json::from_str::<Nodes>(&self.0)
            .ok()
            .and_then(|n| n.nodes)
            .map_or(0, |n| n.len())
    }

    /// Bytes of JSON text.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `null`: the placeholder document of a record being filled in.
impl Default for FlowJson {
    fn default() -> Self {
        Self("null".into())
    }
}

impl fmt::Debug for FlowJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 120;
        match self.0.char_indices().nth(SHOWN) {
            Some((cut, _)) => write!(f, "FlowJson({}… {} bytes)", &self.0[..cut], self.0.len()),
            None => write!(f, "FlowJson({})", self.0),
        }
    }
}

impl fmt::Display for FlowJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&Value> for FlowJson {
    fn from(doc: &Value) -> Self {
        Self::from_value(doc)
    }
}

/// Serialized as the JSON document itself (not as a string holding it).
impl Serialize for FlowJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for FlowJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_value(&Value::deserialize(d)?))
    }
}

/// A flow document handed to the engine: parsed, as text, or an
/// execution's stored document. Text is the cheapest: it is parsed
/// straight into the flow's typed specs and kept as is.
#[derive(Debug, Clone, Copy)]
pub enum FlowSource<'a> {
    Value(&'a Value),
    Text(&'a str),
    Json(&'a FlowJson),
}

impl<'a> From<&'a Value> for FlowSource<'a> {
    fn from(v: &'a Value) -> Self {
        Self::Value(v)
    }
}

impl<'a> From<&'a str> for FlowSource<'a> {
    fn from(t: &'a str) -> Self {
        Self::Text(t)
    }
}

impl<'a> From<&'a String> for FlowSource<'a> {
    fn from(t: &'a String) -> Self {
        Self::Text(t)
    }
}

impl<'a> From<&'a FlowJson> for FlowSource<'a> {
    fn from(j: &'a FlowJson) -> Self {
        Self::Json(j)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_text_and_round_trips_through_serde() {
        let doc = json!({"nodes": [{"id": "a", "type": "input"}], "edges": []});
        let j = FlowJson::from_value(&doc);
        assert_eq!(j.to_value().unwrap(), doc);
        assert_eq!(j.node_count(), 1);
        assert_eq!(FlowJson::parse("[1]").unwrap().node_count(), 0);
        let wrapped = serde_json::to_value(json!({"flow": doc})).unwrap();
        #[derive(Serialize, Deserialize)]
        struct W {
            flow: FlowJson,
        }
        let w: W = serde_json::from_value(wrapped.clone()).unwrap();
        assert_eq!(w.flow, j);
        assert_eq!(serde_json::to_value(&w).unwrap(), wrapped);
    }

    #[test]
    fn equal_documents_are_equal_whatever_their_spacing_and_key_order() {
        let a = FlowJson::parse(r#"{"nodes": [{"id": "a", "type": "x"}], "edges": []}"#).unwrap();
        let b = FlowJson::parse(r#"{"edges":[],"nodes":[{"type":"x","id":"a"}]}"#).unwrap();
        let c = FlowJson::parse(r#"{"edges":[],"nodes":[{"type":"y","id":"a"}]}"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn parse_refuses_what_is_not_json() {
        assert!(FlowJson::parse("{\"nodes\": [").is_err());
        assert!(FlowJson::parse("{} {}").is_err());
        let j = FlowJson::parse(" {\"nodes\": []} ").unwrap();
        assert_eq!(j.as_str(), " {\"nodes\": []} ");
    }

    #[test]
    fn debug_shortens_long_documents() {
        let long = format!("[{}]", vec!["1"; 500].join(","));
        let s = format!("{:?}", FlowJson::parse(long.as_str()).unwrap());
        assert!(s.len() < 200 && s.contains("bytes"), "{s}");
    }
}

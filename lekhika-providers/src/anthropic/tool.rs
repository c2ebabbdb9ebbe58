//! Structured output through a forced tool: the schema becomes the only
//! tool's `input_schema`, `tool_choice` forces it, and the tool call's input
//! is the reply's JSON text (so callers parse JSON as with any provider).

use std::borrow::Cow;

use lekhika_core::provider::OutputFormat;
use serde_json::{json, Value};

/// The tool's name.
pub(crate) const ANSWER: &str = "answer";

/// The wrapper property when the schema's top level is not an object (a
/// tool's input must be an object).
const WRAPPED: &str = "value";

/// How a request asks for its JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ForcedTool<'a> {
    pub input_schema: Cow<'a, Value>,
    /// The schema sits under [`WRAPPED`] in the tool's input.
    pub wrapped: bool,
}

/// The forced tool for requests with a JSON Schema (plain JSON requests
/// keep the instruction in the system prompt).
pub(crate) fn forced(output: &OutputFormat) -> Option<ForcedTool<'_>> {
    let OutputFormat::JsonSchema { schema, .. } = output else {
        return None;
    };
    if schema.get("type").and_then(Value::as_str) == Some("object") {
        return Some(ForcedTool {
            input_schema: Cow::Borrowed(schema),
            wrapped: false,
        });
    }
    Some(ForcedTool {
        input_schema: Cow::Owned(json!({
            "type": "object",
            "properties": {WRAPPED: schema},
            "required": [WRAPPED],
        })),
        wrapped: true,
    })
}

/// The `tools` entry.
pub(crate) fn tool_json(t: &ForcedTool<'_>) -> Value {
    json!({
        "name": ANSWER,
        "description": "Give the complete answer as this tool's input, which must match its schema.",
        "input_schema": t.input_schema,
    })
}

/// The `tool_choice` that forces it.
pub(crate) fn choice_json() -> Value {
    json!({"type": "tool", "name": ANSWER})
}

/// The reply text of a tool call's input (JSON text, unwrapped).
pub(crate) fn answer_text(input: &Value, wrapped: bool) -> String {
    match input.get(WRAPPED) {
        Some(v) if wrapped => v.to_string(),
        _ => input.to_string(),
    }
}

/// The reply text of a streamed tool input (the concatenated
/// `partial_json` pieces); unparseable text (a cut reply) is kept as is.
pub(crate) fn streamed_text(json_text: &str, wrapped: bool) -> String {
    if !wrapped {
        return json_text.to_string();
    }
    match serde_json::from_str::<Value>(json_text) {
        Ok(v) => answer_text(&v, true),
        Err(_) => json_text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_schemas_go_as_they_are_others_wrapped() {
        let obj = OutputFormat::JsonSchema {
            name: "o".into(),
            schema: json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        };
        let t = forced(&obj).unwrap();
        assert!(!t.wrapped);
        assert_eq!(
            tool_json(&t)["input_schema"]["properties"]["a"]["type"],
            "string"
        );
        let arr = OutputFormat::JsonSchema {
            name: "o".into(),
            schema: json!({"type": "array", "items": {"type": "integer"}}),
        };
        let t = forced(&arr).unwrap();
        assert!(t.wrapped);
        assert_eq!(t.input_schema["properties"]["value"]["type"], "array");
        assert_eq!(answer_text(&json!({"value": [1, 2]}), true), "[1,2]");
        assert_eq!(streamed_text("{\"value\": [3]}", true), "[3]");
        assert_eq!(streamed_text("{\"value\": [3", true), "{\"value\": [3");
        assert!(forced(&OutputFormat::Json).is_none());
        assert!(forced(&OutputFormat::Text).is_none());
    }
}

//! Flow documents and JSON values from what JS hands over: an object, a
//! JSON string, or a path to a JSON file.

use serde_json::Value;

use crate::error::{BindError, BindResult};

/// A flow given as an object, as JSON text, or as a file path.
pub fn flow_document(source: Value) -> BindResult<Value> {
    match source {
        Value::Object(_) => Ok(source),
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('{') {
                serde_json::from_str(t).map_err(|e| {
                    BindError::invalid_argument(format!("flow is not valid JSON: {e}"))
                })
            } else {
                let text = std::fs::read_to_string(&s).map_err(|e| {
                    BindError::invalid_argument(format!("cannot read flow file {s}: {e}"))
                })?;
                serde_json::from_str(&text).map_err(|e| {
                    BindError::invalid_argument(format!("flow file {s} is not valid JSON: {e}"))
                })
            }
        }
        other => Err(BindError::invalid_argument(format!(
            "a flow is an object, JSON text or a file path, not {}",
            kind_of(&other)
        ))),
    }
}

/// Run options / inputs: absent means an empty object.
pub fn object_or_empty(v: Option<Value>, what: &str) -> BindResult<Value> {
    match v {
        None | Some(Value::Null) => Ok(Value::Object(Default::default())),
        Some(v @ Value::Object(_)) => Ok(v),
        Some(other) => Err(BindError::invalid_argument(format!(
            "{what} must be an object, not {}",
            kind_of(&other)
        ))),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// snake_case → camelCase.
pub fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut up = false;
    for c in key.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Rename the keys of an engine record (event, report) to camelCase, down
/// through `usage`, `error`, `nodes` and `providers`, but never inside user
/// data (`review`, `output`, `metrics`).
pub fn camel_record(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        "review" | "output" | "metrics" | "providers" => match (k.as_str(), v) {
                            ("providers", Value::Object(p)) => Value::Object(
                                p.into_iter()
                                    .map(|(name, t)| (name, camel_record(t)))
                                    .collect(),
                            ),
                            (_, v) => v,
                        },
                        _ => camel_record(v),
                    };
                    (camel(&k), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(camel_record).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flows_come_from_objects_text_and_files() {
        let doc = json!({"nodes": [], "edges": []});
        assert_eq!(flow_document(doc.clone()).unwrap(), doc);
        assert_eq!(flow_document(Value::String(doc.to_string())).unwrap(), doc);
        let path =
            std::env::temp_dir().join(format!("lekhika-node-flow-{}.json", std::process::id()));
        std::fs::write(&path, doc.to_string()).unwrap();
        assert_eq!(
            flow_document(Value::String(path.to_string_lossy().into())).unwrap(),
            doc
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            flow_document(json!(3)).unwrap_err().code,
            "invalid_argument"
        );
        assert_eq!(
            flow_document(json!("{nope")).unwrap_err().code,
            "invalid_argument"
        );
    }

    #[test]
    fn records_are_camel_cased_but_user_data_is_not() {
        let e = json!({"execution_id": "x", "at_ms": 1, "usage": {"input_tokens": 2},
                       "review": {"my_key": 1}, "providers": {"open_ai": {"usage": {"output_tokens": 3}}}});
        let c = camel_record(e);
        assert_eq!(c["executionId"], "x");
        assert_eq!(c["usage"]["inputTokens"], 2);
        assert_eq!(c["review"]["my_key"], 1);
        assert_eq!(c["providers"]["open_ai"]["usage"]["outputTokens"], 3);
    }
}

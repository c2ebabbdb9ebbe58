//! A small JSON Schema subset: enough to hold AI JSON output to a shape.

use serde_json::Value;

/// Problems of `v` against `schema`, each naming its JSON path.
pub fn check_schema(v: &Value, schema: &Value, path: &str) -> Vec<String> {
    let mut out = Vec::new();
    check(v, schema, path, &mut out);
    out
}

fn type_ok(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn check(v: &Value, schema: &Value, path: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else { return };
    match s.get("type") {
        Some(Value::String(t)) if !type_ok(v, t) => {
            out.push(format!("{path} must be {t}"));
            return;
        }
        Some(Value::Array(ts)) if !ts.iter().filter_map(Value::as_str).any(|t| type_ok(v, t)) => {
            out.push(format!("{path} has the wrong type"));
            return;
        }
        _ => {}
    }
    if let Some(Value::Array(allowed)) = s.get("enum") {
        if !allowed.contains(v) {
            out.push(format!(
                "{path} must be one of {}",
                Value::Array(allowed.clone())
            ));
        }
    }
    if let Value::Object(m) = v {
        if let Some(Value::Array(req)) = s.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if !m.contains_key(r) {
                    out.push(format!("{path}.{r} is required"));
                }
            }
        }
        if let Some(Value::Object(props)) = s.get("properties") {
            for (k, ps) in props {
                if let Some(child) = m.get(k) {
                    check(child, ps, &format!("{path}.{k}"), out);
                }
            }
        }
    }
    if let Value::Array(items) = v {
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                out.push(format!(
                    "{path} needs at least {min} items, has {}",
                    items.len()
                ));
            }
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64) {
            if (items.len() as u64) > max {
                out.push(format!(
                    "{path} allows at most {max} items, has {}",
                    items.len()
                ));
            }
        }
        if let Some(is) = s.get("items") {
            for (i, it) in items.iter().enumerate() {
                check(it, is, &format!("{path}[{i}]"), out);
            }
        }
    }
    if let Value::String(st) = v {
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if (st.chars().count() as u64) < min {
                out.push(format!("{path} must have at least {min} characters"));
            }
        }
    }
}

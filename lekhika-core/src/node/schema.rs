//! A small JSON Schema subset: enough to hold AI JSON output to a shape
//! (type, enum, required, properties, items, minItems/maxItems,
//! minLength/maxLength, minimum/maximum and their exclusive forms).

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
        let n = items.len() as u64;
        let min = s.get("minItems").and_then(Value::as_u64);
        let max = s.get("maxItems").and_then(Value::as_u64);
        match (min, max) {
            (Some(a), Some(b)) if a == b && n != a => {
                out.push(format!("{path} must have exactly {a} items, has {n}"));
            }
            _ => {
                if let Some(min) = min.filter(|m| n < *m) {
                    out.push(format!("{path} needs at least {min} items, has {n}"));
                }
                if let Some(max) = max.filter(|m| n > *m) {
                    out.push(format!("{path} allows at most {max} items, has {n}"));
                }
            }
        }
        if let Some(is) = s.get("items") {
            for (i, it) in items.iter().enumerate() {
                check(it, is, &format!("{path}[{i}]"), out);
            }
        }
    }
    if let Value::String(st) = v {
        let n = st.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if n < min {
                out.push(format!("{path} must have at least {min} characters"));
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if n > max {
                out.push(format!("{path} must have at most {max} characters"));
            }
        }
    }
    if let Some(x) = v.as_f64() {
        check_range(x, s, path, out);
    }
}

/// A number as a person writes it (2014, not 2014.0).
pub(crate) fn shown(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

/// `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum` of a number.
fn check_range(x: f64, s: &serde_json::Map<String, Value>, path: &str, out: &mut Vec<String>) {
    let bound = |k: &str| s.get(k).and_then(Value::as_f64);
    let (min, max) = (bound("minimum"), bound("maximum"));
    let below = min.is_some_and(|m| x < m) || bound("exclusiveMinimum").is_some_and(|m| x <= m);
    let above = max.is_some_and(|m| x > m) || bound("exclusiveMaximum").is_some_and(|m| x >= m);
    if !(below || above) {
        return;
    }
    out.push(match (min, max) {
        (Some(a), Some(b)) => format!(
            "{path} is {}, outside the scale {} to {}; answer with a number from {} to {}",
            shown(x),
            shown(a),
            shown(b),
            shown(a),
            shown(b)
        ),
        _ if below => format!("{path} is {}, below its minimum", shown(x)),
        _ => format!("{path} is {}, above its maximum", shown(x)),
    });
}

#[cfg(test)]
mod tests {
    use super::check_schema;
    use serde_json::json;

    #[test]
    fn counts_and_ranges() {
        let s = json!({"type": "object", "properties": {
            "chapters": {"type": "array", "minItems": 3, "maxItems": 3},
            "score": {"type": "number", "minimum": 1, "maximum": 10}}});
        assert!(
            check_schema(&json!({"chapters": [1, 2, 3], "score": 10}), &s, "output").is_empty()
        );
        assert_eq!(
            check_schema(&json!({"chapters": [1], "score": 2014}), &s, "output"),
            vec![
                "output.chapters must have exactly 3 items, has 1".to_string(),
                "output.score is 2014, outside the scale 1 to 10; answer with a number from 1 to 10"
                    .to_string()
            ]
        );
        let open = json!({"type": "number", "exclusiveMinimum": 0});
        assert_eq!(
            check_schema(&json!(0), &open, "x"),
            vec!["x is 0, below its minimum"]
        );
        assert!(check_schema(&json!(0.5), &open, "x").is_empty());
    }
}

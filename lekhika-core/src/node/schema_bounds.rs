//! Schemas whose bounds depend on the run's inputs: a `json_schema` may
//! give a numeric keyword (`minItems`, `maxItems`, `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`) as a
//! template, e.g. `"minItems": "{{input.chapters}}"`. The template is
//! parsed once when the flow loads and filled in for each run, so a plan
//! of 1 chapter for a brief of 3 fails its schema, and is regenerated with
//! that feedback, instead of becoming a 1-chapter book.

use serde_json::Value;

use crate::node::{NodeContext, NodeError, VarUse};
use crate::template::Template;

const BOUND_KEYWORDS: [&str; 8] = [
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
];

/// A JSON schema with templated bounds.
#[derive(Debug, Clone)]
pub(crate) struct BoundSchema {
    schema: Value,
    /// JSON pointer of each templated bound, with its template.
    holes: Vec<(String, String, Template)>,
}

impl BoundSchema {
    /// Parse the templated bounds of `schema`; problems name the keyword.
    pub fn build(schema: Value, field: &str) -> Result<Self, Vec<String>> {
        let mut holes = Vec::new();
        let mut problems = Vec::new();
        collect(&schema, String::new(), &mut |pointer, key, src| {
            match Template::parse(src) {
                Ok(t) if t.variables().next().is_some() => {
                    holes.push((pointer, key.to_string(), t))
                }
                Ok(_) => problems.push(format!(
                    "`{field}`: `{key}` must be a number or a template such as \"{{{{input.chapters}}}}\", not \"{src}\""
                )),
                Err(e) => problems.push(format!("`{field}`: `{key}`: {e}")),
            }
        });
        if problems.is_empty() {
            Ok(Self { schema, holes })
        } else {
            Err(problems)
        }
    }

    /// The template variables of the bounds (for load-time checks).
    pub fn variables(&self, out: &mut Vec<VarUse>) {
        for (_, _, t) in &self.holes {
            super::builtin::uses(t, false, out);
        }
    }

    /// Bytes of the schema's JSON (for estimates of the prompt it adds).
    pub fn size_bytes(&self) -> usize {
        self.schema.to_string().len()
    }

    /// The schema of this run: every templated bound filled with its number.
    pub fn render(&self, ctx: &NodeContext) -> Result<Value, NodeError> {
        if self.holes.is_empty() {
            return Ok(self.schema.clone());
        }
        let mut s = self.schema.clone();
        for (pointer, key, t) in &self.holes {
            let v = ctx.render_value(t)?;
            let n = number(&v).ok_or_else(|| {
                NodeError::failed(format!(
                    "the schema's `{key}` must be a number; its template gave {}",
                    crate::node::builtin::craft::show(&v)
                ))
            })?;
            if let Some(slot) = s.pointer_mut(pointer) {
                *slot = n;
            }
        }
        Ok(s)
    }
}

/// A number, or a string holding one.
fn number(v: &Value) -> Option<Value> {
    match v {
        Value::Number(_) => Some(v.clone()),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<u64>()
                .map(Value::from)
                .ok()
                .or_else(|| t.parse::<i64>().ok().map(Value::from))
                .or_else(|| t.parse::<f64>().ok().map(Value::from))
        }
        _ => None,
    }
}

/// Call `f(pointer, keyword, text)` for every bound keyword given as a string.
fn collect(v: &Value, at: String, f: &mut dyn FnMut(String, &str, &str)) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match child {
                    Value::String(src) if BOUND_KEYWORDS.contains(&k.as_str()) => f(here, k, src),
                    _ => collect(child, here, f),
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                collect(child, format!("{at}/{i}"), f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_templated_bounds_and_rejects_plain_text() {
        let s = BoundSchema::build(
            json!({"properties": {"chapters": {"type": "array",
                "minItems": "{{input.chapters}}", "maxItems": "{{input.chapters}}"},
                "minimum": {"type": "string"}}}),
            "json_schema",
        )
        .unwrap();
        let mut vars = Vec::new();
        s.variables(&mut vars);
        assert_eq!(vars.len(), 2);
        assert_eq!(vars[0].path, vec!["input", "chapters"]);
        let bad = BoundSchema::build(json!({"minItems": "three"}), "json_schema").unwrap_err();
        assert!(bad[0].contains("`minItems` must be a number"), "{bad:?}");
        assert_eq!(number(&json!(" 3 ")), Some(json!(3)));
        assert_eq!(number(&json!("x")), None);
    }
}

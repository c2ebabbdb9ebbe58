//! `{{path}}` templates: parsed once at load, checked against what the flow
//! provides, rendered against run data.
//!
//! Roots: `input.FIELD`, `nodes.ID.output[.path]`, and inside a map:
//! `item[.path]`, `item.index` (0-based), `item.number` (1-based),
//! `prev_item[.path]`, `next_item[.path]` (neighbouring list entries, empty
//! at the ends), `previous` (the preceding item's result, when the map asks
//! for sequential context), `results` (all earlier results).
//! Numeric path segments index arrays.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Var(Vec<String>),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    parts: Vec<Part>,
    literal_bytes: usize,
}

/// A template that could not be parsed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unclosed `{{{{` in template at byte {0}")]
pub struct TemplateSyntaxError(pub usize);

/// Where template variables get their values.
pub trait Scope {
    /// Resolve a variable path (already split on dots). `None` = unknown.
    fn lookup(&self, path: &[String]) -> Option<Value>;
}

/// A scope with no variables (for templates that have none).
pub struct NoVars;

impl Scope for NoVars {
    fn lookup(&self, _path: &[String]) -> Option<Value> {
        None
    }
}

/// A variable that had no value when rendering.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("template variable `{0}` has no value")]
pub struct MissingVariable(pub String);

impl Template {
    pub fn parse(src: &str) -> Result<Self, TemplateSyntaxError> {
        let mut parts = Vec::new();
        let mut rest = src;
        let mut offset = 0;
        let mut literal_bytes = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                literal_bytes += start;
                parts.push(Part::Lit(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or(TemplateSyntaxError(offset + start))?;
            let path: Vec<String> = after[..end]
                .trim()
                .split('.')
                .map(|s| s.trim().to_string())
                .collect();
            parts.push(Part::Var(path));
            offset += start + 2 + end + 2;
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            literal_bytes += rest.len();
            parts.push(Part::Lit(rest.to_string()));
        }
        Ok(Self {
            parts,
            literal_bytes,
        })
    }

    /// Variable paths this template uses.
    pub fn variables(&self) -> impl Iterator<Item = &[String]> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v.as_slice()),
            Part::Lit(_) => None,
        })
    }

    /// Bytes of literal text (for estimates).
    pub fn literal_bytes(&self) -> usize {
        self.literal_bytes
    }

    /// Render; any variable without a value is an error naming it.
    pub fn render(&self, scope: &dyn Scope) -> Result<String, MissingVariable> {
        let mut out = String::with_capacity(self.literal_bytes + 64);
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(path) => {
                    let v = scope
                        .lookup(path)
                        .ok_or_else(|| MissingVariable(path.join(".")))?;
                    push_value(&mut out, &v);
                }
            }
        }
        Ok(out)
    }

    /// Render a template that is exactly one variable to its JSON value
    /// (e.g. `{{nodes.outline.output.chapters}}` to a list). `None` when the
    /// template is not a single variable.
    pub fn render_value(&self, scope: &dyn Scope) -> Option<Result<Value, MissingVariable>> {
        match self.parts.as_slice() {
            [Part::Var(path)] => Some(
                scope
                    .lookup(path)
                    .ok_or_else(|| MissingVariable(path.join("."))),
            ),
            _ => None,
        }
    }
}

/// Append a JSON value as text: strings verbatim, null as nothing, others as JSON.
pub fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
}

/// Follow a dotted path into a JSON value. Numeric segments index arrays;
/// a string holding JSON is looked into as JSON.
pub fn walk<'a>(mut v: &'a Value, path: &[String]) -> Option<&'a Value> {
    for seg in path {
        v = match v {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct S(Value);
    impl Scope for S {
        fn lookup(&self, path: &[String]) -> Option<Value> {
            walk(&self.0, path).cloned()
        }
    }

    #[test]
    fn renders_and_lists_variables() {
        let t = Template::parse("Title: {{input.title}}, ch {{ item.number }}!").unwrap();
        let vars: Vec<String> = t.variables().map(|v| v.join(".")).collect();
        assert_eq!(vars, vec!["input.title", "item.number"]);
        let s = S(json!({"input": {"title": "Dune"}, "item": {"number": 3}}));
        assert_eq!(t.render(&s).unwrap(), "Title: Dune, ch 3!");
    }

    #[test]
    fn missing_variable_is_an_error() {
        let t = Template::parse("{{input.nope}}").unwrap();
        let err = t.render(&S(json!({"input": {}}))).unwrap_err();
        assert_eq!(err.0, "input.nope");
    }

    #[test]
    fn unclosed_is_a_syntax_error() {
        assert!(Template::parse("a {{input.x").is_err());
    }

    #[test]
    fn single_variable_renders_to_value() {
        let t = Template::parse("{{nodes.o.output.chapters}}").unwrap();
        let s = S(json!({"nodes": {"o": {"output": {"chapters": [1, 2]}}}}));
        assert_eq!(t.render_value(&s).unwrap().unwrap(), json!([1, 2]));
    }
}

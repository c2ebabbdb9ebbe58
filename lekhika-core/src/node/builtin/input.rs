//! `input`: the brief form. Declares fields a host renders as a form; its
//! output is the run's input with defaults applied.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::parse_config;
use crate::flow::NodeSpec;
use crate::node::{Node, NodeContext, NodeError, NodeOutput};

/// One form field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputField {
    pub name: String,
    /// `string`, `text`, `number`, `integer`, `boolean`, `select` or `list`.
    #[serde(rename = "type", default = "string_type")]
    pub field_type: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Choices of a `select`.
    #[serde(default)]
    pub options: Option<Vec<Value>>,
    /// Smallest value of a `number` or `integer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// Largest value of a `number` or `integer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
}

fn string_type() -> String {
    "string".into()
}

const TYPES: &[&str] = &[
    "string", "text", "number", "integer", "boolean", "select", "list",
];

impl InputField {
    /// Check (and coerce from CLI strings) one value.
    pub fn coerce(&self, v: &Value) -> Result<Value, String> {
        let bad = || format!("input `{}` must be {}, got {v}", self.name, self.field_type);
        Ok(match (self.field_type.as_str(), v) {
            ("integer", Value::String(s)) => {
                Value::from(s.trim().parse::<i64>().map_err(|_| bad())?)
            }
            ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => v.clone(),
            ("integer", _) => return Err(bad()),
            ("number", Value::String(s)) => {
                let f = s.trim().parse::<f64>().map_err(|_| bad())?;
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(bad)?
            }
            ("number", Value::Number(_)) => v.clone(),
            ("number", _) => return Err(bad()),
            ("boolean", Value::String(s)) => match s.trim() {
                "true" | "yes" | "1" => Value::Bool(true),
                "false" | "no" | "0" => Value::Bool(false),
                _ => return Err(bad()),
            },
            ("boolean", Value::Bool(_)) => v.clone(),
            ("boolean", _) => return Err(bad()),
            ("list", Value::Array(_)) => v.clone(),
            ("list", Value::String(s)) => Value::Array(
                s.split(',')
                    .map(|x| Value::String(x.trim().to_string()))
                    .collect(),
            ),
            ("list", _) => return Err(bad()),
            ("select", _) => {
                if let Some(opts) = &self.options {
                    if !opts.contains(v) {
                        return Err(format!(
                            "input `{}` must be one of {}",
                            self.name,
                            Value::Array(opts.clone())
                        ));
                    }
                }
                v.clone()
            }
            (_, Value::String(_)) => v.clone(),
            (_, Value::Number(_) | Value::Bool(_)) => Value::String(v.to_string()),
            _ => return Err(bad()),
        })
    }

    /// A coerced value within the field's bounds and, if required, not empty.
    fn check(&self, v: &Value) -> Result<(), String> {
        if self.required && is_empty(v) {
            return Err(format!(
                "input `{}` is required and cannot be empty",
                self.name
            ));
        }
        if let Some(x) = v.as_f64() {
            if let Some(min) = self.minimum.filter(|m| x < *m) {
                return Err(format!(
                    "input `{}` must be at least {min}, got {v}",
                    self.name
                ));
            }
            if let Some(max) = self.maximum.filter(|m| x > *m) {
                return Err(format!(
                    "input `{}` must be at most {max}, got {v}",
                    self.name
                ));
            }
        }
        Ok(())
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    fields: Vec<InputField>,
}

pub struct InputNode {
    fields: Vec<InputField>,
}

impl InputNode {
    pub fn build(spec: &NodeSpec) -> Result<Self, Vec<String>> {
        let c: Config = parse_config(spec)?;
        let mut problems = Vec::new();
        for f in &c.fields {
            if !TYPES.contains(&f.field_type.as_str()) {
                problems.push(format!(
                    "field `{}` has unknown type `{}`",
                    f.name, f.field_type
                ));
            }
        }
        if problems.is_empty() {
            Ok(Self { fields: c.fields })
        } else {
            Err(problems)
        }
    }
}

/// Apply defaults and check a run's input against the flow's form: every
/// key must be a field of the form (a typo is an error naming the closest
/// field, not a silent default), required fields must not be empty, values
/// must have their field's type and lie within its bounds. A flow without an
/// input form takes any keys (its templates name them).
pub fn normalize_input(fields: &[InputField], input: &Value) -> Result<Value, Vec<String>> {
    let mut out: Map<String, Value> = input.as_object().cloned().unwrap_or_default();
    let mut problems = Vec::new();
    if !fields.is_empty() {
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        for key in out.keys() {
            if !names.contains(&key.as_str()) {
                let hint = crate::util::closest(key, &names)
                    .map(|c| format!("did you mean `{c}`? "))
                    .unwrap_or_default();
                problems.push(format!(
                    "unknown input `{key}`: {hint}this flow's inputs are {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    for f in fields {
        match out.get(&f.name).filter(|v| !v.is_null()) {
            Some(v) => match f.coerce(v).and_then(|c| f.check(&c).map(|()| c)) {
                Ok(c) => {
                    out.insert(f.name.clone(), c);
                }
                Err(e) => problems.push(e),
            },
            None => match &f.default {
                Some(d) => {
                    out.insert(f.name.clone(), d.clone());
                }
                None if f.required => problems.push(format!("input `{}` is required", f.name)),
                None => {
                    out.insert(f.name.clone(), Value::Null);
                }
            },
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(out))
    } else {
        Err(problems)
    }
}

#[async_trait]
impl Node for InputNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let mut out = Map::new();
        for f in &self.fields {
            out.insert(
                f.name.clone(),
                ctx.input().get(&f.name).cloned().unwrap_or(Value::Null),
            );
        }
        Ok(NodeOutput::new(Value::Object(out)))
    }

    fn input_fields(&self) -> Vec<InputField> {
        self.fields.clone()
    }
}

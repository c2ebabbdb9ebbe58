//! What a host hands over: flow documents and run settings. The bindings
//! and the CLI build these and nothing else.

use std::collections::BTreeMap;
use std::path::Path;

use lekhika_core::flow::FlowSource;
use lekhika_core::node::ModelChoice;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{LekhikaError, Result};

/// The user a request acts for when it names none.
pub const DEFAULT_USER: &str = "local";

/// A flow document (React Flow JSON) as a host hands it over.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowDoc {
    /// A parsed document.
    Json(Value),
    /// JSON text (the cheaper path: parsed straight into typed specs).
    Text(String),
}

impl FlowDoc {
    /// What the bindings accept: an object, JSON text, or the path of a
    /// JSON file.
    pub fn from_value(v: Value) -> Result<Self> {
        match v {
            Value::Object(_) => Ok(Self::Json(v)),
            Value::String(s) if s.trim_start().starts_with('{') => Ok(Self::Text(s)),
            Value::String(s) => Self::from_path(Path::new(&s)),
            other => Err(LekhikaError::InvalidArgument(format!(
                "a flow is an object, JSON text or a file path, not {}",
                kind_of(&other)
            ))),
        }
    }

    /// The JSON file at `path`.
    pub fn from_path(path: &Path) -> Result<Self> {
        std::fs::read_to_string(path).map(Self::Text).map_err(|e| {
            LekhikaError::InvalidArgument(format!("cannot read flow file {}: {e}", path.display()))
        })
    }

    pub(crate) fn source(&self) -> FlowSource<'_> {
        match self {
            Self::Json(v) => FlowSource::Value(v),
            Self::Text(t) => FlowSource::Text(t),
        }
    }
}

/// How to run a flow: everything but the flow and its inputs. Its JSON form
/// (snake_case; unknown keys are errors) is what the bindings accept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSettings {
    /// The acting user [default: `local`]: runs, books and wallets belong to a user.
    pub user: Option<String>,
    /// Every text node's provider; alone, with that provider's default
    /// model from the catalog.
    pub provider: Option<String>,
    /// Every text node's model.
    pub model: Option<String>,
    /// A provider and/or model per node id (wins over `provider`/`model`;
    /// a provider alone gets its default model).
    pub models: BTreeMap<String, ModelChoice>,
    /// Nodes running at once.
    pub max_concurrency: Option<usize>,
    /// The new execution's id, chosen by the host (1–128 ASCII letters,
    /// digits, `-`, `_`, `.` or `:`; unique).
    pub execution_id: Option<String>,
    /// The host's engine id (the old system's `userEngineId`).
    pub engine_id: Option<String>,
    /// Host-defined JSON kept with the execution (the CLI keeps its output
    /// directory and formats here).
    pub host: Value,
    /// Serve calls identical to ones this user already paid for (same
    /// provider, model, parameters and request) from those earlier runs:
    /// no request, no charge, marked `reused` (`lekhika run --reuse`).
    pub reuse: bool,
}

impl RunSettings {
    /// The user this acts for.
    pub fn user(&self) -> &str {
        self.user.as_deref().unwrap_or(DEFAULT_USER)
    }

    /// Settings from their JSON form (`null` is the defaults); unknown keys
    /// are errors naming the key.
    pub fn from_json(v: Value) -> Result<Self> {
        if v.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(v.clone()).map_err(|e| {
            // Name the option at fault when one alone fails.
            let culprit = v.as_object().and_then(|m| {
                m.iter().find_map(|(k, x)| {
                    let one = serde_json::json!({ k.clone(): x.clone() });
                    serde_json::from_value::<Self>(one)
                        .err()
                        .map(|e| format!("run option `{k}`: {e}"))
                })
            });
            LekhikaError::InvalidArgument(culprit.unwrap_or_else(|| format!("run options: {e}")))
        })
    }
}

/// One run of a flow: what `start`, `run`, `submit` and `estimate` take.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    pub flow: FlowDoc,
    /// The brief: the flow's inputs (`null` is none).
    pub input: Value,
    pub settings: RunSettings,
}

impl RunRequest {
    pub fn new(flow: FlowDoc, input: Value, settings: RunSettings) -> Self {
        Self {
            flow,
            input: if input.is_null() {
                Value::Object(Default::default())
            } else {
                input
            },
            settings,
        }
    }

    /// The execution id this request will create: the host's own, or one
    /// chosen now (so a host can register per-run state before the run
    /// starts).
    pub fn ensure_id(&mut self) -> &str {
        self.settings
            .execution_id
            .get_or_insert_with(lekhika_core::util::new_id)
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

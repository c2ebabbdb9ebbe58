//! Loopback servers that refuse what real OpenAI-compatible servers refuse,
//! with their exact error bodies.

use serde_json::Value;

use super::{Protocol, Reply, ScriptedServer};

/// llama-cpp-python's server (0.3.36, FastAPI 0.165, pydantic 2.14) asked
/// for `response_format: {"type": "json_schema", ...}`: its route handler
/// turns the request validation error into HTTP 500. Recorded byte for byte
/// from `python -m llama_cpp.server` on 2026-11-30.
pub const LLAMA_CPP_PYTHON_JSON_SCHEMA_500: &str = r#"{"error":{"message":"1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"/tmp/llmvenv-19/lib/python3.11/site-packages/llama_cpp/server/app.py\", line 376, in create_chat_completion\n    POST /v1/chat/completions","type":"internal_server_error","param":null,"code":null}}"#;

impl ScriptedServer {
    /// An OpenAI-compatible server that refuses `json_schema` response
    /// formats the way llama-cpp-python does (HTTP 500, the body above) and
    /// answers everything else with `handler` (`json_object`, with or
    /// without a `schema` beside it, is accepted).
    pub fn llama_cpp_python(handler: impl Fn(&Value) -> Reply + Send + Sync + 'static) -> Self {
        Self::start(Protocol::OpenAi, move |r| {
            let format = r
                .body
                .pointer("/response_format/type")
                .and_then(Value::as_str);
            if format == Some("json_schema") {
                return Reply::error(500, LLAMA_CPP_PYTHON_JSON_SCHEMA_500)
                    .header("x-request-id", "49a129ff175446628f1a84315ac8f7b5");
            }
            // Its server ignores `stream_options`: streams carry no usage.
            handler(&r.body).without_stream_usage()
        })
    }
}

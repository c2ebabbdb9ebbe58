//! Values in and out: every result is the JSON form of a host API type
//! (snake_case keys, the same as Python and the CLI's --json).

use serde::Serialize;
use serde_json::Value;

/// The JSON form of any host API value.
pub fn to_json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Inputs: absent or `null` means none.
pub fn or_null(v: Option<Value>) -> Value {
    v.unwrap_or(Value::Null)
}

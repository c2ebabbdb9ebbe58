//! Reading flows and briefs from files and flags.

use serde_json::{Map, Value};

use crate::args::Inputs;
use crate::error::{CliError, CliResult};

/// `--inputs FILE` then each `--input key=value` on top. Values stay strings;
/// the flow's input form converts them to its field types.
pub fn collect(inputs: &Inputs) -> CliResult<Value> {
    let mut map = match &inputs.inputs {
        Some(p) => match lekhika::read_json(p, "inputs file")? {
            Value::Object(m) => m,
            _ => {
                return Err(CliError::bad_input(
                    "the inputs file must hold a JSON object",
                ))
            }
        },
        None => Map::new(),
    };
    for kv in &inputs.input {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            CliError::bad_input(format!("--input `{kv}` must look like key=value"))
        })?;
        if k.trim().is_empty() {
            return Err(CliError::bad_input(format!(
                "--input `{kv}` has an empty key"
            )));
        }
        map.insert(k.trim().to_string(), Value::String(v.to_string()));
    }
    Ok(Value::Object(map))
}

//! Reading flows and briefs from files and flags.

use serde_json::{Map, Value};

use crate::args::Inputs;
use crate::error::{CliError, CliResult};

/// `--inputs FILE`, then each `--input-file key=PATH` (the file's text) and
/// `--input key=value` on top. Values stay strings; the flow's input form
/// converts them to its field types.
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
    for kv in &inputs.input_file {
        let (k, path) = key_value("--input-file", kv, "key=path")?;
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::bad_input(format!("--input-file `{kv}`: cannot read {path}: {e}"))
        })?;
        map.insert(k, Value::String(text));
    }
    for kv in &inputs.input {
        let (k, v) = key_value("--input", kv, "key=value")?;
        map.insert(k, Value::String(v.to_string()));
    }
    Ok(Value::Object(map))
}

/// `key=rest` of a `flag` argument: the trimmed key and the rest.
fn key_value<'a>(flag: &str, kv: &'a str, form: &str) -> CliResult<(String, &'a str)> {
    let (k, v) = kv
        .split_once('=')
        .ok_or_else(|| CliError::bad_input(format!("{flag} `{kv}` must look like {form}")))?;
    if k.trim().is_empty() {
        return Err(CliError::bad_input(format!(
            "{flag} `{kv}` has an empty key"
        )));
    }
    Ok((k.trim().to_string(), v))
}

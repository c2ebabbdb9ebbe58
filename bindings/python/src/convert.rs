//! JSON values between Python and Rust, and the "dict, JSON string or path"
//! arguments (flows, catalogs, inputs).

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::errors;

/// A JSON value returned to Python (dicts, lists, str, int, float, bool, None).
pub struct Json(pub Value);

impl Json {
    /// Any serde value, as Python sees its JSON form.
    pub fn of<T: serde::Serialize>(v: &T) -> Self {
        Self(serde_json::to_value(v).unwrap_or_default())
    }
}

impl<'py> IntoPyObject<'py> for Json {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        value_to_py(py, &self.0)
    }
}

pub fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| value_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, value_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// A JSON-able Python value (dict with str keys, list, tuple, str, int, float, bool, None).
pub fn py_to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyTypeError::new_err(
            "integer out of the 64-bit range cannot be sent as JSON",
        ));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyTypeError::new_err("NaN and infinity cannot be sent as JSON"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.extract::<String>()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut m = Map::new();
        for (k, v) in d.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "JSON object keys must be str, got {}",
                    type_name(&k)
                ))
            })?;
            m.insert(key.extract::<String>()?, py_to_value(&v)?);
        }
        return Ok(Value::Object(m));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l
            .iter()
            .map(|x| py_to_value(&x))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t
            .iter()
            .map(|x| py_to_value(&x))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    Err(PyTypeError::new_err(format!(
        "{} is not JSON-able",
        type_name(obj)
    )))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".into())
}

/// A flow document: a dict, JSON text, or a path (str or `os.PathLike`).
pub fn flow_doc(obj: &Bound<'_, PyAny>) -> PyResult<lekhika::FlowDoc> {
    if let Ok(s) = obj.cast::<PyString>() {
        return lekhika::FlowDoc::from_value(Value::String(s.extract()?))
            .map_err(errors::from_lekhika);
    }
    if obj.hasattr("__fspath__")? {
        let p: PathBuf = obj.extract()?;
        return lekhika::FlowDoc::from_path(&p).map_err(errors::from_lekhika);
    }
    if obj.cast::<PyDict>().is_ok() {
        return Ok(lekhika::FlowDoc::Json(py_to_value(obj)?));
    }
    Err(PyTypeError::new_err(format!(
        "a flow must be a dict, a JSON string or a path, got {}",
        type_name(obj)
    )))
}

/// Run settings from keyword arguments (`user`, `provider`, `model`,
/// `models`, `max_concurrency`, `execution_id`, `engine_id`, `host`);
/// unknown ones are errors.
pub fn settings(options: Option<&Bound<'_, PyDict>>) -> PyResult<lekhika::RunSettings> {
    let v = match options {
        Some(d) => py_to_value(d.as_any())?,
        None => Value::Null,
    };
    lekhika::RunSettings::from_json(v).map_err(errors::from_lekhika)
}

/// A run request: flow, inputs and keyword settings.
pub fn request(
    flow: &Bound<'_, PyAny>,
    input: Option<&Bound<'_, PyAny>>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<lekhika::RunRequest> {
    Ok(lekhika::RunRequest::new(
        flow_doc(flow)?,
        self::input(input)?,
        settings(options)?,
    ))
}

/// Run inputs: `None` means `{}`.
pub fn input(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Value> {
    match obj {
        None => Ok(Value::Object(Map::new())),
        Some(o) if o.is_none() => Ok(Value::Object(Map::new())),
        Some(o) => py_to_value(o),
    }
}

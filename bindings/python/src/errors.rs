//! The one place where Rust errors and run outcomes become Python exceptions.
//!
//! Hierarchy (all importable from `lekhika`):
//!
//! ```text
//! LekhikaError
//! ├── ConfigError          bad configuration or argument (providers, catalog, formats, JSON)
//! ├── FlowError            .problems: list[{scope, id, message}]
//! ├── InvalidInput         .problems: list[str]
//! ├── TierDenied           .level, .problems
//! ├── MissingPrices        .models: metered user, unpriced models
//! ├── UnknownNode          .node
//! ├── InvalidState         the request does not fit the execution's state
//! ├── Busy                 .runner: another live process runs the execution (retryable)
//! ├── StoreError           .retryable
//! │   └── NotFound
//! ├── ExportError
//! └── RunError             .outcome, .execution_id, .reason, .node  (raised by `check=True`)
//!     ├── RunFailed        .code, .retryable
//!     │   └── ProviderError
//!     ├── RunStopped
//!     └── RunPaused        resumable
//!         ├── InsufficientTokens
//!         ├── ExecutionLimitExceeded
//!         └── AwaitingApproval   .review
//! ```

use lekhika::LekhikaError as Lk;
use lekhika_core::exec::EngineError;
use lekhika_core::store::{ExecutionStatus, StoreError as RsStoreError};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::value_to_py;
use crate::outcome::RunOutcome;

create_exception!(
    lekhika,
    LekhikaError,
    PyException,
    "Base of every Lekhika error."
);
create_exception!(
    lekhika,
    ConfigError,
    LekhikaError,
    "Bad configuration or argument; fix it and retry."
);
create_exception!(
    lekhika,
    FlowError,
    LekhikaError,
    "The flow document is invalid; `.problems` lists every problem."
);
create_exception!(
    lekhika,
    InvalidInput,
    LekhikaError,
    "The inputs do not match the flow's input form; `.problems` says how."
);
create_exception!(
    lekhika,
    TierDenied,
    LekhikaError,
    "The user's tier does not allow what the flow uses; nothing was spent."
);
create_exception!(
    lekhika,
    MissingPrices,
    LekhikaError,
    "The user is metered but the catalog has no price for `.models`; nothing was spent."
);
create_exception!(
    lekhika,
    UnknownNode,
    LekhikaError,
    "No node with that id in the flow."
);
create_exception!(
    lekhika,
    InvalidState,
    LekhikaError,
    "The request does not fit the execution's state."
);
create_exception!(
    lekhika,
    Busy,
    LekhikaError,
    "Another live process runs this execution (`.runner`); wait for it to end, or stop it."
);
create_exception!(
    lekhika,
    StoreError,
    LekhikaError,
    "The store failed; `.retryable` says whether trying again may help."
);
create_exception!(
    lekhika,
    NotFound,
    StoreError,
    "No such record for this user."
);
create_exception!(
    lekhika,
    ExportError,
    LekhikaError,
    "Rendering or writing the book failed."
);
create_exception!(
    lekhika,
    RunError,
    LekhikaError,
    "A run did not complete; `.outcome` tells how it ended."
);
create_exception!(
    lekhika,
    RunFailed,
    RunError,
    "A run failed; `.code` and `.retryable` describe the node failure."
);
create_exception!(
    lekhika,
    ProviderError,
    RunFailed,
    "An AI provider call failed; `.retryable` says whether resuming may help."
);
create_exception!(
    lekhika,
    RunStopped,
    RunError,
    "The run was stopped; finished work is kept, `resume` continues."
);
create_exception!(
    lekhika,
    RunPaused,
    RunError,
    "The run paused; act on `.reason`, then `resume`."
);
create_exception!(
    lekhika,
    InsufficientTokens,
    RunPaused,
    "The wallet cannot cover the next call; grant tokens and resume."
);
create_exception!(
    lekhika,
    ExecutionLimitExceeded,
    RunPaused,
    "The tier's per-execution limit is reached."
);
create_exception!(
    lekhika,
    AwaitingApproval,
    RunPaused,
    "An approval gate waits; approve or reject, `.review` holds the output."
);

/// Register every exception class on the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("LekhikaError", py.get_type::<LekhikaError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("FlowError", py.get_type::<FlowError>())?;
    m.add("InvalidInput", py.get_type::<InvalidInput>())?;
    m.add("TierDenied", py.get_type::<TierDenied>())?;
    m.add("MissingPrices", py.get_type::<MissingPrices>())?;
    m.add("UnknownNode", py.get_type::<UnknownNode>())?;
    m.add("InvalidState", py.get_type::<InvalidState>())?;
    m.add("Busy", py.get_type::<Busy>())?;
    m.add("StoreError", py.get_type::<StoreError>())?;
    m.add("NotFound", py.get_type::<NotFound>())?;
    m.add("ExportError", py.get_type::<ExportError>())?;
    m.add("RunError", py.get_type::<RunError>())?;
    m.add("RunFailed", py.get_type::<RunFailed>())?;
    m.add("ProviderError", py.get_type::<ProviderError>())?;
    m.add("RunStopped", py.get_type::<RunStopped>())?;
    m.add("RunPaused", py.get_type::<RunPaused>())?;
    m.add("InsufficientTokens", py.get_type::<InsufficientTokens>())?;
    m.add(
        "ExecutionLimitExceeded",
        py.get_type::<ExecutionLimitExceeded>(),
    )?;
    m.add("AwaitingApproval", py.get_type::<AwaitingApproval>())?;
    Ok(())
}

/// Build an exception and set attributes on it.
fn with_attrs(
    err: PyErr,
    attrs: impl FnOnce(Python<'_>, &Bound<'_, PyAny>) -> PyResult<()>,
) -> PyErr {
    Python::attach(|py| {
        let value = err.value(py).clone().into_any();
        match attrs(py, &value) {
            Ok(()) => err,
            Err(e) => e,
        }
    })
}

/// A configuration or argument problem.
pub fn config(message: impl Into<String>) -> PyErr {
    ConfigError::new_err(message.into())
}

/// The store could not be opened or migrated.
pub fn store_open(message: &str) -> PyErr {
    with_attrs(StoreError::new_err(message.to_string()), |_, v| {
        v.setattr("retryable", false)
    })
}

/// The exception for a host API error, with its stable `.code` and `.retryable`.
pub fn from_lekhika(e: Lk) -> PyErr {
    let (code, retryable) = (e.code(), e.retryable());
    let err = match e {
        Lk::Engine(e) => from_engine(e),
        Lk::Store(e) => from_store(e),
        Lk::StoreOpen { cause, .. } => with_attrs(store_open(&e.to_string()), |_, v| {
            v.setattr("reason", cause)
        }),
        Lk::Export(m) => ExportError::new_err(format!("export failed: {m}")),
        Lk::Io(m) => ExportError::new_err(m),
        Lk::Config(m) | Lk::NoBook(m) | Lk::InvalidArgument(m) => ConfigError::new_err(m),
    };
    with_attrs(err, |_, v| {
        v.setattr("code", code)?;
        v.setattr("retryable", retryable)
    })
}

pub fn from_engine(e: EngineError) -> PyErr {
    let msg = e.to_string();
    match e {
        EngineError::Flow(f) => with_attrs(FlowError::new_err(msg), |py, v| {
            let problems = serde_json::to_value(&f.problems).unwrap_or_default();
            v.setattr("problems", value_to_py(py, &problems)?)
        }),
        EngineError::InvalidInput(p) => with_attrs(InvalidInput::new_err(msg), |py, v| {
            v.setattr("problems", PyList::new(py, p)?)
        }),
        EngineError::TierDenied { level, problems } => {
            with_attrs(TierDenied::new_err(msg), |py, v| {
                v.setattr("level", level)?;
                v.setattr("problems", PyList::new(py, problems)?)
            })
        }
        EngineError::MissingPrices(models) => with_attrs(MissingPrices::new_err(msg), |py, v| {
            v.setattr("models", PyList::new(py, models)?)
        }),
        EngineError::UnknownNode(n) => {
            with_attrs(UnknownNode::new_err(msg), |_, v| v.setattr("node", n))
        }
        EngineError::InvalidState(_) | EngineError::AlreadyCompleted(_) => {
            InvalidState::new_err(msg)
        }
        EngineError::Busy { runner, .. } => with_attrs(Busy::new_err(msg), |_, v| {
            v.setattr("runner", runner.clone())?;
            v.setattr("retryable", true)
        }),
        EngineError::Store(s) => from_store(s),
        EngineError::Task(_) => LekhikaError::new_err(msg),
    }
}

pub fn from_store(e: RsStoreError) -> PyErr {
    let msg = e.to_string();
    let retryable = matches!(
        e,
        RsStoreError::Backend {
            retryable: true,
            ..
        }
    );
    let err = match e {
        RsStoreError::NotFound { .. } => NotFound::new_err(msg),
        _ => StoreError::new_err(msg),
    };
    with_attrs(err, |_, v| v.setattr("retryable", retryable))
}

/// The exception for an outcome that is not `completed`, or `None`.
pub fn from_outcome(py: Python<'_>, outcome: &RunOutcome) -> Option<PyErr> {
    let o = &outcome.inner;
    let msg = o
        .message
        .clone()
        .unwrap_or_else(|| format!("run {} ended {}", o.execution_id, o.status.as_str()));
    let reason = o.reason.as_deref().unwrap_or("");
    let failure = outcome.inner.failure.as_ref();
    let err = match o.status {
        ExecutionStatus::Completed
        | ExecutionStatus::Running
        | ExecutionStatus::Pending
        | ExecutionStatus::Interrupted => return None,
        ExecutionStatus::Stopped => RunStopped::new_err(msg),
        ExecutionStatus::Paused => match reason {
            "insufficient_tokens" => InsufficientTokens::new_err(msg),
            "execution_limit_exceeded" => ExecutionLimitExceeded::new_err(msg),
            "awaiting_approval" => AwaitingApproval::new_err(msg),
            _ => RunPaused::new_err(msg),
        },
        ExecutionStatus::Failed => {
            let code = failure.map(|f| f.code.as_str()).unwrap_or(reason);
            if code == "provider_error" || code == "content_blocked" {
                ProviderError::new_err(msg)
            } else {
                RunFailed::new_err(msg)
            }
        }
    };
    let set = |v: &Bound<'_, PyAny>| -> PyResult<()> {
        v.setattr("outcome", Py::new(py, outcome.clone())?)?;
        v.setattr("execution_id", o.execution_id.clone())?;
        v.setattr("reason", o.reason.clone())?;
        v.setattr("node", o.node.clone())?;
        if o.status == ExecutionStatus::Failed {
            v.setattr(
                "code",
                failure.map(|f| f.code.clone()).or_else(|| o.reason.clone()),
            )?;
            v.setattr("retryable", failure.is_some_and(|f| f.retryable))?;
        }
        if reason == "awaiting_approval" {
            let review = outcome.inner.review.clone().unwrap_or_default();
            v.setattr("review", value_to_py(py, &review)?)?;
        }
        Ok(())
    };
    let value = err.value(py).clone().into_any();
    Some(match set(&value) {
        Ok(()) => err,
        Err(e) => e,
    })
}

/// A Python exception raised by a custom node, as the node's failure.
/// `retryable = True` on the exception makes the executor retry it.
pub fn node_failure(py: Python<'_>, err: &PyErr) -> lekhika_core::NodeError {
    let value = err.value(py);
    let retryable = value
        .getattr("retryable")
        .and_then(|r| r.is_truthy())
        .unwrap_or(false);
    let kind = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    lekhika_core::NodeError::Failed {
        message: format!("{kind}: {value}"),
        retryable,
    }
}

use crate::flow::FlowError;
use crate::store::StoreError;

/// Why the engine refused or could not carry out a request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// The flow document is invalid; every problem is listed. Fix the flow.
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// The run's inputs do not match the flow's input form. Fix the inputs.
    #[error("invalid input: {}", .0.join("; "))]
    InvalidInput(Vec<String>),
    /// The user's tier does not allow what the flow uses. Nothing was spent.
    #[error("not allowed by tier `{level}`: {}", problems.join("; "))]
    TierDenied {
        level: String,
        problems: Vec<String>,
    },
    /// The user's runs are metered but the catalog has no price for these models. Nothing was spent.
    #[error("no price in the model catalog for {}; metered runs need one", .0.join(", "))]
    MissingPrices(Vec<String>),
    #[error("no node `{0}` in this flow")]
    UnknownNode(String),
    /// The request does not fit the execution's state.
    #[error("{0}")]
    InvalidState(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another live runner holds the execution's lease (a second `resume`,
    /// or a resume while the first process still runs). Wait for it to end,
    /// or stop it; retrying after it ends helps.
    #[error("execution {execution_id} is being run by {runner} (its lease is renewed; it would expire in {} s); wait for that run to end, or stop it with `lekhika stop {execution_id}`", .expires_in_ms.max(&0) / 1000)]
    Busy {
        execution_id: String,
        runner: String,
        expires_in_ms: i64,
    },
    /// The execution already completed: nothing is left to run (use
    /// regenerate to run a node again).
    #[error("execution {0} is already completed; nothing to resume (use regenerate to run a node again)")]
    AlreadyCompleted(String),
    /// The run task ended abnormally.
    #[error("run task failed: {0}")]
    Task(String),
}

impl EngineError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Flow(_) => "invalid_flow",
            Self::InvalidInput(_) => "invalid_input",
            Self::TierDenied { .. } => "tier_denied",
            Self::MissingPrices(_) => "missing_prices",
            Self::UnknownNode(_) => "unknown_node",
            Self::InvalidState(_) => "invalid_state",
            Self::Store(StoreError::NotFound { .. }) => "not_found",
            Self::Store(StoreError::Conflict(_)) => "conflict",
            Self::Store(StoreError::Forbidden(_)) => "forbidden",
            Self::Store(StoreError::Backend { .. }) => "store_error",
            Self::Busy { .. } => "busy",
            Self::AlreadyCompleted(_) => "already_completed",
            Self::Task(_) => "task_failed",
        }
    }

    /// Could the same request succeed later, unchanged?
    pub fn retryable(&self) -> bool {
        match self {
            Self::Busy { .. } => true,
            Self::Store(StoreError::Backend { retryable, .. }) => *retryable,
            _ => false,
        }
    }

    /// Caused by what the caller sent (flow, inputs, node names), not by the system.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::Flow(_)
                | Self::InvalidInput(_)
                | Self::UnknownNode(_)
                | Self::TierDenied { .. }
                | Self::MissingPrices(_)
        )
    }
}

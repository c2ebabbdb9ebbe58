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
    /// The run task ended abnormally.
    #[error("run task failed: {0}")]
    Task(String),
}

impl EngineError {
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

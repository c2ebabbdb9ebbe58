use serde::{Deserialize, Serialize};

use crate::provider::ProviderError;
use crate::store::StoreError;
use crate::template::MissingVariable;

/// Why a node did not produce an output.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NodeError {
    /// The model call failed; `is_retryable` follows the provider's classification.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The wallet cannot cover the worst case of the next call. The run pauses; grant and resume.
    #[error("insufficient tokens: the next call needs up to {needed}, the wallet has {available}")]
    InsufficientTokens { needed: i64, available: i64 },
    /// The execution's tier limit cannot cover the next call. The run pauses.
    #[error("execution limit exceeded: the next call needs up to {needed}, {used} of {limit} already used")]
    ExecutionLimitExceeded { needed: i64, limit: i64, used: i64 },
    /// A template variable had no value at run time.
    #[error(transparent)]
    Template(#[from] MissingVariable),
    /// The output failed a validator; regenerating with the message may help.
    #[error("invalid output: {0}")]
    InvalidOutput(String),
    /// An approval gate is waiting for the host.
    #[error("awaiting approval")]
    AwaitingApproval,
    /// The node ran out of time. Retryable.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The run was stopped.
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else a node reports.
    #[error("{message}")]
    Failed { message: String, retryable: bool },
}

impl NodeError {
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Failed {
            message: message.into(),
            retryable: false,
        }
    }

    /// Could trying the same node again help?
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Provider(p) => p.is_retryable(),
            Self::Timeout(_) => true,
            Self::Store(StoreError::Backend { retryable, .. }) => *retryable,
            Self::Failed { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// Errors that pause the run (resumable) instead of failing it.
    pub fn pauses_run(&self) -> bool {
        matches!(
            self,
            Self::InsufficientTokens { .. }
                | Self::ExecutionLimitExceeded { .. }
                | Self::AwaitingApproval
        )
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            // Resuming repeats a block: it needs another prompt or provider.
            Self::Provider(p) if p.kind == crate::provider::ProviderErrorKind::ContentBlocked => {
                "content_blocked"
            }
            Self::Provider(_) => "provider_error",
            Self::InsufficientTokens { .. } => "insufficient_tokens",
            Self::ExecutionLimitExceeded { .. } => "execution_limit_exceeded",
            Self::Template(_) => "template_error",
            Self::InvalidOutput(_) => "invalid_output",
            Self::AwaitingApproval => "awaiting_approval",
            Self::Timeout(_) => "timeout",
            Self::Cancelled => "cancelled",
            Self::Store(_) => "store_error",
            Self::Failed { .. } => "node_failed",
        }
    }
}

/// A node failure as recorded in events and status: plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeFailure {
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

impl From<&NodeError> for NodeFailure {
    fn from(e: &NodeError) -> Self {
        Self {
            code: e.code().to_string(),
            message: e.to_string(),
            retryable: e.is_retryable(),
        }
    }
}

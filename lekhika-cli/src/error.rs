//! Errors with the exit code they map to.

use lekhika_core::exec::EngineError;

/// Exit codes: 0 done, 1 other failure (store, I/O), 2 bad input (flow,
/// inputs, flags), 3 provider failure (resumable), 4 out of tokens (paused,
/// resumable), 5 awaiting approval (paused), 6 busy (another live process
/// runs the execution), 7 a step failed (invalid output, a node error),
/// 8 content blocked by the provider (needs another prompt or provider),
/// 130 stopped.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

pub const BAD_INPUT: i32 = 2;
pub const PROVIDER: i32 = 3;
pub const OUT_OF_TOKENS: i32 = 4;
pub const AWAITING_APPROVAL: i32 = 5;
pub const BUSY: i32 = 6;
pub const NODE_FAILED: i32 = 7;
pub const CONTENT_BLOCKED: i32 = 8;
pub const STOPPED: i32 = 130;

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(BAD_INPUT, message)
    }
    pub fn other(message: impl Into<String>) -> Self {
        Self::new(1, message)
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        let code = match &e {
            EngineError::Store(lekhika_core::store::StoreError::NotFound { .. }) => BAD_INPUT,
            e if e.is_bad_input() => BAD_INPUT,
            EngineError::InvalidState(_) => BAD_INPUT,
            EngineError::Busy { .. } => BUSY,
            _ => 1,
        };
        Self::new(code, e.to_string())
    }
}

impl From<lekhika_core::store::StoreError> for CliError {
    fn from(e: lekhika_core::store::StoreError) -> Self {
        EngineError::from(e).into()
    }
}

pub type CliResult<T> = Result<T, CliError>;

use lekhika_core::exec::EngineError;
use lekhika_core::store::StoreError;

/// What went wrong assembling or using Lekhika.
#[derive(Debug, thiserror::Error)]
pub enum LekhikaError {
    /// Bad configuration or input from the caller (files, providers, formats). Fix and retry.
    #[error("{0}")]
    Config(String),
    /// The store could not be opened.
    #[error("cannot open store {location}: {message}")]
    StoreOpen { location: String, message: String },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The execution has no book to export: its flow has no `compile` node,
    /// or that node has not finished.
    #[error("{0}")]
    NoBook(String),
    /// Rendering the book failed.
    #[error("export failed: {0}")]
    Export(String),
    /// Writing files failed.
    #[error("{0}")]
    Io(String),
}

impl LekhikaError {
    /// Caused by the caller's input (exit code 2 in the CLI).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Config(_) | Self::NoBook(_) | Self::Export(_) => true,
            Self::Engine(e) => {
                e.is_bad_input()
                    || matches!(
                        e,
                        EngineError::InvalidState(_)
                            | EngineError::Store(StoreError::NotFound { .. })
                    )
            }
            Self::Store(StoreError::NotFound { .. }) => true,
            _ => false,
        }
    }
}

pub type Result<T, E = LekhikaError> = std::result::Result<T, E>;

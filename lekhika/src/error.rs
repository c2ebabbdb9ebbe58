use lekhika_core::exec::EngineError;
use lekhika_core::store::StoreError;

/// What went wrong assembling or using Lekhika: the one error type of the
/// host API. [`LekhikaError::code`] is stable and machine-readable (the
/// bindings' exceptions and `Error`s carry it); [`LekhikaError::retryable`]
/// says whether the same request may succeed later.
#[derive(Debug, thiserror::Error)]
pub enum LekhikaError {
    /// Bad configuration (files, providers, catalog, formats). Fix and retry.
    #[error("{0}")]
    Config(String),
    /// An argument the caller passed is unusable (bad JSON, wrong shape,
    /// unknown option). Fix and retry.
    #[error("{0}")]
    InvalidArgument(String),
    /// The store could not be opened: `cause` is the store's own code
    /// (`auth_failed`, `not_migrated`, `unsafe_role`, …), `location` never
    /// shows a password.
    #[error("cannot open store {location}: {message}")]
    StoreOpen {
        location: String,
        message: String,
        cause: &'static str,
        retryable: bool,
    },
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
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Config(_) => "config",
            Self::InvalidArgument(_) => "invalid_argument",
            Self::StoreOpen { .. } => "store_open",
            Self::Engine(e) => e.code(),
            Self::Store(e) => EngineError::Store(e.clone()).code(),
            Self::NoBook(_) => "no_book",
            Self::Export(_) => "export_failed",
            Self::Io(_) => "io_error",
        }
    }

    /// Could the same request succeed later, unchanged?
    pub fn retryable(&self) -> bool {
        match self {
            Self::Engine(e) => e.retryable(),
            Self::Store(StoreError::Backend { retryable, .. }) => *retryable,
            Self::StoreOpen { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// Caused by the caller's input (exit code 2 in the CLI).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Config(_) | Self::InvalidArgument(_) | Self::NoBook(_) | Self::Export(_) => true,
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

impl LekhikaError {
    /// Opening the store at `location` failed (the password is redacted).
    pub(crate) fn store_open(location: &str, e: &lekhika_store::OpenError) -> Self {
        Self::StoreOpen {
            location: crate::api::books::redact_url(location),
            message: e.to_string(),
            cause: e.code(),
            retryable: e.retryable(),
        }
    }
}

//! Errors of opening a store (the trait methods return core's `StoreError`).

/// Why a store could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL or path names a backend this build does not include; rebuild
    /// with the named cargo feature. Retrying does not help.
    #[error("store backend `{backend}` is not compiled in (enable cargo feature `{backend}`)")]
    BackendDisabled { backend: &'static str },
    /// The URL could not be parsed. Retrying does not help.
    #[error("invalid store URL: {0}")]
    InvalidUrl(String),
    /// The database could not be reached or opened; may help to retry later.
    #[error("cannot connect to the store: {0}")]
    Connect(String),
    /// Creating or upgrading the schema failed. Retrying does not help until
    /// the cause (permissions, a broken migration) is fixed.
    #[error("store migration failed: {0}")]
    Migration(String),
    /// A runtime problem (no tokio runtime, a worker thread died).
    #[error("store runtime error: {0}")]
    Runtime(String),
}

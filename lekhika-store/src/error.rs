//! Errors of opening a store (the trait methods return core's `StoreError`).

/// Why a store could not be opened or migrated. Each variant names its cause
/// in words and says whether retrying can help ([`OpenError::retryable`]).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL or path names a backend this build does not include; rebuild
    /// with the named cargo feature. Retrying does not help.
    #[error("store backend `{backend}` is not compiled in (enable cargo feature `{backend}`)")]
    BackendDisabled { backend: &'static str },
    /// The URL could not be parsed. Retrying does not help.
    #[error("invalid store URL: {0}")]
    InvalidUrl(String),
    /// The server refused the user name or password. Retrying does not help.
    #[error("authentication failed for database user `{user}`: {detail}")]
    AuthFailed { user: String, detail: String },
    /// The server has no database of that name. Retrying does not help.
    #[error("database `{database}` does not exist on the server (create it, then run `lekhika migrate --store ADMIN_URL`)")]
    DatabaseMissing { database: String },
    /// Nothing listens at the address (the server is down or the host/port
    /// is wrong); may help to retry once the server is up.
    #[error("connection refused by {address}: is the database server running there?")]
    ConnectionRefused { address: String },
    /// The database could not be reached or opened for another reason; may
    /// help to retry later.
    #[error("cannot connect to the store: {0}")]
    Connect(String),
    /// A SQLite file that cannot be opened or used (a directory, no
    /// permission, not a database). Retrying does not help.
    #[error("cannot open the store file: {0}")]
    File(String),
    /// The database has no Lekhika schema yet.
    #[error("the database has no Lekhika schema: run `lekhika migrate --store ADMIN_URL` with an owner/admin URL first")]
    NotMigrated,
    /// The schema lacks migrations this binary needs.
    #[error("the database schema is older than this binary (missing {}): run `lekhika migrate --store ADMIN_URL`", .missing.join(", "))]
    SchemaOutdated { missing: Vec<String> },
    /// The schema has migrations this binary does not know: a newer Lekhika
    /// migrated it. Upgrade this binary; retrying does not help.
    #[error("the database schema is newer than this binary (unknown migrations {}): upgrade lekhika", .unknown.join(", "))]
    SchemaNewer { unknown: Vec<String> },
    /// The connecting role would bypass row-level security, so one tenant
    /// could read another's rows. Connect as a login role that is a member of
    /// `lekhika_app` (see `lekhika migrate`); admin tooling may opt out.
    #[error("refusing to run as database role `{role}`: it {reason}, so row-level security would not isolate tenants; connect as a login role in `lekhika_app` (`lekhika migrate` prints how to create one)")]
    UnsafeRole { role: String, reason: String },
    /// Creating or upgrading the schema failed. Retrying does not help until
    /// the cause (permissions, a broken migration) is fixed.
    #[error("store migration failed: {0}")]
    Migration(String),
    /// A runtime problem (no tokio runtime, a worker thread died).
    #[error("store runtime error: {0}")]
    Runtime(String),
}

impl OpenError {
    /// Whether trying again later, unchanged, can succeed.
    pub fn retryable(&self) -> bool {
        matches!(self, Self::ConnectionRefused { .. } | Self::Connect(_))
    }

    /// A stable machine-readable name of the variant.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BackendDisabled { .. } => "backend_disabled",
            Self::InvalidUrl(_) => "invalid_url",
            Self::AuthFailed { .. } => "auth_failed",
            Self::DatabaseMissing { .. } => "database_missing",
            Self::ConnectionRefused { .. } => "connection_refused",
            Self::Connect(_) => "connect_failed",
            Self::File(_) => "file_unusable",
            Self::NotMigrated => "not_migrated",
            Self::SchemaOutdated { .. } => "schema_outdated",
            Self::SchemaNewer { .. } => "schema_newer",
            Self::UnsafeRole { .. } => "unsafe_role",
            Self::Migration(_) => "migration_failed",
            Self::Runtime(_) => "runtime",
        }
    }
}

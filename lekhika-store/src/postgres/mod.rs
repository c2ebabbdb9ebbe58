//! PostgreSQL store for multi-tenant hosts and many workers.
//!
//! # Roles
//! - An owner/admin connection runs [`PgStore::migrate`]: it creates the
//!   tables, the NOLOGIN roles `lekhika_app` (if missing) and `lekhika_queue`,
//!   the row-level-security policies and the grants.
//! - The store itself connects as `lekhika_app` ([`PgStore::connect`]): not a
//!   superuser, owns nothing, so RLS (enabled and forced) applies to every
//!   query. Each transaction first runs
//!   `set_config('lekhika.user_id', <acting user>, true)` (`SET LOCAL`).
//! - Claiming work crosses tenants: it goes through the SECURITY DEFINER
//!   function `lekhika_claim`, owned by `lekhika_queue`, the only role with a
//!   cross-tenant policy (see `migrations/postgres/0002_security.sql`).
//! - Platform administrators read across tenants only through
//!   [`PgStore::as_admin`].
//!
//! TLS is not built in (`NoTls`): connect over a local socket, a private
//! network or a TLS-terminating proxy.

mod admin;
mod artifacts;
mod calls;
mod connect;
mod executions;
mod leases;
mod migrate;
mod pool;
mod providers;
mod queue;
mod wallet;

use lekhika_core::store::{StoreError, StoreResult};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config, Transaction};

pub use admin::PgAdmin;
pub use providers::ProviderKeyInfo;

use crate::OpenError;
use pool::Pool;

/// How to connect a [`PgStore`].
#[derive(Clone)]
pub struct PgOptions {
    /// Connections kept open (each serves one transaction at a time).
    pub pool_size: usize,
    /// 32-byte AES-256-GCM key for provider API keys; without it the
    /// provider-key methods fail with `Forbidden`.
    pub secret_key: Option<[u8; 32]>,
    /// Accept a role that bypasses row-level security (superuser,
    /// BYPASSRLS, table owner). Only for admin tooling that must see every
    /// tenant; a worker or host serving users must leave this off.
    pub allow_rls_bypass: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            secret_key: None,
            allow_rls_bypass: false,
        }
    }
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("pool_size", &self.pool_size)
            .field("secret_key", &self.secret_key.map(|_| "<redacted>"))
            .field("allow_rls_bypass", &self.allow_rls_bypass)
            .finish()
    }
}

/// PostgreSQL implementation of all four store traits, plus provider keys
/// ([`PgStore::put_provider_key`]) and explicit admin reads ([`PgStore::as_admin`]).
pub struct PgStore {
    pool: Pool,
    secret_key: Option<[u8; 32]>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore")
    }
}

impl PgStore {
    /// Connect as the application role (a `postgres://` URL or key=value
    /// string). Refuses a role that bypasses row-level security and a schema
    /// that is missing, older or newer than this binary (see [`OpenError`]).
    pub async fn connect(app_url: &str) -> Result<Self, OpenError> {
        Self::connect_with(app_url, PgOptions::default()).await
    }

    pub async fn connect_with(app_url: &str, opts: PgOptions) -> Result<Self, OpenError> {
        let config: Config = app_url
            .parse()
            .map_err(|e| OpenError::InvalidUrl(format!("{e}")))?;
        // One connection first, for the checks and a clear error.
        let probe = pool::connect(&config)
            .await
            .map_err(|e| connect::connect_error(&e, &config))?;
        if !opts.allow_rls_bypass {
            connect::check_role(&probe).await?;
        }
        connect::check_schema(&probe).await?;
        drop(probe);
        let pool = Pool::open(config.clone(), opts.pool_size)
            .await
            .map_err(|e| connect::connect_error(&e, &config))?;
        Ok(Self {
            pool,
            secret_key: opts.secret_key,
        })
    }

    /// Create or upgrade the schema as an owner/admin role (superuser, or a
    /// role with CREATEROLE that owns the database). Applies the SQL files of
    /// `migrations/postgres/` in order, records each in `schema_migrations`,
    /// and skips those already applied. Returns the versions it applied.
    pub async fn migrate(admin_url: &str) -> Result<Vec<String>, OpenError> {
        migrate::run(admin_url).await
    }

    /// Read across tenants as the platform administrator. Every such access
    /// goes through the returned handle; nothing else ever crosses tenants.
    pub fn as_admin(&self) -> PgAdmin<'_> {
        PgAdmin::new(self)
    }

    pub(crate) async fn client(&self) -> StoreResult<tokio::sync::MutexGuard<'_, Client>> {
        self.pool.get().await
    }
}

/// Start a transaction acting as `user` (RLS sees only that user's rows).
pub(crate) async fn begin<'a>(client: &'a mut Client, user: &str) -> StoreResult<Transaction<'a>> {
    if user.is_empty() {
        return Err(StoreError::Forbidden("an empty user id cannot act".into()));
    }
    let tx = client.transaction().await.map_err(pg_err)?;
    tx.execute("SELECT set_config('lekhika.user_id', $1, true)", &[&user])
        .await
        .map_err(pg_err)?;
    Ok(tx)
}

/// Classify a database error: what a caller can act on, and whether retrying helps.
pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection failed or closed.
        return StoreError::Backend {
            message: format!("postgres: {e}"),
            retryable: true,
        };
    };
    let detail = e
        .as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string());
    if *code == SqlState::UNIQUE_VIOLATION {
        StoreError::Conflict(detail)
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        StoreError::Forbidden(detail)
    } else {
        let retryable = [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::TOO_MANY_CONNECTIONS,
        ]
        .contains(code);
        StoreError::Backend {
            message: format!("postgres {}: {detail}", code.code()),
            retryable,
        }
    }
}

pub(crate) fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::backend(format!("stored JSON is invalid: {e}"))
}

//! `open(url_or_path)`: choose a backend by URL scheme.

use std::sync::Arc;

use lekhika_core::quota::SharedQuota;
use lekhika_core::store::{ArtifactStore, ExecutionQueue, ExecutionStore};
use lekhika_core::wallet::WalletStore;

use crate::OpenError;

/// Shared handles to one opened store, one per core trait. All point at the
/// same backend object; `quota` holds rate limits for every process sharing
/// the store (PostgreSQL: the fleet; a SQLite file: the machine).
#[derive(Clone)]
pub struct Stores {
    pub executions: Arc<dyn ExecutionStore>,
    pub artifacts: Arc<dyn ArtifactStore>,
    pub queue: Arc<dyn ExecutionQueue>,
    pub wallet: Arc<dyn WalletStore>,
    pub quota: Arc<dyn SharedQuota>,
}

impl Stores {
    /// Wrap one object that implements all five traits.
    pub fn from_store<S>(store: Arc<S>) -> Self
    where
        S: ExecutionStore + ArtifactStore + ExecutionQueue + WalletStore + SharedQuota + 'static,
    {
        Self {
            executions: store.clone(),
            artifacts: store.clone(),
            queue: store.clone(),
            wallet: store.clone(),
            quota: store,
        }
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stores")
    }
}

/// Open a store by URL or path:
///
/// - `postgres://…` or `postgresql://…` → [`crate::PgStore::connect`] (feature
///   `postgres`; the schema must have been migrated with `PgStore::migrate`);
/// - `sqlite::memory:` → a private in-memory SQLite database;
/// - `sqlite://PATH` or `sqlite:PATH` → the SQLite file at PATH;
/// - anything else → a SQLite file at that path (created if missing).
pub async fn open(url_or_path: &str) -> Result<Stores, OpenError> {
    if url_or_path.starts_with("postgres://") || url_or_path.starts_with("postgresql://") {
        return open_pg(url_or_path).await;
    }
    open_sqlite(url_or_path)
}

#[cfg(feature = "postgres")]
async fn open_pg(url: &str) -> Result<Stores, OpenError> {
    Ok(Stores::from_store(Arc::new(
        crate::PgStore::connect(url).await?,
    )))
}

#[cfg(not(feature = "postgres"))]
async fn open_pg(_url: &str) -> Result<Stores, OpenError> {
    Err(OpenError::BackendDisabled {
        backend: "postgres",
    })
}

#[cfg(feature = "sqlite")]
fn open_sqlite(spec: &str) -> Result<Stores, OpenError> {
    let store = if spec == "sqlite::memory:" {
        crate::SqliteStore::open_in_memory()?
    } else {
        let path = spec
            .strip_prefix("sqlite://")
            .or_else(|| spec.strip_prefix("sqlite:"))
            .unwrap_or(spec);
        if path.is_empty() {
            return Err(OpenError::InvalidUrl("empty SQLite path".into()));
        }
        crate::SqliteStore::open(path)?
    };
    Ok(Stores::from_store(Arc::new(store)))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(_spec: &str) -> Result<Stores, OpenError> {
    Err(OpenError::BackendDisabled { backend: "sqlite" })
}

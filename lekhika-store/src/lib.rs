//! Lekhika's persistent stores.
//!
//! Two backends implement core's [`ExecutionStore`], [`ArtifactStore`],
//! [`ExecutionQueue`] and [`WalletStore`]:
//!
//! - [`SqliteStore`] (feature `sqlite`, default): one embedded file, WAL; what
//!   the CLI and bindings use unless told otherwise.
//! - [`PgStore`] (feature `postgres`): PostgreSQL for multi-tenant hosts, with
//!   row-level security enforced by the database and a cross-machine queue.
//!
//! [`open`] picks one by URL and returns shared trait-object handles.
//!
//! [`ExecutionStore`]: lekhika_core::store::ExecutionStore
//! [`ArtifactStore`]: lekhika_core::store::ArtifactStore
//! [`ExecutionQueue`]: lekhika_core::store::ExecutionQueue
//! [`WalletStore`]: lekhika_core::wallet::WalletStore

mod error;
mod open;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod wallet_sql;

pub use error::OpenError;
pub use open::{open, Stores};
#[cfg(feature = "postgres")]
pub use postgres::{PgOptions, PgStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore};

/// How to create a login role for workers and hosts after migrating a
/// PostgreSQL database: a member of `lekhika_app`, so row-level security
/// applies to it (`lekhika migrate` prints this; docs/stores.md shows it).
pub const WORKER_ROLE_SQL: &str = "\
CREATE ROLE lekhika_worker LOGIN PASSWORD 'choose-a-password' IN ROLE lekhika_app;
-- then every worker and host connects as it:
--   postgres://lekhika_worker:choose-a-password@HOST:5432/DATABASE";

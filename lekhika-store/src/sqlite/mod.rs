//! Embedded SQLite store: one file, WAL journal, shared safely by several
//! processes on one machine.
//!
//! # Durability
//! Every write is one transaction. With WAL and `synchronous=NORMAL` (the
//! default here) a committed transaction is in the WAL file, i.e. in the
//! operating system's page cache, before the call returns: it survives a
//! kill of the process at any instant (SIGKILL, panic, OOM) but the last
//! commits may be lost on power loss or a kernel crash. Set
//! [`SqliteOptions::power_loss_durable`] for `synchronous=FULL`, which
//! fsyncs the WAL on every commit (slower: one fsync per node result).
//!
//! # Concurrency
//! One connection per [`SqliteStore`], used from a blocking thread
//! (`spawn_blocking`), so async callers never block the runtime. Writers take
//! the database lock up front (`BEGIN IMMEDIATE`) and wait up to
//! [`SqliteOptions::busy_timeout`] for other processes, so the queue's claim
//! is atomic across processes.

mod artifacts;
mod calls;
mod executions;
mod leases;
mod queue;
mod reuse;
mod schema;
mod wallet;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lekhika_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, ErrorCode};

use crate::OpenError;

/// How to open a SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// `synchronous=FULL` instead of `NORMAL`: survive power loss too, at the
    /// price of an fsync per write.
    pub power_loss_durable: bool,
    /// How long a write waits for another process holding the lock.
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            power_loss_durable: false,
            busy_timeout: Duration::from_secs(10),
        }
    }
}

/// SQLite implementation of all four store traits. Cheap to share behind an
/// `Arc`; open several (even in several processes) on one file if needed.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Open (creating if needed) the database file at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, &SqliteOptions::default())
    }

    /// Open the file at `path` with explicit options.
    pub fn open_with(path: impl AsRef<Path>, opts: &SqliteOptions) -> Result<Self, OpenError> {
        let conn = Connection::open(path.as_ref()).map_err(|e| OpenError::File(e.to_string()))?;
        Self::init(conn, opts, true)
    }

    /// A private in-memory database (tests, throwaway runs).
    pub fn open_in_memory() -> Result<Self, OpenError> {
        let conn = Connection::open_in_memory().map_err(|e| OpenError::File(e.to_string()))?;
        Self::init(conn, &SqliteOptions::default(), false)
    }

    fn init(mut conn: Connection, opts: &SqliteOptions, wal: bool) -> Result<Self, OpenError> {
        let connect = |e: rusqlite::Error| OpenError::File(e.to_string());
        conn.busy_timeout(opts.busy_timeout).map_err(connect)?;
        if wal {
            let mode = wal_mode(&conn, opts.busy_timeout).map_err(connect)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(OpenError::File(format!(
                    "SQLite refused WAL journal mode (got `{mode}`)"
                )));
            }
        }
        let sync = if opts.power_loss_durable {
            "FULL"
        } else {
            "NORMAL"
        };
        conn.execute_batch(&format!(
            "PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON;"
        ))
        .map_err(connect)?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut conn).map_err(|e| match e {
            schema::MigrateError::Newer(v) => OpenError::SchemaNewer {
                unknown: vec![format!("SQLite schema version {v}")],
            },
            e => OpenError::Migration(e.to_string()),
        })?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Run blocking SQLite work on the blocking thread pool.
    async fn call<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::backend("SQLite connection lock poisoned"))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::backend(format!("SQLite worker thread failed: {e}")))?
    }
}

/// Map a SQLite error: busy/locked are worth retrying, the rest are not.
pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    let retryable = matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    );
    StoreError::Backend {
        message: format!("sqlite: {e}"),
        retryable,
    }
}

pub(crate) fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::backend(format!("stored JSON is invalid: {e}"))
}

/// A lease reduced to what fencing compares (owned, so it can move to a thread).
#[derive(Clone)]
pub(crate) struct Fence {
    worker: String,
    token: i64,
}

impl Fence {
    pub(crate) fn of(lease: Option<&lekhika_core::store::Lease>) -> Option<Self> {
        lease.map(|l| Self {
            worker: l.worker.clone(),
            token: l.token as i64,
        })
    }
}

/// Switch to WAL. SQLite answers `SQLITE_BUSY` at once (without its busy
/// handler) when another process is creating or switching the same new
/// file, so two processes opening a fresh store together must wait here
/// for one another, up to the busy timeout.
fn wal_mode(conn: &Connection, timeout: std::time::Duration) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            r => return r,
        }
    }
}

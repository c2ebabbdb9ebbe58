//! SQLite schema, versioned with `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

const V1: &str = r#"
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    engine_id TEXT,
    flow TEXT NOT NULL,
    input TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    reason TEXT,
    epoch INTEGER NOT NULL DEFAULT 0,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    lease_worker TEXT,
    lease_token INTEGER,
    lease_expires_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS executions_owner ON executions(owner, created_at_ms);
CREATE INDEX IF NOT EXISTS executions_queue ON executions(status, created_at_ms);
-- item = -1 stands for "the node itself" (NodeKey.item = None).
CREATE TABLE IF NOT EXISTS node_results (
    execution_id TEXT NOT NULL REFERENCES executions(id),
    node TEXT NOT NULL,
    item INTEGER NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (execution_id, node, item)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS artifacts (
    execution_id TEXT NOT NULL REFERENCES executions(id),
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (execution_id, name)
);
CREATE TABLE IF NOT EXISTS books (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    execution_id TEXT NOT NULL REFERENCES executions(id),
    title TEXT NOT NULL,
    author TEXT,
    word_count INTEGER NOT NULL,
    character_count INTEGER NOT NULL,
    formats TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS books_owner ON books(owner, created_at_ms);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters(name, value) VALUES ('lease_token', 0);
CREATE TABLE IF NOT EXISTS wallets (
    user_id TEXT PRIMARY KEY,
    balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
    reserved INTEGER NOT NULL DEFAULT 0,
    total_earned INTEGER NOT NULL DEFAULT 0,
    total_spent INTEGER NOT NULL DEFAULT 0,
    level TEXT,
    current_period TEXT
);
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    execution_id TEXT,
    node_id TEXT,
    note TEXT,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (user_id, key, kind)
);
CREATE INDEX IF NOT EXISTS ledger_execution ON ledger(user_id, execution_id);
CREATE TABLE IF NOT EXISTS tier_policies (
    level TEXT PRIMARY KEY,
    monthly_allocation INTEGER NOT NULL,
    per_execution_limit INTEGER,
    features TEXT NOT NULL
);
"#;

/// The call journal: one row per model reply, keyed by the unit that asked
/// (node, item; -1 for the node itself) and the request's identity.
const V2: &str = r#"
CREATE TABLE IF NOT EXISTS calls (
    execution_id TEXT NOT NULL REFERENCES executions(id),
    node TEXT NOT NULL,
    item INTEGER NOT NULL,
    request TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    reply TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost INTEGER NOT NULL,
    charge TEXT,
    recorded_at_ms INTEGER NOT NULL,
    PRIMARY KEY (execution_id, node, item, request)
) WITHOUT ROWID;
"#;

/// When each runner took its lease, rate limits shared by every process
/// using the file, the HTTP requests each journaled call took, and the
/// content key and origin of replies for `--reuse`.
const V3: &str = r#"
ALTER TABLE executions ADD COLUMN lease_taken_at_ms INTEGER;
ALTER TABLE calls ADD COLUMN requests INTEGER NOT NULL DEFAULT 1;
ALTER TABLE calls ADD COLUMN content_key TEXT;
ALTER TABLE calls ADD COLUMN reused_from TEXT;
CREATE INDEX IF NOT EXISTS calls_reuse ON calls (content_key) WHERE content_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS rate_buckets (
    key TEXT PRIMARY KEY,
    requests REAL,
    requests_at_ms INTEGER,
    tokens REAL,
    tokens_at_ms INTEGER
);
"#;

/// Versions and their SQL, in order.
const STEPS: &[(i64, &str)] = &[(1, V1), (2, V2), (3, V3)];
const VERSION: i64 = 3;

/// Why the schema could not be brought up to date.
#[derive(Debug)]
pub(super) enum MigrateError {
    Sql(rusqlite::Error),
    /// The file was written by a newer Lekhika.
    Newer(i64),
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sql(e) => write!(f, "{e}"),
            Self::Newer(v) => write!(
                f,
                "the database has schema version {v}, newer than this Lekhika understands ({VERSION}); upgrade Lekhika"
            ),
        }
    }
}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sql(e)
    }
}

/// Bring the schema to [`VERSION`]; safe when several processes open the file at once.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), MigrateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > VERSION {
        return Err(MigrateError::Newer(current));
    }
    for (version, sql) in STEPS {
        if current < *version {
            tx.execute_batch(sql)?;
        }
    }
    if current < VERSION {
        tx.execute_batch(&format!("PRAGMA user_version = {VERSION}"))?;
    }
    tx.commit()?;
    Ok(())
}

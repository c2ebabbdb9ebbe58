//! Opening a [`PgStore`](super::PgStore) safely: connection failures named
//! in words, a refusal to run as a role that bypasses row-level security,
//! and a schema version check against the migrations this binary knows.

use std::io;

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config};

use super::migrate::known_versions;
use crate::OpenError;

/// Name why connecting failed: bad credentials, a missing database, a
/// server that is not there, or (with the server's own words) anything else.
pub(super) fn connect_error(e: &tokio_postgres::Error, config: &Config) -> OpenError {
    let user = config.get_user().unwrap_or("").to_string();
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return OpenError::AuthFailed {
                user,
                detail: db.message().to_string(),
            };
        }
        if *code == SqlState::INVALID_CATALOG_NAME {
            return OpenError::DatabaseMissing {
                database: config
                    .get_dbname()
                    .map_or_else(|| user.clone(), str::to_string),
            };
        }
        return OpenError::Connect(format!("{} ({})", db.message(), code.code()));
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::ConnectionRefused {
                return OpenError::ConnectionRefused {
                    address: address(config),
                };
            }
            return OpenError::Connect(format!("{}: {io}", address(config)));
        }
        source = s.source();
    }
    OpenError::Connect(format!("{}: {e}", address(config)))
}

fn address(config: &Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// Refuse a role for which row-level security is off: a superuser, a role
/// with BYPASSRLS, or a member of the role that owns the tables.
pub(super) async fn check_role(client: &Client) -> Result<(), OpenError> {
    let row = client
        .query_one(
            "SELECT current_user::text, r.rolsuper, r.rolbypassrls, \
                    (SELECT t.tableowner::text FROM pg_tables t \
                      WHERE t.tablename = 'engine_executions' AND t.schemaname = current_schema()), \
                    (SELECT pg_has_role(current_user, t.tableowner, 'MEMBER') FROM pg_tables t \
                      WHERE t.tablename = 'engine_executions' AND t.schemaname = current_schema()) \
               FROM pg_roles r WHERE r.rolname = current_user",
            &[],
        )
        .await
        .map_err(|e| OpenError::Connect(format!("reading the connecting role: {e}")))?;
    let role: String = row.get(0);
    let reason = if row.get::<_, bool>(1) {
        Some("is a superuser".to_string())
    } else if row.get::<_, bool>(2) {
        Some("has BYPASSRLS".to_string())
    } else if row.get::<_, Option<bool>>(4) == Some(true) {
        let owner: Option<String> = row.get(3);
        Some(format!(
            "owns the tables (member of `{}`)",
            owner.unwrap_or_default()
        ))
    } else {
        None
    };
    match reason {
        Some(reason) => Err(OpenError::UnsafeRole { role, reason }),
        None => Ok(()),
    }
}

/// The schema must exist and carry exactly the migrations this binary knows.
pub(super) async fn check_schema(client: &Client) -> Result<(), OpenError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('engine_executions') IS NOT NULL", &[])
        .await
        .map_err(|e| OpenError::Connect(format!("reading the schema: {e}")))?
        .get(0);
    if !exists {
        return Err(OpenError::NotMigrated);
    }
    let applied: Vec<String> = match client
        .query("SELECT version FROM schema_migrations", &[])
        .await
    {
        Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
        // Before 0004 the app role could not read the versions.
        Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => Vec::new(),
        Err(e) => {
            return Err(OpenError::Connect(format!(
                "reading the schema version: {e}"
            )))
        }
    };
    let unknown: Vec<String> = applied
        .iter()
        .filter(|v| !known_versions().any(|k| k == v.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(OpenError::SchemaNewer { unknown });
    }
    let missing: Vec<String> = known_versions()
        .filter(|k| !applied.iter().any(|v| v == k))
        .map(str::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(OpenError::SchemaOutdated { missing });
    }
    Ok(())
}

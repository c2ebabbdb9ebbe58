//! Migrations: the SQL files under `migrations/postgres/`, applied in order
//! by an owner/admin connection and recorded in `schema_migrations`.

use crate::OpenError;

/// (version, SQL) in order. Never edit an applied file: add a new one.
const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_schema",
        include_str!("../../migrations/postgres/0001_schema.sql"),
    ),
    (
        "0002_security",
        include_str!("../../migrations/postgres/0002_security.sql"),
    ),
    (
        "0003_calls_and_runner_leases",
        include_str!("../../migrations/postgres/0003_calls_and_runner_leases.sql"),
    ),
    (
        "0004_fleet",
        include_str!("../../migrations/postgres/0004_fleet.sql"),
    ),
];

/// The versions this build knows, oldest first.
pub(super) fn known_versions() -> impl Iterator<Item = &'static str> {
    MIGRATIONS.iter().map(|(v, _)| *v)
}

/// Roles are cluster-wide; several databases (or migrators) may race to
/// create them, so "already exists" is success. Run before the migrations.
const ROLES: &str = include_str!("../../migrations/postgres/0000_roles.sql");

pub(super) async fn run(admin_url: &str) -> Result<Vec<String>, OpenError> {
    let config: tokio_postgres::Config = admin_url
        .parse()
        .map_err(|e| OpenError::InvalidUrl(format!("{e}")))?;
    let mut client = super::pool::connect(&config)
        .await
        .map_err(|e| super::connect::connect_error(&e, &config))?;
    let fail = |what: &str, e: tokio_postgres::Error| {
        let detail = e
            .as_db_error()
            .map_or_else(|| e.to_string(), |d| d.message().to_string());
        OpenError::Migration(format!("{what}: {detail}"))
    };
    client
        .batch_execute(ROLES)
        .await
        .map_err(|e| fail("creating roles", e))?;
    let tx = client.transaction().await.map_err(|e| fail("begin", e))?;
    // One migrator at a time per database.
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7285047135); \
         CREATE TABLE IF NOT EXISTS schema_migrations (\
             version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await
    .map_err(|e| fail("schema_migrations", e))?;
    let done: Vec<String> = tx
        .query("SELECT version FROM schema_migrations", &[])
        .await
        .map_err(|e| fail("reading schema_migrations", e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut applied = Vec::new();
    for (version, sql) in MIGRATIONS {
        if done.iter().any(|d| d == version) {
            continue;
        }
        tx.batch_execute(sql).await.map_err(|e| fail(version, e))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(|e| fail(version, e))?;
        applied.push((*version).to_string());
    }
    tx.commit().await.map_err(|e| fail("commit", e))?;
    Ok(applied)
}

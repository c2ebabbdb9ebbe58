//! The conformance suite against PostgreSQL, acting as the application role
//! (a fresh database per test). Needs LEKHIKA_TEST_PG_ADMIN_URL and
//! LEKHIKA_TEST_PG_APP_URL (see scripts/start-test-postgres.sh).
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod conformance;
mod pg_common;

use std::sync::Arc;

use conformance::*;
use lekhika_store::{PgOptions, PgStore};

async fn pg() -> Option<Stores> {
    let db = pg_common::fresh_db().await?;
    let opts = PgOptions {
        pool_size: 6,
        secret_key: None,
    };
    Some(Stores::from_store(Arc::new(
        PgStore::connect_with(&db.app_url, opts).await.unwrap(),
    )))
}

conformance_suite!(pg);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_id_takeover() {
    let Some(s) = pg().await else { return };
    conformance::isolation::book_id_takeover(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_by_url_and_migrations_are_idempotent() {
    let Some(db) = pg_common::fresh_db().await else {
        return;
    };
    assert!(
        PgStore::migrate(&db.admin_url).await.unwrap().is_empty(),
        "second run applies nothing"
    );
    let admin = pg_common::admin_client(&db.admin_url).await;
    let versions: Vec<String> = admin
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        versions,
        vec![
            "0001_schema",
            "0002_security",
            "0003_calls_and_runner_leases"
        ]
    );
    let stores = lekhika_store::open(&db.app_url).await.unwrap();
    let rec = conformance::record("alice", "exec-open");
    stores.executions.create_execution(&rec).await.unwrap();
    let row = admin
        .query_one(
            "SELECT user_id, status FROM engine_executions WHERE id = 'exec-open'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("alice".into(), "pending".into())
    );
}

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
        ..PgOptions::default()
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
            "0003_calls_and_runner_leases",
            "0004_fleet"
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

fn refusal(r: Result<PgStore, lekhika_store::OpenError>) -> lekhika_store::OpenError {
    match r {
        Ok(_) => panic!("the connection must be refused"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_that_bypass_row_level_security_are_refused() {
    use lekhika_store::OpenError;
    let Some(db) = pg_common::fresh_db().await else {
        return;
    };
    // The admin URL is a superuser.
    let e = refusal(PgStore::connect(&db.admin_url).await);
    assert!(matches!(e, OpenError::UnsafeRole { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("superuser") && text.contains("row-level security"),
        "{text}"
    );
    assert!(!e.retryable());
    // A role with BYPASSRLS, and a member of the tables' owner.
    let admin = pg_common::admin_client(&db.admin_url).await;
    let owner: String = admin
        .query_one(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 'engine_executions'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let tag = db.name.replace("lkt_", "");
    let bypass = format!("lkt_bypass_{tag}");
    let member = format!("lkt_owner_{tag}");
    admin
        .batch_execute(&format!(
            "CREATE ROLE {bypass} LOGIN BYPASSRLS IN ROLE lekhika_app; \
             CREATE ROLE {member} LOGIN IN ROLE lekhika_app, \"{owner}\";"
        ))
        .await
        .unwrap();
    for (role, words) in [(&bypass, "BYPASSRLS"), (&member, "owns the tables")] {
        let url = db.app_url.replacen("lekhika_app:lekhika_app", role, 1);
        let e = refusal(PgStore::connect(&url).await);
        assert!(
            matches!(e, OpenError::UnsafeRole { .. }) && e.to_string().contains(words),
            "{role}: {e}"
        );
    }
    // Admin tooling may opt out explicitly.
    let opts = PgOptions {
        allow_rls_bypass: true,
        pool_size: 1,
        ..PgOptions::default()
    };
    assert!(PgStore::connect_with(&db.admin_url, opts).await.is_ok());
    // A plain login role in lekhika_app is accepted.
    let worker = format!("lkt_worker_{tag}");
    admin
        .batch_execute(&format!("CREATE ROLE {worker} LOGIN IN ROLE lekhika_app"))
        .await
        .unwrap();
    let url = db.app_url.replacen("lekhika_app:lekhika_app", &worker, 1);
    let store = PgStore::connect(&url)
        .await
        .expect("a worker role connects");
    drop(store);
    admin
        .batch_execute(&format!(
            "DROP ROLE {bypass}; DROP ROLE {member}; DROP ROLE {worker};"
        ))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_failures_name_their_cause() {
    use lekhika_store::OpenError;
    let Some(db) = pg_common::empty_db().await else {
        return;
    };
    // Never migrated.
    let e = refusal(PgStore::connect(&db.app_url).await);
    assert!(matches!(e, OpenError::NotMigrated), "{e:?}");
    assert!(e.to_string().contains("lekhika migrate --store"), "{e}");
    PgStore::migrate(&db.admin_url).await.unwrap();
    // Migrated by a newer binary, or missing a migration.
    let admin = pg_common::admin_client(&db.admin_url).await;
    admin
        .batch_execute("INSERT INTO schema_migrations (version) VALUES ('9999_future')")
        .await
        .unwrap();
    let e = refusal(PgStore::connect(&db.app_url).await);
    assert!(
        matches!(&e, OpenError::SchemaNewer { unknown } if unknown == &["9999_future"]),
        "{e:?}"
    );
    assert!(e.to_string().contains("newer than this binary"), "{e}");
    admin
        .batch_execute(
            "DELETE FROM schema_migrations WHERE version IN ('9999_future', '0003_calls_and_runner_leases')",
        )
        .await
        .unwrap();
    let e = refusal(PgStore::connect(&db.app_url).await);
    assert!(
        matches!(&e, OpenError::SchemaOutdated { missing } if missing == &["0003_calls_and_runner_leases"]),
        "{e:?}"
    );
    assert!(e.to_string().contains("lekhika migrate"), "{e}");
    // A database that does not exist.
    let url = pg_common::with_db(&db.app_url, "lkt_no_such_database");
    let e = refusal(PgStore::connect(&url).await);
    assert!(
        matches!(&e, OpenError::DatabaseMissing { database } if database == "lkt_no_such_database"),
        "{e:?}"
    );
    // A user the server rejects (the test server trusts every known role,
    // so an unknown one stands in for a wrong password).
    let url = db
        .app_url
        .replacen("lekhika_app:lekhika_app", "lkt_nobody:secret-pw", 1);
    let e = refusal(PgStore::connect(&url).await);
    assert!(
        matches!(&e, OpenError::AuthFailed { user, .. } if user == "lkt_nobody"),
        "{e:?}"
    );
    assert!(!e.to_string().contains("secret-pw"), "{e}");
    assert!(
        e.to_string().contains("does not exist"),
        "the server's reason is kept: {e}"
    );
    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let e =
        refusal(PgStore::connect(&format!("postgres://lekhika_app:pw@127.0.0.1:{port}/x")).await);
    assert!(
        matches!(&e, OpenError::ConnectionRefused { address } if address == &format!("127.0.0.1:{port}")),
        "{e:?}"
    );
    assert!(e.retryable());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_connections_share_one_rate_bucket() {
    use lekhika_core::quota::{QuotaLimits, QuotaOp, SharedQuota};
    let Some(db) = pg_common::fresh_db().await else {
        return;
    };
    let a = PgStore::connect(&db.app_url).await.unwrap();
    let b = PgStore::connect(&db.app_url).await.unwrap();
    let take = QuotaOp::Take {
        limits: QuotaLimits {
            requests_per_minute: Some(60),
            tokens_per_minute: None,
        },
        tokens: 0,
    };
    assert!(a.apply("k", take).await.unwrap().is_zero());
    assert!(
        !b.apply("k", take).await.unwrap().is_zero(),
        "the other worker finds the bucket spent"
    );
}

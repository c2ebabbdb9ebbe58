//! PostgreSQL test databases: one fresh database per test, migrated by the
//! admin URL, used through the application role's URL.
#![allow(dead_code)]

use std::sync::Once;

use lekhika_store::PgStore;
use tokio_postgres::NoTls;

pub struct TestDb {
    pub name: String,
    pub admin_url: String,
    pub app_url: String,
}

/// The URLs from the environment. Missing: a loud skip, or a failure when
/// `LEKHIKA_REQUIRE_PG=1`.
pub fn urls() -> Option<(String, String)> {
    let admin = std::env::var("LEKHIKA_TEST_PG_ADMIN_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let app = std::env::var("LEKHIKA_TEST_PG_APP_URL")
        .ok()
        .filter(|s| !s.is_empty());
    match (admin, app) {
        (Some(admin), Some(app)) => Some((admin, app)),
        _ => {
            if std::env::var("LEKHIKA_REQUIRE_PG").as_deref() == Ok("1") {
                panic!("LEKHIKA_REQUIRE_PG=1 but LEKHIKA_TEST_PG_ADMIN_URL / LEKHIKA_TEST_PG_APP_URL are not set");
            }
            eprintln!("\n*** skipped: LEKHIKA_TEST_PG_ADMIN_URL not set (PostgreSQL tests did not run) ***\n");
            None
        }
    }
}

/// Replace the database name at the end of a `postgres://…/db` URL.
pub fn with_db(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

pub async fn admin_client(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

static CLEANUP: Once = Once::new();

/// A new, migrated database; `None` when PostgreSQL is not configured.
pub async fn fresh_db() -> Option<TestDb> {
    let db = empty_db().await?;
    let applied = PgStore::migrate(&db.admin_url).await.unwrap();
    assert_eq!(
        applied,
        vec![
            "0001_schema",
            "0002_security",
            "0003_calls_and_runner_leases",
            "0004_fleet"
        ]
    );
    Some(db)
}

/// A new database that was never migrated.
pub async fn empty_db() -> Option<TestDb> {
    let (admin, app) = urls()?;
    let root = admin_client(&admin).await;
    let mut stale = Vec::new();
    CLEANUP.call_once(|| stale.push(()));
    if !stale.is_empty() {
        // Databases of earlier runs; ones still in use refuse to drop, which is fine.
        for row in root
            .query(
                "SELECT datname FROM pg_database WHERE datname LIKE 'lkt\\_%'",
                &[],
            )
            .await
            .unwrap()
        {
            let name: String = row.get(0);
            if name.starts_with(&format!("lkt_{}_", std::process::id())) {
                continue; // this process's own databases
            }
            let _ = root
                .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                .await;
        }
    }
    let name = format!(
        "lkt_{}_{}",
        std::process::id(),
        lekhika_core::util::new_id()
            .replace('-', "")
            .get(..16)
            .unwrap()
    );
    root.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap();
    let db = TestDb {
        admin_url: with_db(&admin, &name),
        app_url: with_db(&app, &name),
        name,
    };
    Some(db)
}

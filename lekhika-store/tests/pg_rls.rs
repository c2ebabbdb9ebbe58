//! Row-level security proven by raw SQL as the application role, plus the
//! explicit admin API and encrypted provider keys.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used)]

mod conformance;
mod pg_common;

use lekhika_core::store::{Artifact, NodeKey, StoreError};
use lekhika_store::{PgOptions, PgStore};

/// (table, owner column) of every user-owned table.
const OWNED: &[(&str, &str)] = &[
    ("users", "id"),
    ("ai_engines", "user_id"),
    ("ai_flows", "user_id"),
    ("engine_executions", "user_id"),
    ("node_results", "user_id"),
    ("calls", "user_id"),
    ("artifacts", "user_id"),
    ("books", "user_id"),
    ("ai_providers", "user_id"),
    ("user_token_wallets", "user_id"),
    ("ledger_entries", "user_id"),
];

const KEY: [u8; 32] = [7u8; 32];

/// Give users A and B one row in every user-owned table: through the store
/// where it has an API, through the admin connection otherwise.
async fn populate(store: &PgStore, admin: &tokio_postgres::Client) {
    for u in ["A", "B"] {
        let rec = conformance::record(u, &format!("exec-{u}"));
        lekhika_core::store::ExecutionStore::create_execution(store, &rec)
            .await
            .unwrap();
        lekhika_core::store::ExecutionStore::put_node_result(
            store,
            u,
            &rec.id,
            &NodeKey::node("n"),
            &conformance::result(u, 1),
            None,
        )
        .await
        .unwrap();
        lekhika_core::store::ExecutionStore::put_call(
            store,
            u,
            &rec.id,
            &conformance::call("n", None, u, 0),
            None,
        )
        .await
        .unwrap();
        let art = Artifact {
            name: "book.md".into(),
            mime: "text/markdown".into(),
            bytes: u.as_bytes().to_vec(),
        };
        lekhika_core::store::ArtifactStore::put_artifact(store, u, &rec.id, &art)
            .await
            .unwrap();
        let book = conformance::executions::book(u, &rec.id, u, 1);
        lekhika_core::store::ArtifactStore::put_book(store, &book)
            .await
            .unwrap();
        lekhika_core::wallet::WalletStore::grant(store, u, 50, "welcome", None)
            .await
            .unwrap();
        store
            .put_provider_key(u, "openai", &format!("sk-secret-of-{u}-0123456789"), true)
            .await
            .unwrap();
        admin
            .execute(
                "INSERT INTO users (id, email, level) VALUES ($1, $1 || '@example.com', 'pro')",
                &[&u],
            )
            .await
            .unwrap();
        admin
            .execute(
                "INSERT INTO ai_engines (id, name, user_id) VALUES ('eng-' || $1, 'mine', $1)",
                &[&u],
            )
            .await
            .unwrap();
        admin
            .execute(
                "INSERT INTO ai_flows (id, name, user_id) VALUES ('flow-' || $1, 'mine', $1)",
                &[&u],
            )
            .await
            .unwrap();
    }
    admin
        .batch_execute(
            "INSERT INTO ai_engines (id, name, is_master) VALUES ('eng-master', 'Master engine', true);
             INSERT INTO ai_flows (id, name, is_master, flow_key) VALUES ('flow-master', 'Master flow', true, 'novel');",
        )
        .await
        .unwrap();
}

async fn count(tx: &tokio_postgres::Transaction<'_>, sql: &str) -> i64 {
    tx.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sql_as_app_role_cannot_touch_other_tenants() {
    let Some(db) = pg_common::fresh_db().await else {
        return;
    };
    let admin = pg_common::admin_client(&db.admin_url).await;
    let store = PgStore::connect_with(
        &db.app_url,
        PgOptions {
            pool_size: 2,
            secret_key: Some(KEY),
            ..PgOptions::default()
        },
    )
    .await
    .unwrap();
    populate(&store, &admin).await;

    let mut app = pg_common::admin_client(&db.app_url).await;
    // The application role is neither superuser nor bypasses RLS nor owns any table.
    let role = app
        .query_one(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (role.get::<_, bool>(0), role.get::<_, bool>(1)),
        (false, false)
    );
    for (table, _) in OWNED {
        let r = app
            .query_one(
                "SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) <> current_user \
                 FROM pg_class WHERE relname = $1 AND relkind = 'r'",
                &[table],
            )
            .await
            .unwrap();
        assert!(
            r.get::<_, bool>(0) && r.get::<_, bool>(1) && r.get::<_, bool>(2),
            "{table}: RLS on+forced, not owned"
        );
    }

    // Acting as A.
    let mut tx = app.transaction().await.unwrap();
    tx.execute("SELECT set_config('lekhika.user_id', 'A', true)", &[])
        .await
        .unwrap();
    for (table, col) in OWNED {
        let own = count(
            &tx,
            &format!("SELECT count(*) FROM {table} WHERE {col} = 'A'"),
        )
        .await;
        assert!(own >= 1, "{table}: A sees A's rows");
        let other = count(
            &tx,
            &format!("SELECT count(*) FROM {table} WHERE {col} = 'B'"),
        )
        .await;
        assert_eq!(other, 0, "{table}: A sees none of B's rows");
        let all_other = count(
            &tx,
            &format!("SELECT count(*) FROM {table} WHERE {col} IS DISTINCT FROM 'A'"),
        )
        .await;
        let masters = if table.starts_with("ai_") && *table != "ai_providers" {
            1
        } else {
            0
        };
        assert_eq!(
            all_other, masters,
            "{table}: only A's rows (and master templates) are visible"
        );
        for sql in [
            format!("UPDATE {table} SET {col} = {col} WHERE {col} = 'B'"),
            format!("DELETE FROM {table} WHERE {col} = 'B'"),
        ] {
            let sp = tx.transaction().await.unwrap();
            match sp.execute(sql.as_str(), &[]).await {
                Ok(n) => assert_eq!(n, 0, "{sql} affected B's rows"),
                // The ledger is append-only for the app role: refused outright.
                Err(e) => assert_eq!(*table, "ledger_entries", "{sql}: {e}"),
            }
            sp.rollback().await.unwrap();
        }
        // A cannot write a row in B's name.
        let sp = tx.transaction().await.unwrap();
        let forged = sp
            .execute(
                &format!("UPDATE {table} SET {col} = 'B' WHERE {col} = 'A'"),
                &[],
            )
            .await;
        assert!(forged.is_err(), "{table}: A re-assigned a row to B");
        sp.rollback().await.unwrap();
    }
    // Master templates: readable, not writable.
    assert_eq!(
        count(
            &tx,
            "SELECT count(*) FROM ai_engines WHERE id = 'eng-master'"
        )
        .await,
        1
    );
    assert_eq!(
        tx.execute("UPDATE ai_engines SET name = 'x' WHERE is_master", &[])
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        tx.execute("DELETE FROM ai_flows WHERE is_master", &[])
            .await
            .unwrap(),
        0
    );
    let sp = tx.transaction().await.unwrap();
    assert!(sp
        .execute(
            "INSERT INTO ai_engines (id, name, user_id, is_master) VALUES ('fake', 'x', 'A', true)",
            &[]
        )
        .await
        .is_err());
    sp.rollback().await.unwrap();
    tx.commit().await.unwrap();

    // No acting user: nothing user-owned is visible.
    let mut tx = app.transaction().await.unwrap();
    for (table, _) in OWNED {
        let masters = if table.starts_with("ai_") && *table != "ai_providers" {
            1
        } else {
            0
        };
        assert_eq!(
            count(&tx, &format!("SELECT count(*) FROM {table}")).await,
            masters,
            "{table} without a user"
        );
        let sp = tx.transaction().await.unwrap();
        match sp.execute(&format!("DELETE FROM {table}"), &[]).await {
            Ok(n) => assert_eq!(n, 0, "{table}: deleted rows without a user"),
            Err(e) => assert_eq!(*table, "ledger_entries", "{e}"),
        }
        sp.rollback().await.unwrap();
    }
    // Faking the queue role is impossible; the claim function is the only way across tenants.
    assert!(tx
        .batch_execute("SET LOCAL ROLE lekhika_queue")
        .await
        .is_err());
    tx.rollback().await.unwrap();
    let claimed = app
        .query(
            "SELECT execution_id, owner_id FROM lekhika_claim('w', 1000)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        claimed.len(),
        1,
        "claim crosses tenants through the SECURITY DEFINER function"
    );

    // Everything is still there.
    let admin_count: i64 = admin
        .query_one("SELECT count(*) FROM ledger_entries", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(admin_count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_access_is_explicit_and_provider_keys_are_encrypted() {
    let Some(db) = pg_common::fresh_db().await else {
        return;
    };
    let admin = pg_common::admin_client(&db.admin_url).await;
    let store = PgStore::connect_with(
        &db.app_url,
        PgOptions {
            pool_size: 2,
            secret_key: Some(KEY),
            ..PgOptions::default()
        },
    )
    .await
    .unwrap();
    populate(&store, &admin).await;

    let mine = lekhika_core::store::ExecutionStore::list_executions(&store, "A")
        .await
        .unwrap();
    assert_eq!(
        mine.iter().map(|r| r.owner.as_str()).collect::<Vec<_>>(),
        vec!["A"]
    );
    let all = store.as_admin().list_all_executions().await.unwrap();
    let mut owners: Vec<&str> = all.iter().map(|r| r.owner.as_str()).collect();
    owners.sort();
    assert_eq!(owners, vec!["A", "B"]);
    assert_eq!(store.as_admin().list_all_books().await.unwrap().len(), 2);
    assert_eq!(store.as_admin().list_all_wallets().await.unwrap().len(), 2);
    assert_eq!(store.as_admin().list_all_ledger().await.unwrap().len(), 2);

    let listed = store.list_providers("A").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key_hint, "…6789");
    assert!(
        !format!("{listed:?}").contains("secret"),
        "list never shows the key"
    );
    assert_eq!(
        store.provider_api_key("A", "openai").await.unwrap(),
        "sk-secret-of-A-0123456789"
    );
    assert!(matches!(
        store.provider_api_key("B", "anthropic").await,
        Err(StoreError::NotFound { .. })
    ));
    let raw: Vec<u8> = admin
        .query_one(
            "SELECT api_key_ciphertext FROM ai_providers WHERE user_id = 'A'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!raw.windows(6).any(|w| w == b"secret"), "stored encrypted");
    // Moving A's ciphertext into B's row does not decrypt (bound to owner and name).
    admin
        .execute(
            "UPDATE ai_providers SET api_key_ciphertext = (SELECT api_key_ciphertext FROM ai_providers WHERE user_id = 'A') WHERE user_id = 'B'",
            &[],
        )
        .await
        .unwrap();
    assert!(store.provider_api_key("B", "openai").await.is_err());
    // Without the host's key, nothing decrypts.
    let keyless = PgStore::connect(&db.app_url).await.unwrap();
    assert!(matches!(
        keyless.provider_api_key("A", "openai").await,
        Err(StoreError::Forbidden(_))
    ));
}

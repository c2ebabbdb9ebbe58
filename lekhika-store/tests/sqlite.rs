//! The conformance suite against SQLite: a WAL file on disk and `sqlite::memory:`.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]

mod conformance;

use std::sync::Arc;

use conformance::*;
use lekhika_store::SqliteStore;

pub fn temp_db(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("lekhika-store-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{tag}-{}.db", lekhika_core::util::new_id()))
}

async fn sqlite_file() -> Option<Stores> {
    Some(Stores::from_store(Arc::new(
        SqliteStore::open(temp_db("conf")).unwrap(),
    )))
}

async fn sqlite_memory() -> Option<Stores> {
    Some(lekhika_store::open("sqlite::memory:").await.unwrap())
}

mod file {
    use super::*;
    conformance_suite!(sqlite_file);
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn book_id_takeover() {
        let s = sqlite_file().await.unwrap();
        conformance::isolation::book_id_takeover(&s).await;
    }
}

mod in_memory {
    use super::*;
    conformance_suite!(sqlite_memory);
}

//! The conformance suite against core's in-memory stores (the reference semantics).
#![allow(clippy::unwrap_used)]

mod conformance;

use std::sync::Arc;

use conformance::*;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::wallet::MemoryWalletStore;

async fn memory() -> Option<Stores> {
    let store = Arc::new(MemoryStore::new());
    Some(Stores {
        executions: store.clone(),
        artifacts: store.clone(),
        queue: store,
        wallet: Arc::new(MemoryWalletStore::new()),
        quota: Arc::new(lekhika_core::quota::MemoryQuota::new()),
    })
}

conformance_suite!(memory);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn book_id_takeover() {
    let s = memory().await.unwrap();
    conformance::isolation::book_id_takeover(&s).await;
}

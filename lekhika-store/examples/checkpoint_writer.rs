//! Measures `put_node_result` on a SQLite file: the cost of one checkpoint
//! per finished node (goal: ≤ 100 µs).
//!
//! `cargo run --release -p lekhika-store --example checkpoint_writer -- [PATH] [COUNT]`

use std::time::Instant;

use lekhika_core::store::{ExecutionRecord, ExecutionStatus, ExecutionStore, NodeKey, NodeResult};
use lekhika_store::SqliteStore;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| {
        std::env::temp_dir()
            .join("lekhika-bench.db")
            .display()
            .to_string()
    });
    let count: u32 = args.next().map_or(Ok(2_000), |s| s.parse())?;
    let _ = std::fs::remove_file(&path);
    let store = SqliteStore::open(&path)?;
    let id = lekhika_core::util::new_id();
    store
        .create_execution(&ExecutionRecord {
            id: id.clone(),
            owner: "bench".into(),
            engine_id: None,
            flow: (&serde_json::json!({})).into(),
            input: serde_json::json!({}),
            options: serde_json::json!({}),
            status: ExecutionStatus::Running,
            message: None,
            reason: None,
            epoch: 1,
            created_at_ms: 0,
            updated_at_ms: 0,
            runner: None,
        })
        .await?;
    let result = NodeResult {
        output: serde_json::json!({ "text": "lorem ipsum ".repeat(300) }),
        cost: 12,
        attempts: 1,
        ..NodeResult::default()
    };
    let start = Instant::now();
    for i in 0..count {
        store
            .put_node_result("bench", &id, &NodeKey::item("chapters", i), &result, None)
            .await?;
    }
    let per = start.elapsed() / count.max(1);
    println!(
        "{count} put_node_result calls, {per:?} each ({} bytes of output per node)",
        3600
    );
    Ok(())
}

//! W4 (checkpointed chain on SQLite) and W5 (resume after a failure).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lekhika_core::memory_store::MemoryStore;
use lekhika_core::store::ExecutionStatus;
use lekhika_store::{SqliteOptions, SqliteStore};
use serde_json::{json, Value};

use super::{med, secs};
use crate::error::BenchError;
use crate::flows;
use crate::harness::{db_bytes, finish, fresh_db, no_model, remove_db, Bench, OWNER};
use crate::measure::{bytes_written, round, runs, Record};

/// What one checkpointed run cost.
struct Durable {
    wall: Duration,
    /// Bytes handed to write(2) during the run (WAL frames, mostly).
    written: u64,
    /// Sum of the checkpointed JSON rows.
    logical: u64,
    /// Database + WAL size after the run.
    file: u64,
}

fn sqlite_bench(path: &std::path::Path, power_loss_durable: bool) -> Result<Bench, BenchError> {
    let opts = SqliteOptions {
        power_loss_durable,
        ..SqliteOptions::default()
    };
    let store =
        SqliteStore::open_with(path, &opts).map_err(|e| BenchError::Store(e.to_string()))?;
    Ok(Bench::new(Arc::new(store), no_model(), 8))
}

/// One run of a chain of `n` on a fresh SQLite file (opening excluded).
async fn durable_run(n: usize, power_loss_durable: bool) -> Result<Durable, BenchError> {
    let path = fresh_db("w4");
    let b = sqlite_bench(&path, power_loss_durable)?;
    let doc = flows::chain(n, "inc");
    let before = bytes_written().unwrap_or(0);
    let (outcome, wall) = b.run_ok("W4_ckpt_chain", &doc).await?;
    let written = bytes_written().unwrap_or(0).saturating_sub(before);
    let results = b
        .engine
        .store()
        .node_results(OWNER, &outcome.execution_id)
        .await
        .map_err(|e| BenchError::Store(e.to_string()))?;
    if results.len() != n {
        return Err(BenchError::unexpected(
            "W4_ckpt_chain",
            format!("{} checkpoints for {n} nodes", results.len()),
        ));
    }
    let logical = results
        .iter()
        .map(|(_, r)| serde_json::to_string(r).map_or(0, |s| s.len() as u64))
        .sum();
    let file = db_bytes(&path);
    drop(b);
    remove_db(&path);
    Ok(Durable {
        wall,
        written,
        logical,
        file,
    })
}

/// W4: a chain of 200 `inc` nodes, every result committed to SQLite before
/// the next node starts. Also: `synchronous=FULL`, the same chain in
/// memory, and bytes per node at 100 / 200 / 400 nodes (linearity).
pub async fn w4_ckpt_chain(reps: usize) -> Result<Record, BenchError> {
    let n = 200;
    let mut normal = Vec::new();
    for _ in 0..reps.max(1) {
        normal.push(durable_run(n, false).await?);
    }
    let mut full = Vec::new();
    for _ in 0..reps.max(1) {
        full.push(durable_run(n, true).await?);
    }
    let mem = Bench::new(Arc::new(MemoryStore::new()), no_model(), 8);
    let mut base = Vec::new();
    for _ in 0..reps.max(1) {
        base.push(
            mem.run_ok("W4_ckpt_chain", &flows::chain(n, "inc"))
                .await?
                .1,
        );
    }
    let mut linear = serde_json::Map::new();
    for k in [100usize, 200, 400] {
        let d = durable_run(k, false).await?;
        linear.insert(
            k.to_string(),
            json!({
                "written_bytes_per_node": d.written / k as u64,
                "checkpoint_json_bytes_per_node": d.logical / k as u64,
                "db_plus_wal_bytes": d.file,
            }),
        );
    }
    let walls: Vec<Duration> = normal.iter().map(|d| d.wall).collect();
    let fulls: Vec<Duration> = full.iter().map(|d| d.wall).collect();
    let m = med(&walls);
    let first = &normal[0];
    Ok(Record::new("W4_ckpt_chain", n, m)
        .note("api", "SqliteStore file (WAL, synchronous=NORMAL: survives kill -9, not power loss); each node's result committed before its children start; fresh DB per run, open excluded")
        .note("runs_s", runs(&secs(&walls)))
        .note("no_ckpt_per_node_us", round(med(&base) / n as f64 * 1e6, 2))
        .note("ckpt_overhead_per_node_us", round((m - med(&base)) / n as f64 * 1e6, 2))
        .note("synchronous_full_per_node_us", round(med(&fulls) / n as f64 * 1e6, 2))
        .note("synchronous_full_runs_s", runs(&secs(&fulls)))
        .note("written_bytes", first.written)
        .note("checkpoint_json_bytes", first.logical)
        .note("db_plus_wal_bytes", first.file)
        .note("bytes_by_chain_length", linear))
}

/// W5: a chain of 200 on SQLite whose node 150 fails once; the run fails,
/// then `Engine::resume` runs only what had not finished.
pub async fn w5_resume(reps: usize) -> Result<Record, BenchError> {
    let (n, fail_at) = (200usize, 150usize);
    let doc = flows::failing_chain(n, fail_at);
    let (mut resumes, mut firsts, mut reran) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps.max(1) {
        let path = fresh_db("w5");
        let b = Bench::sqlite(&path)?;
        let t = Instant::now();
        let (first, _) = b.run(&doc).await?;
        firsts.push(t.elapsed());
        let failed_at = format!("n{fail_at}");
        if first.status != ExecutionStatus::Failed || first.node.as_deref() != Some(&failed_at) {
            return Err(BenchError::unexpected(
                "W5_resume",
                format!("first run ended {:?} at {:?}", first.status, first.node),
            ));
        }
        let before = b.probe.runs();
        let t = Instant::now();
        let h = b.engine.resume(OWNER, &first.execution_id).await?;
        let outcome = finish(h).await?;
        resumes.push(t.elapsed());
        reran.push(b.probe.runs() - before);
        let last = b.output(&first.execution_id, &format!("n{n}")).await?;
        if outcome.status != ExecutionStatus::Completed
            || last.as_ref().and_then(Value::as_u64) != Some(n as u64)
        {
            return Err(BenchError::unexpected(
                "W5_resume",
                format!("resume ended {:?}, last output {last:?}", outcome.status),
            ));
        }
        drop(b);
        remove_db(&path);
    }
    let rerun = reran[0];
    Ok(Record::new("W5_resume", rerun, med(&resumes))
        .note("api", "SqliteStore file; node n150 fails once (not retryable) -> run Failed; Engine::resume(owner, id)")
        .note("nodes_total", n)
        .note("fail_at", fail_at)
        .note("nodes_rerun_on_resume", reran.clone())
        .note("expected_rerun", n - fail_at + 1)
        .note("wall_s_is", "resume only (median)")
        .note("resume_runs_s", runs(&secs(&resumes)))
        .note("failing_first_run_median_s", round(med(&firsts), 6)))
}

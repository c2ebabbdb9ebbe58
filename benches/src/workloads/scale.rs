//! Scale: a chain of `n` nodes (1k, 10k, 100k) — parse, validate and run
//! times, per-node cost, and the process's peak RSS.

use std::time::Instant;

use lekhika_core::RunOptions;
use serde_json::Value;

use super::{med, secs};
use crate::error::BenchError;
use crate::flows;
use crate::harness::Bench;
use crate::measure::{peak_rss_mb, round, rss_now_mb, runs, Record};

/// One chain of `n` `inc` nodes: JSON text → validated flow → run, the
/// way a host hands the engine a document it received as text.
/// `wall_s` is the median run (start to end, which validates again);
/// each rep uses a fresh in-memory store.
pub async fn scale(n: usize, reps: usize) -> Result<Record, BenchError> {
    let text = flows::chain(n, "inc");
    let json_bytes = text.len();
    let rss_doc = rss_now_mb();
    let probe_engine = Bench::memory();
    let t = Instant::now();
    let flow = probe_engine
        .engine
        .load(text.as_str(), &RunOptions::default())?;
    let validate_s = t.elapsed().as_secs_f64();
    let rss_flow = rss_now_mb();
    drop(flow);
    let peak_before_run = peak_rss_mb();
    let mut times = Vec::with_capacity(reps);
    for rep in 0..reps.max(1) {
        let b = Bench::memory();
        let (outcome, d) = b.run_ok("scale", text.as_str()).await?;
        if rep == 0 {
            let last = b.output(&outcome.execution_id, &format!("n{n}")).await?;
            if last.as_ref().and_then(Value::as_u64) != Some(n as u64) {
                return Err(BenchError::unexpected(
                    "scale",
                    format!("last output {last:?}"),
                ));
            }
        }
        times.push(d);
    }
    let run_s = med(&times);
    Ok(Record::new(&format!("S_chain_{}k", n / 1000), n, run_s)
        .note("what", "chain of `inc` nodes given as JSON text, MemoryStore; wall_s = Engine::start(&str)..wait (includes its own validation)")
        .note("json_bytes", json_bytes)
        .note("rss_with_document_mb", rss_doc)
        .note("rss_with_document_and_flow_mb", rss_flow)
        .note("peak_rss_before_run_mb", peak_before_run)
        .note("validate_s", round(validate_s, 6))
        .note("validate_plus_run_s", round(validate_s + run_s, 6))
        .note("runs_s", runs(&secs(&times))))
}

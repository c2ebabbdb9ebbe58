//! W1 (chain), W2 (fan-out, static and `map`), W3 (book at 50 ms latency).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lekhika_core::memory_store::MemoryStore;
use lekhika_core::RunOptions;
use serde_json::Value;

use super::{med, secs, w3_ideal, W3_CHAPTERS, W3_CONCURRENCY, W3_SLEEP};
use crate::error::BenchError;
use crate::flows;
use crate::harness::{book_model, Bench, Latency};
use crate::measure::{round, runs, Record};

async fn expect_output(
    b: &Bench,
    workload: &'static str,
    id: &str,
    node: &str,
    want: i64,
) -> Result<(), BenchError> {
    let got = b.output(id, node).await?;
    if got.as_ref().and_then(Value::as_i64) != Some(want) {
        return Err(BenchError::unexpected(
            workload,
            format!("`{node}` output {got:?}, expected {want}"),
        ));
    }
    Ok(())
}

/// Time `reps` runs of `doc` on `b`; check `node`'s output of the first.
async fn timed(
    b: &Bench,
    workload: &'static str,
    doc: &str,
    reps: usize,
    check: Option<(&str, i64)>,
) -> Result<Vec<Duration>, BenchError> {
    let mut times = Vec::with_capacity(reps);
    for rep in 0..reps.max(1) {
        let (outcome, d) = b.run_ok(workload, doc).await?;
        if let (0, Some((node, want))) = (rep, check) {
            expect_output(b, workload, &outcome.execution_id, node, want).await?;
        }
        times.push(d);
    }
    Ok(times)
}

/// W1: a chain of 1,000 `inc` nodes; also the built-in `template` kind,
/// validation alone, and per-node cost at 100 / 500 / 2,000 nodes.
pub async fn w1_chain(reps: usize) -> Result<Record, BenchError> {
    let n = 1000;
    let b = Bench::memory();
    let doc = flows::chain(n, "inc");
    let t = Instant::now();
    b.engine.load(&doc, &RunOptions::default())?;
    let load_s = t.elapsed().as_secs_f64();
    let times = timed(&b, "W1_chain", &doc, reps, Some(("n1000", n as i64))).await?;
    let tpl = timed(&b, "W1_chain", &flows::template_chain(n), reps, None).await?;
    let mut scaling = serde_json::Map::new();
    for k in [100usize, 500, 2000] {
        let ts = timed(&b, "W1_chain", &flows::chain(k, "inc"), reps, None).await?;
        scaling.insert(k.to_string(), round(med(&ts) / k as f64 * 1e6, 2).into());
    }
    Ok(Record::new("W1_chain", n, med(&times))
        .note(
            "api",
            "Engine::start + RunHandle::wait, custom `inc` node, MemoryStore, events unread",
        )
        .note("runs_s", runs(&secs(&times)))
        .note("validate_s", round(load_s, 6))
        .note("template_kind_median_s", round(med(&tpl), 6))
        .note(
            "template_kind_per_node_us",
            round(med(&tpl) / n as f64 * 1e6, 2),
        )
        .note("per_node_us_by_chain_length", scaling))
}

/// W2 static: `start → 1,000 leaves → join` as 1,002 nodes of the flow.
pub async fn w2_fanout_static(reps: usize) -> Result<Record, BenchError> {
    let n = 1000;
    let b = Bench::memory();
    let doc = flows::fanout_static(n);
    let times = timed(&b, "W2_fanout_static", &doc, reps, Some(("join", n as i64))).await?;
    Ok(Record::new("W2_fanout_static", n + 2, med(&times))
        .note(
            "fanout",
            "1000 static nodes leaf0..leaf999, edges start->leaf_i->join",
        )
        .note(
            "api",
            "Engine::start + wait; run-wide max_concurrency 8 (engine default)",
        )
        .note("runs_s", runs(&secs(&times))))
}

/// W2 dynamic: a `map` node running 1,000 `leaf` items (LangGraph's `Send`).
pub async fn w2_fanout_map(reps: usize) -> Result<Record, BenchError> {
    let n = 1000;
    let b = Bench::memory();
    let doc = flows::fanout_map(n, 8);
    let times = timed(&b, "W2_fanout_send", &doc, reps, Some(("join", n as i64))).await?;
    Ok(Record::new("W2_fanout_send", n + 2, med(&times))
        .note(
            "fanout",
            "built-in `map` node over 1000 items, concurrency 8, each item checkpointed",
        )
        .note("runs_s", runs(&secs(&times))))
}

/// The same schedule with no engine (a semaphore of 10 and 50 tasks after
/// one call), each call waiting `latency`: the floor the latency source
/// allows here.
async fn plain_tokio_once(latency: Latency) -> Duration {
    let sem = Arc::new(tokio::sync::Semaphore::new(W3_CONCURRENCY));
    let t = Instant::now();
    latency.wait().await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..W3_CHAPTERS {
        let sem = sem.clone();
        set.spawn(async move {
            let _permit = sem.acquire_owned().await;
            latency.wait().await;
        });
    }
    while set.join_next().await.is_some() {}
    t.elapsed()
}

/// Median makespan of `reps` W3 runs with model calls waiting `latency`,
/// and the most calls seen in flight.
async fn w3_runs(latency: Latency, reps: usize) -> Result<(Vec<Duration>, usize), BenchError> {
    let model = book_model(latency, W3_CHAPTERS);
    let b = Bench::new(Arc::new(MemoryStore::new()), model.clone(), 8);
    let doc = flows::book(W3_CONCURRENCY);
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let (_, d) = b.run_ok("W3_book", &doc).await?;
        times.push(d);
    }
    let calls = model.calls();
    if calls != (W3_CHAPTERS + 1) * reps.max(1) {
        return Err(BenchError::unexpected(
            "W3_book",
            format!("{calls} model calls"),
        ));
    }
    Ok((times, model.max_in_flight()))
}

/// W3: outline + 50 chapters, 50 ms per model call, 10 chapters at once.
/// The headline figure uses an exact latency source ([`Latency::Exact`]);
/// the tokio-timer figure is reported next to it, with the same
/// schedule run without the engine for each source.
pub async fn w3_book(reps: usize) -> Result<Record, BenchError> {
    let ideal = w3_ideal().as_secs_f64();
    let (times, max_in_flight) = w3_runs(Latency::Exact(W3_SLEEP), reps).await?;
    let m = med(&times);
    let (timer_times, _) = w3_runs(Latency::Timer(W3_SLEEP), reps).await?;
    let mt = med(&timer_times);
    let mut plain = Vec::with_capacity(reps);
    let mut plain_timer = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        plain.push(plain_tokio_once(Latency::Exact(W3_SLEEP)).await);
        plain_timer.push(plain_tokio_once(Latency::Timer(W3_SLEEP)).await);
    }
    let p = med(&plain);
    let pt = med(&plain_timer);
    Ok(Record::new("W3_book", W3_CHAPTERS + 2, m)
        .note("api", "text node (outline) -> map of text nodes, concurrency 10 -> template; model calls take exactly 50 ms (timer to 2 ms before, then yield until the deadline); MemoryStore")
        .note("sleep_s", W3_SLEEP.as_secs_f64())
        .note("ideal_s", round(ideal, 3))
        .note("efficiency", round(ideal / m, 4))
        .note("overhead_vs_ideal_ms", round((m - ideal) * 1e3, 2))
        .note("observed_max_concurrency", max_in_flight)
        .note("plain_tokio_reference_median_s", round(p, 6))
        .note("plain_tokio_reference_efficiency", round(ideal / p, 4))
        .note("engine_overhead_vs_plain_tokio_ms", round((m - p) * 1e3, 2))
        .note("timer_latency_median_s", round(mt, 6))
        .note("timer_latency_efficiency", round(ideal / mt, 4))
        .note("timer_latency_plain_tokio_efficiency", round(ideal / pt, 4))
        .note("runs_s", runs(&secs(&times)))
        .note("timer_latency_runs_s", runs(&secs(&timer_times))))
}

//! Executor benches: W1 (chain of 1,000), W2 (fan-out 1 → 1,000 → 1,
//! static and `map`), W3 (outline + 50 chapters at 50 ms, 10 at once) and
//! per-node cost against node count (1k, 10k, 100k), plus validation.
//!
//! `cargo bench -p lekhika-benches --bench executor`

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lekhika_benches::flows;
use lekhika_benches::harness::{book_model, Bench, Latency};
use lekhika_benches::workloads::{W3_CHAPTERS, W3_CONCURRENCY, W3_SLEEP};
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::RunOptions;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn w1_w2(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("executor");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    let cases = [
        ("W1_chain_inc", flows::chain(1000, "inc"), 1000),
        ("W1_chain_template", flows::template_chain(1000), 1000),
        ("W2_fanout_static", flows::fanout_static(1000), 1002),
        ("W2_fanout_map", flows::fanout_map(1000, 8), 1002),
    ];
    for (name, doc, nodes) in cases {
        g.throughput(Throughput::Elements(nodes));
        g.bench_function(name, |b| {
            // A fresh store per batch keeps the memory store from growing across samples.
            b.iter_batched(
                Bench::memory,
                |bench| rt.block_on(bench.run_ok("bench", &doc)).unwrap(),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn w3(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("executor");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let doc = flows::book(W3_CONCURRENCY);
    let bench = Bench::new(
        Arc::new(MemoryStore::new()),
        book_model(Latency::Exact(W3_SLEEP), W3_CHAPTERS),
        8,
    );
    // Ideal makespan is 300 ms; efficiency = 0.300 / the reported time.
    g.bench_function("W3_book_50ms_x50_c10", |b| {
        b.iter(|| rt.block_on(bench.run_ok("W3", &doc)).unwrap())
    });
    g.finish();
}

fn scale(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("scale");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for n in [1_000usize, 10_000, 100_000] {
        let doc = flows::chain(n, "inc");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("validate", n), &doc, |b, doc| {
            let bench = Bench::memory();
            b.iter(|| bench.engine.load(doc, &RunOptions::default()).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("run", n), &doc, |b, doc| {
            b.iter_batched(
                Bench::memory,
                |bench| rt.block_on(bench.run_ok("scale", doc)).unwrap(),
                criterion::BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, w1_w2, w3, scale);
criterion_main!(benches);

//! Durability benches on the SQLite store: W4 (chain of 200, every result
//! committed before the next node starts) and W5 (resume after node 150 of
//! 200 failed). A fresh database per iteration; opening it is not timed.
//!
//! `cargo bench -p lekhika-benches --bench durable`

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lekhika_benches::flows;
use lekhika_benches::harness::{finish, fresh_db, remove_db, Bench, OWNER};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn w4(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("durable");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(200));
    let doc = flows::chain(200, "inc");
    g.bench_function("W4_ckpt_chain_200_sqlite", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = fresh_db("crit-w4");
                let bench = Bench::sqlite(&path).unwrap();
                let t = Instant::now();
                rt.block_on(bench.run_ok("W4", &doc)).unwrap();
                total += t.elapsed();
                drop(bench);
                remove_db(&path);
            }
            total
        })
    });
    g.finish();
}

fn w5(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("durable");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    let doc = flows::failing_chain(200, 150);
    g.bench_function("W5_resume_at_150_of_200", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let path = fresh_db("crit-w5");
                let bench = Bench::sqlite(&path).unwrap();
                let (first, _) = rt.block_on(bench.run(&doc)).unwrap();
                let t = Instant::now();
                rt.block_on(async {
                    let h = bench
                        .engine
                        .resume(OWNER, &first.execution_id)
                        .await
                        .unwrap();
                    finish(h).await.unwrap()
                });
                total += t.elapsed();
                drop(bench);
                remove_db(&path);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, w4, w5);
criterion_main!(benches);

//! Export throughput: the 30-chapter, ~90k-word book to each format
//! (pandoc's side is timed by `lekhika-bench --only X_export`, as a process).
//!
//! `cargo bench -p lekhika-benches --bench export`

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use lekhika_benches::export::{big_book, export_once, FORMATS};

fn export(c: &mut Criterion) {
    let mut g = c.benchmark_group("export_90k_words");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for format in FORMATS {
        // A different book each iteration (built outside the timing), so the
        // PDF engine's in-process layout cache cannot replay an earlier run.
        let mut variant = 0;
        g.bench_with_input(BenchmarkId::from_parameter(format), &format, |b, f| {
            b.iter_batched(
                || {
                    variant += 1;
                    big_book(variant).unwrap()
                },
                |book| export_once(&book, f).unwrap(),
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, export);
criterion_main!(benches);

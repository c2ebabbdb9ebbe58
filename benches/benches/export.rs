//! Export throughput: the 30-chapter, ~90k-word book to each format
//! (pandoc's side is timed by `lekhika-bench --only X_export`, as a process).
//!
//! `cargo bench -p lekhika-benches --bench export`

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lekhika_benches::export::{big_book, export_once, FORMATS};

fn export(c: &mut Criterion) {
    let book = big_book().unwrap();
    let mut g = c.benchmark_group("export_90k_words");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for format in FORMATS {
        g.bench_with_input(BenchmarkId::from_parameter(format), &format, |b, f| {
            b.iter(|| export_once(&book, f).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, export);
criterion_main!(benches);

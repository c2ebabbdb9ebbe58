//! Time PDF exports of different 90k-word books: `cargo run --release --example pdf_time -- N`.
#![allow(clippy::unwrap_used)]
use std::time::Instant;

use lekhika_benches::export::{big_book, export_once};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut times = Vec::new();
    for v in 0..=n {
        let book = big_book(100 + v).unwrap();
        let t = Instant::now();
        let bytes = export_once(&book, "pdf").unwrap();
        let d = t.elapsed().as_secs_f64();
        if v > 0 {
            times.push(d);
        }
        eprintln!("variant {v}: {d:.3} s, {bytes} bytes");
    }
    times.sort_by(f64::total_cmp);
    if times.is_empty() {
        return;
    }
    println!(
        "median {:.3} s over {n} (first, with font loading, excluded)",
        times[times.len() / 2]
    );
}

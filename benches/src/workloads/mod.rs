//! The workloads of `benches/peer/langgraph_bench.py`, run on Lekhika's
//! engine, plus the scale series. Each returns a [`Record`] whose
//! `wall_s` is the median of `reps` timed runs.

mod durable;
mod executor;
mod scale;

pub use durable::{w4_ckpt_chain, w5_resume};
pub use executor::{w1_chain, w2_fanout_map, w2_fanout_static, w3_book};
pub use scale::scale;

use std::time::Duration;

use crate::measure::median;

/// The W3 parameters (the peer's `W3_SLEEP`, `W3_CHAPTERS`, `W3_MAXC`).
pub const W3_SLEEP: Duration = Duration::from_millis(50);
pub const W3_CHAPTERS: usize = 50;
pub const W3_CONCURRENCY: usize = 10;

/// W3's best possible makespan: the outline, then ⌈chapters / concurrency⌉ waves.
pub fn w3_ideal() -> Duration {
    W3_SLEEP * (1 + W3_CHAPTERS.div_ceil(W3_CONCURRENCY) as u32)
}

fn secs(ds: &[Duration]) -> Vec<f64> {
    ds.iter().map(Duration::as_secs_f64).collect()
}

fn med(ds: &[Duration]) -> f64 {
    median(&secs(ds))
}

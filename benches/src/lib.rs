//! Lekhika's benchmark workloads, shared by the criterion benches
//! (`cargo bench -p lekhika-benches`) and the `lekhika-bench` binary that
//! prints the same JSON lines as the LangGraph peer script
//! (`benches/peer/langgraph_bench.py`), so `benches/compare.sh` can put
//! both side by side.
//!
//! * [`flows`]: React Flow documents for each workload.
//! * [`nodes`]: the tiny custom node kinds the workloads register.
//! * [`harness`]: engine construction and a run-to-the-end helper.
//! * [`workloads`]: W1–W5 and the scale series, each returning a [`Record`].
//! * [`export`]: the 90k-word book and the export/pandoc timings.
//! * [`measure`]: peak RSS (getrusage), bytes written, medians.

pub mod error;
#[cfg(feature = "export")]
pub mod export;
pub mod flows;
pub mod harness;
pub mod measure;
pub mod nodes;
pub mod workloads;

pub use error::BenchError;
pub use measure::Record;

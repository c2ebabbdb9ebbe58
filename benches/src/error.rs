//! What can go wrong while benchmarking. None of these are worth a retry:
//! each one means the workload did not do what it is meant to measure.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum BenchError {
    /// The engine refused or failed the run (flow invalid, store error...).
    #[error("engine: {0}")]
    Engine(#[from] lekhika_core::EngineError),
    /// The SQLite store could not be opened.
    #[error("store: {0}")]
    Store(String),
    /// A run ended, but not the way the workload expects (wrong status, wrong output).
    #[error("workload {workload} went wrong: {detail}")]
    Unexpected {
        workload: &'static str,
        detail: String,
    },
    /// The book could not be built or exported.
    #[cfg(feature = "export")]
    #[error("export: {0}")]
    Export(#[from] lekhika_export::ExportError),
    /// Files, pipes, child processes.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl BenchError {
    pub fn unexpected(workload: &'static str, detail: impl Into<String>) -> Self {
        Self::Unexpected {
            workload,
            detail: detail.into(),
        }
    }
}

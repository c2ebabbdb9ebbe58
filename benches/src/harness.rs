//! Engine construction for the workloads and a run-to-the-end helper.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use lekhika_core::flow::FlowSource;
use lekhika_core::memory_store::MemoryStore;
use lekhika_core::provider::{
    DeltaSink, ModelProvider, ProviderError, ProviderErrorKind, TextRequest, TextResponse,
};
use lekhika_core::store::{ExecutionStatus, ExecutionStore, NodeKey};
use lekhika_core::testing::ScriptedModel;
use lekhika_core::{Engine, RunHandle, RunOptions, RunOutcome};
use lekhika_store::SqliteStore;
use serde_json::{json, Value};

use crate::error::BenchError;
use crate::nodes::{self, Probe};

/// The owner every benchmark run belongs to.
pub const OWNER: &str = "bench";

/// An engine with the benchmark kinds registered.
pub struct Bench {
    pub engine: Engine,
    pub probe: Arc<Probe>,
}

impl Bench {
    /// An engine over `store`, answering model calls with `model`;
    /// `max_concurrency` nodes of a run at once.
    pub fn new(
        store: Arc<dyn ExecutionStore>,
        model: Arc<dyn ModelProvider>,
        max_concurrency: usize,
    ) -> Self {
        let probe = Probe::new();
        let p = probe.clone();
        let engine = Engine::builder(model, store)
            .max_concurrency(max_concurrency)
            .register(move |r| nodes::register(r, &p))
            .build();
        Self { engine, probe }
    }

    /// In memory, no model (flows of custom kinds and templates only).
    pub fn memory() -> Self {
        Self::new(Arc::new(MemoryStore::new()), no_model(), 8)
    }

    /// Over a SQLite file at `path` (created), default durability.
    pub fn sqlite(path: &Path) -> Result<Self, BenchError> {
        let store = SqliteStore::open(path).map_err(|e| BenchError::Store(e.to_string()))?;
        Ok(Self::new(Arc::new(store), no_model(), 8))
    }

    /// Start a run of `doc` (no inputs).
    pub async fn start<'a>(&self, doc: impl Into<FlowSource<'a>>) -> Result<RunHandle, BenchError> {
        Ok(self
            .engine
            .start(OWNER, doc, &json!({}), &RunOptions::default())
            .await?)
    }

    /// Run `doc` to its end; returns the outcome and the wall time from
    /// `start` (validation, execution record, every node, final status).
    pub async fn run<'a>(
        &self,
        doc: impl Into<FlowSource<'a>>,
    ) -> Result<(RunOutcome, Duration), BenchError> {
        let t = Instant::now();
        let h = self.start(doc).await?;
        let outcome = finish(h).await?;
        Ok((outcome, t.elapsed()))
    }

    /// Like [`Bench::run`], but fail unless the run completed.
    pub async fn run_ok<'a>(
        &self,
        workload: &'static str,
        doc: impl Into<FlowSource<'a>>,
    ) -> Result<(RunOutcome, Duration), BenchError> {
        let (o, d) = self.run(doc).await?;
        if o.status != ExecutionStatus::Completed {
            return Err(BenchError::unexpected(
                workload,
                format!("run ended {:?}: {:?}", o.status, o.message),
            ));
        }
        Ok((o, d))
    }

    /// The checkpointed output of `node` in execution `id`.
    pub async fn output(&self, id: &str, node: &str) -> Result<Option<Value>, BenchError> {
        let results = self
            .engine
            .store()
            .node_results(OWNER, id)
            .await
            .map_err(|e| BenchError::Store(e.to_string()))?;
        let key = NodeKey::node(node);
        Ok(results
            .into_iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| r.output))
    }
}

/// Wait for a run, dropping its events unread (the peer's `invoke` streams
/// nothing either; events to a dropped stream are discarded).
pub async fn finish(mut h: RunHandle) -> Result<RunOutcome, BenchError> {
    drop(h.events());
    Ok(h.wait().await?)
}

/// A model that must never be called.
pub fn no_model() -> Arc<dyn ModelProvider> {
    ScriptedModel::new(|_, _| {
        Err(ProviderError::new(
            "none",
            ProviderErrorKind::NotConfigured,
            "the benchmark flows call no model",
        ))
    })
}

/// How a simulated model call waits out its latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// `tokio::time::sleep`: the runtime's timer wheel ticks every 1 ms
    /// and rounds each deadline up, so a 50 ms call takes 50–51 ms (plus
    /// the wake-up), for the engine and for bare tokio alike.
    Timer(Duration),
    /// Exact: the timer sleeps until 2 ms before the deadline, then the
    /// task yields to the runtime until the deadline has passed — the way
    /// a real call resumes when its reply reaches the socket, with no
    /// timer rounding. Costs a little CPU per call (the last 1–2 ms).
    Exact(Duration),
}

impl Latency {
    /// Wait out one call's latency.
    pub async fn wait(self) {
        match self {
            Latency::Timer(d) => tokio::time::sleep(d).await,
            Latency::Exact(d) => {
                let deadline = Instant::now() + d;
                let coarse = d.saturating_sub(Duration::from_millis(2));
                if !coarse.is_zero() {
                    tokio::time::sleep(coarse).await;
                }
                while Instant::now() < deadline {
                    tokio::task::yield_now().await;
                }
            }
        }
    }
}

/// W3's model: every call waits its latency; `OUTLINE` answers `chapters`
/// chapters as JSON, anything else a short chapter text. Counts calls and
/// the most in flight at once.
pub struct BookModel {
    latency: Latency,
    chapters: usize,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl BookModel {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl ModelProvider for BookModel {
    async fn generate_text(
        &self,
        req: &TextRequest,
        _on_delta: DeltaSink<'_>,
    ) -> Result<TextResponse, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        self.latency.wait().await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        Ok(book_answer(req, self.chapters))
    }
}

pub fn book_model(latency: Latency, chapters: usize) -> Arc<BookModel> {
    Arc::new(BookModel {
        latency,
        chapters,
        calls: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    })
}

fn book_answer(req: &TextRequest, chapters: usize) -> TextResponse {
    let prompt = req
        .messages
        .first()
        .map(|m| m.content.as_str())
        .unwrap_or_default();
    if prompt.starts_with("OUTLINE") {
        let list: Vec<Value> = (1..=chapters).map(|i| json!({"number": i})).collect();
        return ScriptedModel::reply(json!({"chapters": list}).to_string(), 10, 100);
    }
    ScriptedModel::reply(format!("Text of {prompt}."), 10, 20)
}

/// A fresh, not yet existing database path under the system temp dir.
pub fn fresh_db(tag: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join("lekhika-bench");
    let _ = std::fs::create_dir_all(&dir);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let p = dir.join(format!("{tag}-{}-{n}.sqlite", std::process::id()));
    remove_db(&p);
    p
}

/// Remove a database and its WAL/SHM files.
pub fn remove_db(p: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut s = p.as_os_str().to_owned();
        s.push(suffix);
        let _ = std::fs::remove_file(&s);
    }
}

/// Size of a database plus its WAL, in bytes.
pub fn db_bytes(p: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut s = p.as_os_str().to_owned();
            s.push(suffix);
            std::fs::metadata(&s).map(|m| m.len()).unwrap_or(0)
        })
        .sum()
}

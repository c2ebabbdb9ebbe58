//! [`EngineBuilder`]: an [`Engine`]'s parts and settings.

use std::sync::Arc;
use std::time::Duration;

use super::engine::{Engine, EngineInner};
use crate::node::Registry;
use crate::provider::ModelProvider;
use crate::store::{ArtifactStore, ExecutionStore};
use crate::wallet::{PriceBook, WalletStore};

/// Builds an [`Engine`]. Only the model provider and store are required.
pub struct EngineBuilder {
    registry: Registry,
    models: Arc<dyn ModelProvider>,
    store: Arc<dyn ExecutionStore>,
    artifacts: Option<Arc<dyn ArtifactStore>>,
    wallet: Option<Arc<dyn WalletStore>>,
    prices: PriceBook,
    max_concurrency: usize,
    stop_poll: Duration,
    lease: Duration,
    runner: Option<String>,
}

/// Default length of a runner lease: a dead runner's execution can be
/// resumed (or taken over by a worker) at most this long after it died.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);

impl EngineBuilder {
    pub fn new(models: Arc<dyn ModelProvider>, store: Arc<dyn ExecutionStore>) -> Self {
        Self {
            registry: Registry::with_builtins(),
            models,
            store,
            artifacts: None,
            wallet: None,
            prices: PriceBook::default(),
            max_concurrency: 8,
            stop_poll: Duration::from_millis(250),
            lease: DEFAULT_LEASE,
            runner: None,
        }
    }
    /// Length of the runner lease runs of this engine hold (at least 300 ms;
    /// default [`DEFAULT_LEASE`]). Shorter leases let a dead runner's
    /// execution be resumed sooner, at the price of more renewals.
    pub fn lease(mut self, d: Duration) -> Self {
        self.lease = d.max(Duration::from_millis(300));
        self
    }
    /// The name runs of this engine hold leases under (default: host,
    /// process id and a random suffix).
    pub fn runner_name(mut self, name: impl Into<String>) -> Self {
        self.runner = Some(name.into());
        self
    }
    /// Replace the node registry (start from [`Registry::with_builtins`] to keep built-ins).
    pub fn registry(mut self, r: Registry) -> Self {
        self.registry = r;
        self
    }
    /// Mutate the registry in place, e.g. to add custom kinds.
    pub fn register(mut self, f: impl FnOnce(&mut Registry)) -> Self {
        f(&mut self.registry);
        self
    }
    pub fn artifacts(mut self, a: Arc<dyn ArtifactStore>) -> Self {
        self.artifacts = Some(a);
        self
    }
    /// Meter AI calls for users who have a wallet in this store.
    pub fn wallet(mut self, w: Arc<dyn WalletStore>) -> Self {
        self.wallet = Some(w);
        self
    }
    pub fn prices(mut self, p: PriceBook) -> Self {
        self.prices = p;
        self
    }
    /// Nodes running at once per run (map nodes have their own limit).
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }
    /// How often a run checks the store for a stop request from another process.
    pub fn stop_poll(mut self, d: Duration) -> Self {
        self.stop_poll = d;
        self
    }
    pub fn build(self) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                registry: self.registry,
                models: self.models,
                store: self.store,
                artifacts: self.artifacts,
                wallet: self.wallet,
                prices: Arc::new(self.prices),
                max_concurrency: self.max_concurrency,
                stop_poll: self.stop_poll,
                lease: self.lease,
                runner: self.runner.unwrap_or_else(super::lease::runner_name),
            }),
        }
    }
}

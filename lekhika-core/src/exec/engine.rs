//! [`Engine`]: the host's entry point. Creates executions, launches and
//! resumes runs under the runner lease, stops them, and checks prices and
//! tiers before a run. Building one: `builder.rs`; regenerate, approve and
//! reject: `interventions.rs`.

use std::sync::Arc;
use std::time::Duration;

use super::builder::EngineBuilder;
use serde_json::Value;

use super::error::EngineError;
use super::launch::{launch, LaunchSpec};
use super::{RunHandle, RunOptions};
use crate::flow::{Flow, FlowJson, FlowSource};
use crate::node::builtin::input::normalize_input;
use crate::node::registry::ModelOverride;
use crate::node::Registry;
use crate::provider::ModelProvider;
use crate::store::{
    ArtifactStore, ExecutionRecord, ExecutionStatus, ExecutionStore, Lease, RunnerInfo, StoreError,
};
use crate::util::{new_id, now_ms};
use crate::wallet::{PriceBook, WalletStore};

pub(crate) struct EngineInner {
    pub registry: Registry,
    pub models: Arc<dyn ModelProvider>,
    pub store: Arc<dyn ExecutionStore>,
    pub artifacts: Option<Arc<dyn ArtifactStore>>,
    pub wallet: Option<Arc<dyn WalletStore>>,
    pub prices: Arc<PriceBook>,
    pub max_concurrency: usize,
    pub stop_poll: Duration,
    /// Length of the runner lease this engine's runs take (renewed every third).
    pub lease: Duration,
    /// The name this engine's runs hold leases under.
    pub runner: String,
}

/// The engine a host embeds. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

/// A flow document parsed and validated once, with its text.
pub struct LoadedFlow {
    pub flow: Flow,
    pub doc: FlowJson,
}

impl Engine {
    pub fn builder(
        models: Arc<dyn ModelProvider>,
        store: Arc<dyn ExecutionStore>,
    ) -> EngineBuilder {
        EngineBuilder::new(models, store)
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    pub fn store(&self) -> &Arc<dyn ExecutionStore> {
        &self.inner.store
    }

    pub fn wallet_store(&self) -> Option<&Arc<dyn WalletStore>> {
        self.inner.wallet.as_ref()
    }

    pub fn artifact_store(&self) -> Option<&Arc<dyn ArtifactStore>> {
        self.inner.artifacts.as_ref()
    }

    pub fn prices(&self) -> &PriceBook {
        &self.inner.prices
    }

    /// Parse and validate a flow document: a `&serde_json::Value`, its JSON
    /// text (`&str`, the cheapest: no `Value` of the document is built) or
    /// an execution's [`FlowJson`].
    pub fn load<'a>(
        &self,
        doc: impl Into<FlowSource<'a>>,
        options: &RunOptions,
    ) -> Result<Flow, EngineError> {
        let overrides = ModelOverride {
            provider: options.provider.clone(),
            model: options.model.clone(),
            nodes: options.models.clone(),
        };
        Ok(Flow::load_source(
            doc.into(),
            &self.inner.registry,
            &overrides,
        )?)
    }

    /// Parse and validate a flow document once, keeping the document's text
    /// (what an execution stores) beside the loaded flow.
    pub fn load_document<'a>(
        &self,
        doc: impl Into<FlowSource<'a>>,
        options: &RunOptions,
    ) -> Result<LoadedFlow, EngineError> {
        let doc = doc.into();
        let flow = self.load(doc, options)?;
        // Kept as text: valid JSON, since it just parsed.
        let doc = match doc {
            FlowSource::Value(v) => FlowJson::from_value(v),
            FlowSource::Text(t) => FlowJson::trusted(t),
            FlowSource::Json(j) => j.clone(),
        };
        Ok(LoadedFlow { flow, doc })
    }

    /// Validate flow, inputs and tier, then record a new execution.
    pub async fn create<'a>(
        &self,
        owner: &str,
        doc: impl Into<FlowSource<'a>>,
        input: &Value,
        options: &RunOptions,
        status: ExecutionStatus,
    ) -> Result<ExecutionRecord, EngineError> {
        let loaded = self.load_document(doc, options)?;
        Ok(self
            .create_loaded(owner, loaded, input, options, status)
            .await?
            .0)
    }

    /// [`Engine::create`] of a flow loaded already (so a start validates once).
    async fn create_loaded(
        &self,
        owner: &str,
        loaded: LoadedFlow,
        input: &Value,
        options: &RunOptions,
        status: ExecutionStatus,
    ) -> Result<(ExecutionRecord, Flow), EngineError> {
        let LoadedFlow { flow, doc } = loaded;
        let input =
            normalize_input(&flow.input_fields, input).map_err(EngineError::InvalidInput)?;
        let id = match &options.execution_id {
            Some(id) => check_execution_id(id)?,
            None => new_id(),
        };
        self.check_tier(owner, &flow).await?;
        let now = now_ms();
        let rec = ExecutionRecord {
            id,
            owner: owner.to_string(),
            engine_id: options.engine_id.clone(),
            flow: doc,
            input,
            options: serde_json::to_value(options)
                .map_err(|e| EngineError::InvalidState(e.to_string()))?,
            status,
            message: None,
            reason: None,
            epoch: 0,
            created_at_ms: now,
            updated_at_ms: now,
            runner: None,
        };
        match self.inner.store.create_execution(&rec).await {
            Err(StoreError::Conflict(_)) if options.execution_id.is_some() => {
                return Err(EngineError::Store(StoreError::Conflict(format!(
                    "execution id `{}` is already in use",
                    rec.id
                ))))
            }
            r => r?,
        }
        Ok((rec, flow))
    }

    /// Start a new run and return its handle (events, stop, wait).
    pub async fn start<'a>(
        &self,
        owner: &str,
        doc: impl Into<FlowSource<'a>>,
        input: &Value,
        options: &RunOptions,
    ) -> Result<RunHandle, EngineError> {
        let loaded = self.load_document(doc, options)?;
        self.start_loaded(owner, loaded, input, options).await
    }

    /// [`Engine::start`] of a flow loaded with [`Engine::load_document`].
    pub async fn start_loaded(
        &self,
        owner: &str,
        loaded: LoadedFlow,
        input: &Value,
        options: &RunOptions,
    ) -> Result<RunHandle, EngineError> {
        let (rec, flow) = self
            .create_loaded(owner, loaded, input, options, ExecutionStatus::Running)
            .await?;
        let lease = self.take_lease(owner, &rec.id, &mut |_| {}).await?;
        launch(
            self.inner.clone(),
            LaunchSpec {
                record: rec,
                options: options.clone(),
                flow: Arc::new(flow),
                lease,
                lease_len: self.inner.lease,
            },
        )
        .await
    }

    /// Queue a run for a worker ([`Engine::run_leased`]); returns its id.
    pub async fn submit<'a>(
        &self,
        owner: &str,
        doc: impl Into<FlowSource<'a>>,
        input: &Value,
        options: &RunOptions,
    ) -> Result<String, EngineError> {
        let loaded = self.load_document(doc, options)?;
        self.submit_loaded(owner, loaded, input, options).await
    }

    /// [`Engine::submit`] of a flow loaded with [`Engine::load_document`].
    pub async fn submit_loaded(
        &self,
        owner: &str,
        loaded: LoadedFlow,
        input: &Value,
        options: &RunOptions,
    ) -> Result<String, EngineError> {
        Ok(self
            .create_loaded(owner, loaded, input, options, ExecutionStatus::Pending)
            .await?
            .0
            .id)
    }

    /// Continue an execution from its checkpoint: only unfinished work runs,
    /// and recorded model replies are replayed, not asked again.
    ///
    /// Only one runner may run an execution: if another process holds its
    /// lease, this waits while that runner might be dead (its lease expires
    /// unrenewed, at most one lease length) and takes over; a live runner's
    /// lease is renewed meanwhile and the resume is refused with
    /// [`EngineError::Busy`]. A completed execution is
    /// [`EngineError::AlreadyCompleted`].
    pub async fn resume(&self, owner: &str, id: &str) -> Result<RunHandle, EngineError> {
        self.resume_with(owner, id, &mut |_| {}).await
    }

    /// [`Engine::resume`], telling `on_wait` (once) when it has to wait for
    /// another runner's lease, e.g. to say so to the user.
    pub async fn resume_with(
        &self,
        owner: &str,
        id: &str,
        on_wait: &mut (dyn FnMut(&RunnerInfo) + Send),
    ) -> Result<RunHandle, EngineError> {
        let rec = self.inner.store.get_execution(owner, id).await?;
        if rec.status == ExecutionStatus::Completed {
            return Err(EngineError::AlreadyCompleted(id.to_string()));
        }
        let lease = self.take_lease(owner, id, on_wait).await?;
        self.launch_leased(owner, id, lease, self.inner.lease, |rec| {
            if rec.status == ExecutionStatus::Completed {
                Err(EngineError::AlreadyCompleted(rec.id.clone()))
            } else {
                Ok(())
            }
        })
        .await
    }

    /// Run an execution claimed from the queue; writes are fenced by the lease.
    pub async fn run_leased(&self, lease: Lease) -> Result<RunHandle, EngineError> {
        let len = Duration::from_millis(
            u64::try_from((lease.expires_at_ms - now_ms()).max(1000)).unwrap_or(1000),
        );
        let (owner, id) = (lease.owner.clone(), lease.execution_id.clone());
        self.launch_leased(&owner, &id, lease, len, |_| Ok(()))
            .await
    }

    /// Take the execution's runner lease (see [`Engine::resume`]).
    pub(super) async fn take_lease(
        &self,
        owner: &str,
        id: &str,
        on_wait: &mut (dyn FnMut(&RunnerInfo) + Send),
    ) -> Result<Lease, EngineError> {
        super::lease::take(&self.inner, owner, id, on_wait).await
    }

    /// Read the execution under `lease` (what other runners wrote before is
    /// visible now), check it, and launch it; the lease is given back if it
    /// does not start.
    pub(super) async fn launch_leased(
        &self,
        owner: &str,
        id: &str,
        lease: Lease,
        lease_len: Duration,
        check: impl FnOnce(&ExecutionRecord) -> Result<(), EngineError>,
    ) -> Result<RunHandle, EngineError> {
        let loaded = async {
            let rec = self.inner.store.get_execution(owner, id).await?;
            check(&rec)?;
            let options = run_options(&rec)?;
            let flow = Arc::new(self.load(&rec.flow, &options)?);
            Ok::<_, EngineError>((rec, options, flow))
        }
        .await;
        let (record, options, flow) = match loaded {
            Ok(x) => x,
            Err(e) => {
                let _ = self.inner.store.release_lease(&lease).await;
                return Err(e);
            }
        };
        launch(
            self.inner.clone(),
            LaunchSpec {
                record,
                options,
                flow,
                lease,
                lease_len,
            },
        )
        .await
    }

    /// Ask a run to stop, wherever it runs (this process or another).
    pub async fn stop(&self, owner: &str, id: &str) -> Result<(), EngineError> {
        Ok(self.inner.store.request_stop(owner, id).await?)
    }

    /// Instructions and approvals recorded for an execution.
    pub async fn options(&self, owner: &str, id: &str) -> Result<RunOptions, EngineError> {
        let rec = self.inner.store.get_execution(owner, id).await?;
        run_options(&rec)
    }

    pub(crate) async fn tier_policy_for(
        &self,
        owner: &str,
    ) -> Result<Option<crate::wallet::TierPolicy>, EngineError> {
        let Some(w) = &self.inner.wallet else {
            return Ok(None);
        };
        let Some(wallet) = w.wallet(owner).await? else {
            return Ok(None);
        };
        let Some(level) = wallet.level else {
            return Ok(None);
        };
        Ok(w.tier_policy(&level).await?)
    }

    /// A metered user's flow may only use priced models: refuse before anything is spent.
    async fn check_prices(&self, owner: &str, flow: &Flow) -> Result<(), EngineError> {
        let Some(w) = &self.inner.wallet else {
            return Ok(());
        };
        if w.wallet(owner).await?.is_none() {
            return Ok(());
        }
        let mut missing: Vec<String> = Vec::new();
        for n in &flow.nodes {
            for (p, m, kind) in n.node.model_calls() {
                let priced = self.inner.prices.get(&p, &m).map(|price| match kind {
                    crate::store::CallKind::Text => true,
                    crate::store::CallKind::Image => price.per_image.is_some(),
                    crate::store::CallKind::Speech => price.per_1k_chars.is_some(),
                });
                let name = match priced {
                    Some(true) => continue,
                    None => format!("{p}/{m}"),
                    Some(false) => format!("{p}/{m} (no {} price)", kind.unit_name()),
                };
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(EngineError::MissingPrices(missing))
        }
    }

    /// Refuse a flow that uses models, kinds or formats the user's tier lacks.
    pub async fn check_tier(&self, owner: &str, flow: &Flow) -> Result<(), EngineError> {
        self.check_prices(owner, flow).await?;
        let Some(policy) = self.tier_policy_for(owner).await? else {
            return Ok(());
        };
        let problems = super::tier::check(flow, &policy);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(EngineError::TierDenied {
                level: policy.level,
                problems,
            })
        }
    }
}

/// The run options stored with an execution. A corrupt options blob is an
/// error, never silently the defaults.
pub(crate) fn run_options(rec: &ExecutionRecord) -> Result<RunOptions, EngineError> {
    if rec.options.is_null() {
        return Ok(RunOptions::default());
    }
    serde_json::from_value(rec.options.clone()).map_err(|e| {
        EngineError::InvalidState(format!(
            "the stored run options of execution {} are invalid: {e}",
            rec.id
        ))
    })
}

/// A host-chosen execution id: short, and safe in URLs, file names and logs.
fn check_execution_id(id: &str) -> Result<String, EngineError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "-_.:".contains(c);
    if id.is_empty() || id.len() > 128 || !id.chars().all(ok_char) {
        return Err(EngineError::InvalidInput(vec![format!(
            "execution id `{}` must be 1-128 ASCII letters, digits, `-`, `_`, `.` or `:`",
            id.chars().take(140).collect::<String>()
        )]));
    }
    Ok(id.to_string())
}

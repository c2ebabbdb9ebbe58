//! The trivial node kinds of the benchmark flows (the equivalent of the
//! peer's `def inc(s): return {"count": s["count"] + 1}`), registered on
//! the engine's [`Registry`] like any host kind.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use lekhika_core::node::{NodeContext, NodeError, NodeOutput, Registry};
use lekhika_core::Node;
use serde_json::Value;

/// Counts every node run (all kinds below), and fails `fail_once` once.
#[derive(Debug, Default)]
pub struct Probe {
    runs: AtomicUsize,
    failed: AtomicBool,
}

impl Probe {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }
    /// Node runs so far (every kind registered by [`register`]).
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::Relaxed)
    }
    /// Forget the runs and re-arm `fail_once`.
    pub fn reset(&self) {
        self.runs.store(0, Ordering::Relaxed);
        self.failed.store(false, Ordering::Relaxed);
    }
    fn tick(&self) {
        self.runs.fetch_add(1, Ordering::Relaxed);
    }
}

fn number(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::Array(a) => a.iter().map(number).sum(),
        _ => 0,
    }
}

/// Sum of every upstream output (arrays are summed element-wise).
fn upstream_sum(ctx: &NodeContext) -> i64 {
    ctx.upstream_outputs().iter().map(|(_, v)| number(v)).sum()
}

/// `inc`: upstream number + 1 (0 + 1 for a first node).
struct Inc(Arc<Probe>);

#[async_trait]
impl Node for Inc {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        self.0.tick();
        Ok(NodeOutput::new(Value::from(upstream_sum(ctx) + 1)))
    }
}

/// `leaf`: outputs 1 (a fan-out branch or a map item).
struct Leaf(Arc<Probe>);

#[async_trait]
impl Node for Leaf {
    async fn run(&self, _ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        self.0.tick();
        Ok(NodeOutput::new(Value::from(1)))
    }
}

/// `sum`: the sum of all upstream outputs (the fan-in).
struct Sum(Arc<Probe>);

#[async_trait]
impl Node for Sum {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        self.0.tick();
        Ok(NodeOutput::new(Value::from(upstream_sum(ctx))))
    }
}

/// `list`: outputs the number `n` from its config (a map over a number
/// runs once per `0..n`).
struct List(Arc<Probe>, u64);

#[async_trait]
impl Node for List {
    async fn run(&self, _ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        self.0.tick();
        Ok(NodeOutput::new(Value::from(self.1)))
    }
}

/// `fail_once`: like `inc`, but its first run in this process fails for
/// good (not retryable), which fails the run.
struct FailOnce(Arc<Probe>);

#[async_trait]
impl Node for FailOnce {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        self.0.tick();
        if !self.0.failed.swap(true, Ordering::SeqCst) {
            return Err(NodeError::failed(format!(
                "injected failure at {}",
                ctx.node_id()
            )));
        }
        Ok(NodeOutput::new(Value::from(upstream_sum(ctx) + 1)))
    }
}

/// Register `inc`, `leaf`, `sum`, `list` and `fail_once`, all reporting to `probe`.
pub fn register(registry: &mut Registry, probe: &Arc<Probe>) {
    let p = probe.clone();
    registry.register("inc", move |_, _| Ok(Box::new(Inc(p.clone()))));
    let p = probe.clone();
    registry.register("leaf", move |_, _| Ok(Box::new(Leaf(p.clone()))));
    let p = probe.clone();
    registry.register("sum", move |_, _| Ok(Box::new(Sum(p.clone()))));
    let p = probe.clone();
    registry.register("fail_once", move |_, _| Ok(Box::new(FailOnce(p.clone()))));
    let p = probe.clone();
    registry.register("list", move |spec, _| {
        let n = spec
            .config
            .get("n")
            .and_then(Value::as_u64)
            .ok_or_else(|| vec!["`n` must be a whole number".to_string()])?;
        Ok(Box::new(List(p.clone(), n)))
    });
}

//! Text calls given up mid-reply: a try that failed after some text had
//! streamed (a cut stream, an overload in mid-reply, a timeout), a stop, or
//! a node attempt that ended mid-call. The provider generated (and bills)
//! those tokens, so their estimated usage is recorded in the call journal
//! as an *abandoned* entry: its own request id (never found by a replay),
//! no charge on the wallet (the reservation was released), a reply of
//! `{"abandoned": true, "why": ..., "chars": ...}`. Usage totals — a
//! node's, the run's, `status` — include it; `status` counts it apart.

use std::sync::{Arc, Mutex};

use serde_json::json;

use super::shared::RunShared;
use crate::node::NodeContext;
use crate::provider::{TextRequest, Usage};
use crate::store::{CallKind, CallRecord, NodeKey};
use crate::util::now_ms;

/// Text streamed by the current try of a call.
#[derive(Clone, Default)]
pub(crate) struct Streamed(Arc<Mutex<String>>);

impl Streamed {
    pub fn clear(&self) {
        if let Ok(mut s) = self.0.lock() {
            s.clear();
        }
    }
    pub fn push(&self, delta: &str) {
        if let Ok(mut s) = self.0.lock() {
            s.push_str(delta);
        }
    }
    fn take(&self) -> String {
        self.0
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

/// What is needed to record one call's abandoned tries.
#[derive(Clone)]
pub(crate) struct Abandon {
    run: Arc<RunShared>,
    unit: NodeKey,
    request: String,
    provider: String,
    model: String,
    input_tokens: u64,
    streamed: Streamed,
}

impl Abandon {
    pub fn new(ctx: &NodeContext, request: &str, req: &TextRequest) -> Self {
        Self {
            run: ctx.run.clone(),
            unit: ctx.journal.key.clone(),
            request: request.to_string(),
            provider: req.provider.clone(),
            model: req.model.clone(),
            input_tokens: crate::tokens::prompt_tokens(req),
            streamed: Streamed::default(),
        }
    }

    /// Where the call's deltas go.
    pub fn streamed(&self) -> Streamed {
        self.streamed.clone()
    }

    /// Record the try given up now, if it had streamed any text.
    pub async fn record(&self, why: &str) {
        let text = self.streamed.take();
        if text.is_empty() {
            return;
        }
        let seq = self.run.journal.next_seq(&self.unit);
        let rec = CallRecord {
            node: self.unit.node.clone(),
            item: self.unit.item,
            request: format!("{}.abandoned.{seq}", self.request),
            seq,
            kind: CallKind::Text,
            provider: self.provider.clone(),
            model: self.model.clone(),
            reply: json!({"abandoned": true, "why": why, "chars": text.chars().count()}),
            usage: Usage {
                input_tokens: self.input_tokens,
                output_tokens: crate::tokens::count_tokens(&self.model, &text),
            },
            cost: 0,
            charge: None,
            recorded_at_ms: now_ms(),
        };
        let run = &self.run;
        let saved = run
            .store
            .put_call(&run.owner, &run.execution_id, &rec, run.fence.as_ref())
            .await;
        if saved.is_ok() {
            run.journal.record(rec);
        }
    }
}

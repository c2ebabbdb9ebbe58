//! Text calls given up mid-reply: a try that failed after some text had
//! streamed (a cut stream, an overload in mid-reply, a timeout), a stop, or
//! a node attempt that ended mid-call. The provider generated (and bills)
//! those tokens, so their estimated usage is recorded in the call journal
//! as an *abandoned* entry: its own request id (never found by a replay),
//! no charge on the wallet (the reservation was released), a reply of
//! `{"abandoned": true, "why": ..., "chars": ...}`. Usage totals — a
//! node's, the run's, `status` — include it; `status` counts it apart.

use std::collections::BTreeMap;
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

    /// Record the try given up now, if it had streamed any text, as
    /// accounting for the `requests` of that try on the call's provider
    /// (taken out of `tries`). Returns whether it recorded an entry.
    pub async fn record(&self, why: &str, tries: &mut Tries) -> bool {
        let text = self.streamed.take();
        if text.is_empty() {
            return false;
        }
        let requests = tries.take(&self.provider).max(1);
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
            requests,
            content: None,
            reused_from: None,
        };
        save(&self.run, rec).await;
        true
    }
}

async fn save(run: &RunShared, rec: CallRecord) {
    let saved = run
        .store
        .put_call(&run.owner, &run.execution_id, &rec, run.fence.as_ref())
        .await;
    if saved.is_ok() {
        run.journal.record(rec);
    }
}

/// HTTP requests of a call's tries that no journal entry accounts for yet,
/// by provider.
#[derive(Debug, Default)]
pub(crate) struct Tries(BTreeMap<String, u32>);

impl Tries {
    /// Add one try's counts (see [`crate::provider::RequestTally`]).
    pub fn add(&mut self, counts: BTreeMap<String, u32>) {
        for (p, n) in counts {
            let e = self.0.entry(p).or_insert(0);
            *e = e.saturating_add(n);
        }
    }

    /// The requests to `provider`, no longer pending.
    pub fn take(&mut self, provider: &str) -> u32 {
        self.0.remove(provider).unwrap_or(0)
    }

    /// Record what is still pending as failed-tries entries, one per
    /// provider: no reply, no usage, never replayed nor charged; they make
    /// request counts add up (a call that failed, or tries on a provider
    /// that then fell back to another).
    pub async fn record(
        &mut self,
        run: &Arc<RunShared>,
        unit: &NodeKey,
        request: &str,
        kind: CallKind,
        model: &str,
        why: &str,
    ) {
        for (provider, requests) in std::mem::take(&mut self.0) {
            if requests == 0 {
                continue;
            }
            let seq = run.journal.next_seq(unit);
            let rec = CallRecord {
                node: unit.node.clone(),
                item: unit.item,
                request: format!("{request}.tries.{seq}"),
                seq,
                kind,
                provider,
                model: model.to_string(),
                reply: json!({"failed_tries": true, "why": why}),
                usage: Usage::default(),
                cost: 0,
                charge: None,
                recorded_at_ms: now_ms(),
                requests,
                content: None,
                reused_from: None,
            };
            save(run, rec).await;
        }
    }
}

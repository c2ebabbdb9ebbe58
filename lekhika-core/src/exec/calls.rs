//! Model calls with exactly-once semantics. Every call a node makes goes
//! through here (via its `NodeContext`):
//!
//! 1. Its identity (request hash, generation, occurrence) is looked up in
//!    the call journal; a recorded reply is replayed: no request, no charge.
//! 2. Otherwise the wallet reserves the worst case, and the provider is
//!    asked. A fault inside the call — a 5xx, a rate limit, a cut stream,
//!    an overload in the middle of a stream, a timeout — retries *this
//!    call* (after a backoff, at least the provider's retry-after), up to
//!    the node's `retry.attempts` tries in all. Nothing else is retried
//!    for it: the node does not run again for a provider fault.
//! 3. The complete reply is recorded in the journal (fenced by the runner
//!    lease), then the reservation is settled at the reported usage. A
//!    crash between the two is settled on the next start; a reply that
//!    could not be recorded is released and asked again later.
//! 4. A text call given up mid-reply — a try that failed after text had
//!    streamed (a cut stream, an overload in mid-reply), or a stop — still
//!    cost the provider tokens: its estimated usage is recorded as an
//!    *abandoned* journal entry (see [`abandoned`]), which counts in usage
//!    totals but is never replayed and never charged.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::abandoned::{Abandon, Tries};
use super::events::EventKind;
use super::journal::{fingerprint, request_id};
use crate::node::{NodeContext, NodeError, NodeFailure};
use crate::provider::{
    ImageRequest, ImageResponse, ProviderError, RequestTally, ServedBy, SpeechRequest,
    SpeechResponse, TextRequest, TextResponse, Usage,
};
use crate::store::{CallKind, CallRecord};
use crate::util::now_ms;
use crate::wallet::Consumption;

/// A provider-requested delay longer than this ends the call's retries.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What the journal needs to know about one kind of call.
trait Journaled: Serialize + DeserializeOwned + Send + 'static {
    const KIND: CallKind;
    fn usage(&self) -> Usage;
    /// What the reply consumed, in the unit of the call's worst case.
    fn used(&self, worst: Consumption) -> Consumption;
    /// What the provider client reports once about a live reply.
    fn notices(&self) -> &[String] {
        &[]
    }
    /// The fallback provider that answered instead of the one asked.
    fn served_by(&self) -> Option<&ServedBy> {
        None
    }
}

impl Journaled for TextResponse {
    const KIND: CallKind = CallKind::Text;
    fn usage(&self) -> Usage {
        self.usage
    }
    fn used(&self, _worst: Consumption) -> Consumption {
        Consumption::Tokens {
            input: self.usage.input_tokens,
            output: self.usage.output_tokens,
        }
    }
    fn notices(&self) -> &[String] {
        &self.notices
    }
    fn served_by(&self) -> Option<&ServedBy> {
        self.served_by.as_ref()
    }
}

impl Journaled for ImageResponse {
    const KIND: CallKind = CallKind::Image;
    fn usage(&self) -> Usage {
        self.usage
    }
    fn used(&self, _worst: Consumption) -> Consumption {
        Consumption::Images(self.images.len() as u64)
    }
    fn served_by(&self) -> Option<&ServedBy> {
        self.served_by.as_ref()
    }
}

impl Journaled for SpeechResponse {
    const KIND: CallKind = CallKind::Speech;
    fn usage(&self) -> Usage {
        Usage::default()
    }
    /// The characters asked for: known before the call.
    fn used(&self, worst: Consumption) -> Consumption {
        worst
    }
}

/// The journal identity of a call `ctx` is about to make.
/// How a call is known: in this execution's journal (its request id, salted
/// with the attempt's generation), and across runs (its content key: what
/// determines the reply and its occurrence among identical requests).
struct Identity {
    request: String,
    content: String,
}

fn identify(ctx: &NodeContext, kind: CallKind, request: &impl Serialize) -> Identity {
    let f = fingerprint(kind, request);
    let n = ctx.occurrences.next(f);
    Identity {
        request: request_id(&ctx.journal, f, n),
        content: format!("{f:032x}.{n}"),
    }
}

/// `--reuse`: a reply the owner paid for in an earlier run, for a call
/// with the same content key, recorded in this execution's journal as
/// reused (cost 0, no request) and noted in the ledger. Never for a node
/// that was regenerated or an attempt regenerated after invalid output:
/// those want a new reply.
async fn reuse<T: Journaled>(ctx: &NodeContext, id: &Identity) -> Result<Option<T>, NodeError> {
    let run = &ctx.run;
    if !run.reuse || ctx.journal.fresh || run.ask_anew.contains(ctx.node_id()) {
        return Ok(None);
    }
    let Some(found) = run
        .store
        .reusable_call(&run.owner, &id.content, &run.execution_id)
        .await?
    else {
        return Ok(None);
    };
    if found.call.kind != T::KIND {
        return Ok(None);
    }
    let Ok(reply) = serde_json::from_value::<T>(found.call.reply.clone()) else {
        return Ok(None);
    };
    let rec = CallRecord {
        node: ctx.journal.key.node.clone(),
        item: ctx.journal.key.item,
        request: id.request.clone(),
        seq: run.journal.next_seq(&ctx.journal.key),
        kind: T::KIND,
        provider: found.call.provider.clone(),
        model: found.call.model.clone(),
        reply: found.call.reply,
        usage: found.call.usage,
        cost: 0,
        charge: None,
        recorded_at_ms: now_ms(),
        requests: 0,
        content: Some(id.content.clone()),
        reused_from: Some(found.execution_id.clone()),
    };
    run.store
        .put_call(&run.owner, &run.execution_id, &rec, run.fence.as_ref())
        .await?;
    if let Some(wallet) = &run.meter.wallet {
        let key = run.next_call_key(ctx.node_id(), ctx.journal.key.item);
        wallet
            .note_reuse(&crate::wallet::LedgerEntry {
                user_id: run.owner.clone(),
                key,
                kind: crate::wallet::LedgerKind::Reuse,
                amount: 0,
                execution_id: Some(run.execution_id.clone()),
                node_id: Some(ctx.node_id().to_string()),
                note: Some(format!(
                    "reused the reply of execution {} ({}/{})",
                    found.execution_id, rec.provider, rec.model
                )),
                created_at_ms: now_ms(),
            })
            .await?;
    }
    ctx.account(Usage::default(), 0, &rec.provider, &rec.model);
    run.events.emit_with(|| EventKind::CallReused {
        node: ctx.node_id().to_string(),
        item: ctx.item_index(),
        kind: T::KIND.as_str().to_string(),
        from_execution: found.execution_id.clone(),
        usage: rec.usage,
    });
    run.journal.record(rec);
    Ok(Some(reply))
}

/// A recorded reply, replayed.
fn replay<T: Journaled>(ctx: &NodeContext, rec: &CallRecord) -> Result<T, NodeError> {
    let reply: T = serde_json::from_value(rec.reply.clone()).map_err(|e| {
        NodeError::failed(format!(
            "the recorded reply of a {} call could not be read ({e})",
            T::KIND.as_str()
        ))
    })?;
    // A reply reused from an earlier run spent nothing in this one.
    let usage = if rec.reused_from.is_some() {
        Usage::default()
    } else {
        rec.usage
    };
    ctx.account(usage, rec.cost, &rec.provider, &rec.model);
    ctx.run.events.emit_with(|| EventKind::CallReplayed {
        node: ctx.node_id().to_string(),
        item: ctx.item_index(),
        kind: T::KIND.as_str().to_string(),
        usage: rec.usage,
        cost: rec.cost,
    });
    Ok(reply)
}

/// Ask the provider, retrying faults inside the call. Each try's HTTP
/// requests are counted into `tries`; tries given up mid-reply are recorded
/// through `abandon` (text calls).
async fn ask<T, F, Fut>(
    ctx: &NodeContext,
    mut call: F,
    abandon: Option<&Abandon>,
    tries: &mut Tries,
) -> Result<T, NodeError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let policy = &ctx.policy.retry;
    let tally = RequestTally::default();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let result = tokio::select! {
            r = tally.scope(call()) => r,
            _ = ctx.run.cancel.cancelled() => {
                tries.add(tally.take());
                if let Some(a) = abandon {
                    a.record("stopped", tries).await;
                }
                return Err(NodeError::Cancelled);
            }
        };
        tries.add(tally.take());
        let err = match result {
            Ok(reply) => return Ok(reply),
            Err(e) => e,
        };
        if let Some(a) = abandon {
            a.record(&err.to_string(), tries).await;
        }
        let too_long = err.retry_after.is_some_and(|d| d > MAX_RETRY_AFTER);
        if !err.is_retryable() || attempts >= policy.attempts || too_long {
            return Err(err.into());
        }
        let delay = policy.delay(attempts, err.retry_after);
        ctx.run.events.emit_with(|| EventKind::CallRetrying {
            node: ctx.node_id().to_string(),
            item: ctx.item_index(),
            attempt: attempts + 1,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error: NodeFailure::from(&NodeError::Provider(err.clone())),
        });
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = ctx.run.cancel.cancelled() => return Err(NodeError::Cancelled),
        }
    }
}

/// Who answered a call and what it took.
struct Answered {
    provider: String,
    model: String,
    /// The call's worst case, in the unit it is priced in.
    worst: Consumption,
    /// HTTP requests the reply took on this provider.
    requests: u32,
}

/// Record a live reply, then settle its charge. Runs as a task of its own,
/// so a node whose future is dropped meanwhile (timeout, stop) cannot lose
/// a reply that was paid for.
async fn record<T: Journaled>(
    ctx: &NodeContext,
    request: String,
    content: String,
    key: Option<String>,
    reply: &T,
    by: &Answered,
) -> Result<i64, NodeError> {
    let usage = reply.usage();
    let (provider, model) = (by.provider.as_str(), by.model.as_str());
    let cost = ctx.run.meter.price(provider, model, reply.used(by.worst));
    let reply_json = serde_json::to_value(reply)
        .map_err(|e| NodeError::failed(format!("cannot record the reply: {e}")))?;
    let rec = CallRecord {
        node: ctx.journal.key.node.clone(),
        item: ctx.journal.key.item,
        request,
        seq: ctx.run.journal.next_seq(&ctx.journal.key),
        kind: T::KIND,
        provider: provider.to_string(),
        model: model.to_string(),
        reply: reply_json,
        usage,
        cost,
        charge: key.clone(),
        recorded_at_ms: now_ms(),
        requests: by.requests,
        content: Some(content),
        reused_from: None,
    };
    let run = ctx.run.clone();
    let task = tokio::spawn(async move {
        let saved = run
            .store
            .put_call(&run.owner, &run.execution_id, &rec, run.fence.as_ref())
            .await;
        match (saved, &key) {
            (Ok(()), Some(k)) => run.meter.settle(k, rec.cost).await?,
            (Ok(()), None) => {}
            (Err(e), Some(k)) => {
                run.meter.release(k).await?;
                return Err(NodeError::from(e));
            }
            (Err(e), None) => return Err(NodeError::from(e)),
        }
        run.journal.record(rec);
        Ok::<(), NodeError>(())
    });
    task.await
        .map_err(|e| NodeError::failed(format!("recording a reply failed: {e}")))??;
    Ok(cost)
}

/// Cleans up after a call whose node future was dropped mid-call (its own
/// timeout): releases the reservation and records what had streamed as an
/// abandoned call. Disarmed once the reply is recorded (or the cleanup is
/// done in line).
struct ReleaseOnDrop {
    run: Option<std::sync::Arc<super::shared::RunShared>>,
    key: Option<String>,
    abandon: Option<Abandon>,
}

impl ReleaseOnDrop {
    fn disarm(&mut self) {
        self.run = None;
        self.abandon = None;
    }
}

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        let (key, abandon) = (self.key.take(), self.abandon.take());
        let Some(run) = self.run.take() else { return };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Some(a) = abandon {
                    a.record("the node's attempt ended mid-call", &mut Tries::default())
                        .await;
                }
                if let Some(k) = key {
                    let _ = run.meter.release(&k).await;
                }
            });
        }
    }
}

/// One journaled call: replay, or reserve → ask (with retries) → record → settle.
async fn journaled<T, F, Fut>(
    ctx: &NodeContext,
    id: Identity,
    provider: &str,
    model: &str,
    worst: Consumption,
    abandon: Option<Abandon>,
    call: F,
) -> Result<T, NodeError>
where
    T: Journaled,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    if let Some(rec) = ctx.run.journal.find(&ctx.journal.key, &id.request) {
        return replay(ctx, &rec);
    }
    if let Some(reply) = reuse(ctx, &id).await? {
        return Ok(reply);
    }
    let Identity { request, content } = id;
    let key = if ctx.run.meter.metered() {
        let key = ctx.run.next_call_key(ctx.node_id(), ctx.journal.key.item);
        ctx.run
            .meter
            .reserve(&key, ctx.node_id(), provider, model, worst)
            .await?;
        Some(key)
    } else {
        None
    };
    let mut guard = ReleaseOnDrop {
        run: Some(ctx.run.clone()),
        key: key.clone(),
        abandon: abandon.clone(),
    };
    let mut tries = Tries::default();
    let reply = match ask(ctx, call, abandon.as_ref(), &mut tries).await {
        Ok(r) => r,
        Err(e) => {
            guard.disarm();
            let unit = &ctx.journal.key;
            tries
                .record(&ctx.run, unit, &request, T::KIND, model, &e.to_string())
                .await;
            if let Some(k) = &key {
                ctx.run.meter.release(k).await?;
            }
            return Err(e);
        }
    };
    // From here the recording task settles or releases the reservation.
    guard.disarm();
    // A fallback provider's reply is recorded (and priced) as its own.
    let (provider, model) = match reply.served_by() {
        Some(s) => (s.provider.clone(), s.model.clone()),
        None => (provider.to_string(), model.to_string()),
    };
    let requests = tries.take(&provider).max(1);
    let why = format!("failed before `{provider}` answered");
    tries
        .record(&ctx.run, &ctx.journal.key, &request, T::KIND, &model, &why)
        .await;
    let by = Answered {
        provider,
        model,
        worst,
        requests,
    };
    let cost = record(ctx, request, content, key, &reply, &by).await?;
    let (provider, model) = (by.provider, by.model);
    ctx.account(reply.usage(), cost, &provider, &model);
    for message in reply.notices() {
        ctx.run.events.emit(EventKind::ProviderNotice {
            node: ctx.node_id().to_string(),
            item: ctx.item_index(),
            provider: provider.to_string(),
            message: message.clone(),
        });
    }
    Ok(reply)
}

/// The identity of a text request: everything but the stream flag.
fn text_identity(req: &TextRequest) -> TextRequest {
    TextRequest {
        stream: false,
        ..req.clone()
    }
}

pub(crate) async fn text(ctx: &NodeContext, req: &TextRequest) -> Result<TextResponse, NodeError> {
    let request = identify(ctx, CallKind::Text, &text_identity(req));
    let node = ctx.node_id().to_string();
    let item = ctx.item_index();
    let events = ctx.run.events.clone();
    let models = ctx.run.models.clone();
    let abandon = Abandon::new(ctx, &request.request, req);
    let streamed = abandon.streamed();
    journaled(
        ctx,
        request,
        &req.provider,
        &req.model,
        super::meter::Meter::worst_text(req),
        Some(abandon),
        || {
            let (node, events, models) = (node.clone(), events.clone(), models.clone());
            let streamed = streamed.clone();
            async move {
                streamed.clear();
                let mut on_delta = move |d: &str| {
                    streamed.push(d);
                    events.delta(&node, item, d)
                };
                models.generate_text(req, &mut on_delta).await
            }
        },
    )
    .await
}

pub(crate) async fn image(
    ctx: &NodeContext,
    req: &ImageRequest,
) -> Result<ImageResponse, NodeError> {
    let request = identify(ctx, CallKind::Image, req);
    let models = ctx.run.models.clone();
    let worst = Consumption::Images(1);
    journaled(ctx, request, &req.provider, &req.model, worst, None, || {
        let models = models.clone();
        async move { models.generate_image(req).await }
    })
    .await
}

pub(crate) async fn speech(
    ctx: &NodeContext,
    req: &SpeechRequest,
) -> Result<SpeechResponse, NodeError> {
    let request = identify(ctx, CallKind::Speech, req);
    let models = ctx.run.models.clone();
    let worst = Consumption::Characters(req.input.chars().count() as u64);
    journaled(ctx, request, &req.provider, &req.model, worst, None, || {
        let models = models.clone();
        async move { models.synthesize_speech(req).await }
    })
    .await
}

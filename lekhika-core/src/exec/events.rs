//! Events pushed to the host as they happen. Lifecycle events are never
//! dropped (their number is bounded by the flow's size); token deltas are
//! dropped while more than [`MAX_PENDING_DELTAS`] wait unread, so a slow
//! consumer never holds the run back or grows memory without bound.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::node::error::NodeFailure;
use crate::provider::Usage;
use crate::util::now_ms;

pub const MAX_PENDING_DELTAS: usize = 4096;

/// One event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub execution_id: String,
    pub at_ms: i64,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    RunStarted {
        epoch: u32,
        nodes: usize,
        /// Nodes already finished (resume).
        done: usize,
    },
    NodeStarted {
        node: String,
        kind: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
    },
    TokenDelta {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        text: String,
    },
    /// A map node knows its list: `items` in all, `done` already finished (resume).
    MapStarted {
        node: String,
        items: usize,
        done: usize,
    },
    Progress {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        message: String,
    },
    NodeRetrying {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        attempt: u32,
        delay_ms: u64,
        error: NodeFailure,
    },
    /// A fault inside one model call (5xx, rate limit, cut stream, an
    /// overload mid-stream, timeout): that call is asked again after
    /// `delay_ms`. Deltas it streamed so far are void; its new reply
    /// streams from the start.
    CallRetrying {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        /// The try about to be made (2 for the first retry).
        attempt: u32,
        delay_ms: u64,
        error: NodeFailure,
    },
    /// A model call answered from the call journal: its reply was recorded
    /// (and paid) before, so the provider is not asked and nothing is charged.
    CallReplayed {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        /// `text`, `image` or `speech`.
        kind: String,
        usage: Usage,
        cost: i64,
    },
    /// A call served from the same user's earlier run (`--reuse`): no
    /// request, no charge. `usage` is what the reply took when it was asked.
    CallReused {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        kind: String,
        /// The execution that paid for the reply.
        from_execution: String,
        usage: Usage,
    },
    /// A provider client changed how it asks to get a reply (a server
    /// refused a request feature, or a fallback provider answered); said
    /// once, on the call where it happened.
    ProviderNotice {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        provider: String,
        message: String,
    },
    NodeFinished {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        usage: Usage,
        cost: i64,
        duration_ms: i64,
        attempts: u32,
    },
    NodeFailed {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
        error: NodeFailure,
    },
    CheckpointSaved {
        node: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        item: Option<u32>,
    },
    RunFinished {
        usage: Usage,
        cost: i64,
    },
    RunFailed {
        node: Option<String>,
        error: NodeFailure,
    },
    RunStopped,
    RunPaused {
        reason: String,
        message: String,
        node: Option<String>,
        /// The output under review, for approval gates.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        review: Option<serde_json::Value>,
    },
}

impl EventKind {
    /// Ends the run's event stream.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::RunFinished { .. }
                | Self::RunFailed { .. }
                | Self::RunStopped
                | Self::RunPaused { .. }
        )
    }
}

/// The sending side, cheap to clone.
#[derive(Clone)]
pub struct EventSink {
    execution_id: Arc<str>,
    tx: Option<mpsc::UnboundedSender<Event>>,
    pending_deltas: Arc<AtomicUsize>,
}

impl EventSink {
    pub(crate) fn new(execution_id: &str) -> (Self, EventStream) {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        (
            Self {
                execution_id: execution_id.into(),
                tx: Some(tx),
                pending_deltas: pending.clone(),
            },
            EventStream { rx, pending },
        )
    }

    pub fn emit(&self, kind: EventKind) {
        self.emit_with(|| kind);
    }

    /// Emit the event `make` builds, building it only when somebody listens.
    pub fn emit_with(&self, make: impl FnOnce() -> EventKind) {
        if let Some(tx) = self.tx.as_ref().filter(|tx| !tx.is_closed()) {
            let _ = tx.send(Event {
                execution_id: self.execution_id.to_string(),
                at_ms: now_ms(),
                kind: make(),
            });
        }
    }

    pub fn delta(&self, node: &str, item: Option<u32>, text: &str) {
        if self.pending_deltas.load(Ordering::Relaxed) >= MAX_PENDING_DELTAS
            || self.tx.as_ref().is_none_or(|tx| tx.is_closed())
        {
            return;
        }
        self.pending_deltas.fetch_add(1, Ordering::Relaxed);
        self.emit(EventKind::TokenDelta {
            node: node.to_string(),
            item,
            text: text.to_string(),
        });
    }
}

/// The receiving side: an async stream of events, ending after the run's
/// terminal event.
pub struct EventStream {
    rx: mpsc::UnboundedReceiver<Event>,
    pending: Arc<AtomicUsize>,
}

impl EventStream {
    /// The next event, or `None` when the run is over and all were read.
    pub async fn recv(&mut self) -> Option<Event> {
        let e = self.rx.recv().await;
        self.note(&e);
        e
    }

    /// Callback adapter: call `f` with every event until the run ends.
    pub async fn for_each(mut self, mut f: impl FnMut(Event)) {
        while let Some(e) = self.recv().await {
            let end = e.kind.is_terminal();
            f(e);
            if end {
                break;
            }
        }
    }

    fn note(&self, e: &Option<Event>) {
        if let Some(Event {
            kind: EventKind::TokenDelta { .. },
            ..
        }) = e
        {
            self.pending.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl futures_core::Stream for EventStream {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let p = self.rx.poll_recv(cx);
        if let Poll::Ready(e) = &p {
            self.note(e);
        }
        p
    }
}

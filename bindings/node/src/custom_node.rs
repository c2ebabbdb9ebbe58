//! Custom node kinds written in JS. The JS side registers one dispatcher
//! function; each node run calls it with a JSON description of the call
//! and awaits the Promise it returns. The dispatcher resolves (never
//! rejects) with `{"ok":true,"output":...,"metrics":...}` or
//! `{"ok":false,"message":...,"retryable":bool}`.
//!
//! A call is `{"call_id": n, "node": <lekhika::api::HostNodeCall>}`. When
//! the engine gives up on a call (the run was stopped, the node's timeout
//! passed) the dispatcher receives `{"cancel": n}` and aborts the
//! `AbortSignal` it gave that call.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use lekhika::core::flow::NodeSpec;
use lekhika::core::{Node, NodeContext, NodeError, NodeOutput, Registry};
use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use serde::Deserialize;
use serde_json::{json, Value};

/// `(callJson: string) => Promise<string>`; weak, so it never keeps Node alive.
pub type Dispatcher = ThreadsafeFunction<String, Promise<String>, String, Status, false, true>;

/// Register every kind in `kinds` as a JS-backed node.
pub fn register(registry: &mut Registry, kinds: &[String], dispatch: &Arc<Dispatcher>) {
    for kind in kinds {
        let dispatch = dispatch.clone();
        registry.register(kind, move |spec: &NodeSpec, _| {
            Ok(Box::new(JsNode {
                kind: spec.kind.clone(),
                config: Value::Object(spec.config.clone()),
                dispatch: dispatch.clone(),
            }) as Box<dyn Node>)
        });
    }
}

struct JsNode {
    kind: String,
    config: Value,
    dispatch: Arc<Dispatcher>,
}

#[derive(Deserialize)]
struct Reply {
    ok: bool,
    #[serde(default)]
    output: Value,
    #[serde(default)]
    metrics: Value,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retryable: bool,
}

impl JsNode {
    fn call_json(&self, ctx: &NodeContext, call_id: u64) -> String {
        let node = lekhika::api::HostNodeCall::of(ctx, &self.kind, &self.config);
        json!({ "call_id": call_id, "node": node }).to_string()
    }

    async fn call(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        let lost = |e: napi::Error| {
            NodeError::failed(format!(
                "custom node `{}` could not call JS: {}",
                self.kind, e.reason
            ))
        };
        static NEXT_CALL: AtomicU64 = AtomicU64::new(1);
        let call_id = NEXT_CALL.fetch_add(1, Ordering::Relaxed);
        // Dropped before the reply arrives = the engine gave up on the call.
        let mut guard = CancelOnDrop {
            dispatch: &self.dispatch,
            call_id,
            armed: true,
        };
        let promise = self
            .dispatch
            .call_async_catch(self.call_json(ctx, call_id))
            .await
            .map_err(lost)?;
        let text = promise.await.map_err(lost)?;
        guard.armed = false;
        let reply: Reply = serde_json::from_str(&text).map_err(|e| {
            NodeError::failed(format!(
                "custom node `{}` returned an unreadable reply: {e}",
                self.kind
            ))
        })?;
        if reply.ok {
            Ok(NodeOutput {
                output: reply.output,
                metrics: reply.metrics,
            })
        } else {
            Err(NodeError::Failed {
                message: reply
                    .message
                    .unwrap_or_else(|| format!("custom node `{}` failed", self.kind)),
                retryable: reply.retryable,
            })
        }
    }
}

#[async_trait]
impl Node for JsNode {
    async fn run(&self, ctx: &NodeContext) -> Result<NodeOutput, NodeError> {
        tokio::select! {
            r = self.call(ctx) => r,
            _ = ctx.cancellation().cancelled() => Err(NodeError::Cancelled),
        }
    }
}

/// Tells the JS side to abort a call's `AbortSignal` when the call's future
/// is dropped before its reply (stop, timeout).
struct CancelOnDrop<'a> {
    dispatch: &'a Dispatcher,
    call_id: u64,
    armed: bool,
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            let msg = json!({ "cancel": self.call_id }).to_string();
            let _ = self
                .dispatch
                .call(msg, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

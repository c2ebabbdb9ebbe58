//! A running execution: its events, stop, and outcome.

use std::sync::Arc;

use lekhika::core::{CancellationToken, EventStream, RunHandle};
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::js;
use crate::json::to_json;

#[napi]
pub struct Run {
    execution_id: String,
    events: Arc<Mutex<Option<EventStream>>>,
    handle: Arc<Mutex<Option<RunHandle>>>,
    stop: CancellationToken,
}

impl Run {
    pub fn new(mut handle: RunHandle) -> Self {
        Self {
            execution_id: handle.execution_id().to_string(),
            events: Arc::new(Mutex::new(handle.events())),
            stop: handle.stop_token(),
            handle: Arc::new(Mutex::new(Some(handle))),
        }
    }
}

#[napi]
impl Run {
    #[napi(getter)]
    pub fn execution_id(&self) -> String {
        self.execution_id.clone()
    }

    /// The next event (`type` says which), or `null` once the run's
    /// terminal event has been read.
    #[napi]
    pub async fn next_event(&self) -> napi::Result<Option<Value>> {
        let mut guard = self.events.lock().await;
        let Some(stream) = guard.as_mut() else {
            return Ok(None);
        };
        match stream.recv().await {
            Some(e) => {
                if e.kind.is_terminal() {
                    *guard = None;
                }
                Ok(Some(to_json(&e)))
            }
            None => {
                *guard = None;
                Ok(None)
            }
        }
    }

    /// Stop the run: in-flight calls are aborted, finished work is kept.
    #[napi]
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Wait for the run to end: its outcome. Resolves once; later calls
    /// reject with `invalid_state`.
    #[napi]
    pub async fn wait(&self) -> napi::Result<Value> {
        let handle = self.handle.lock().await.take().ok_or_else(|| {
            js(lekhika::LekhikaError::Engine(
                lekhika::core::exec::EngineError::InvalidState(
                    "wait() was already called for this run".into(),
                ),
            ))
        })?;
        let outcome = handle
            .wait()
            .await
            .map_err(|e| js(lekhika::LekhikaError::Engine(e)))?;
        Ok(to_json(&outcome))
    }
}

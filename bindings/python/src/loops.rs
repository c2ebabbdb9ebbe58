//! Which asyncio event loop started which execution, so an `async def`
//! custom node runs its coroutine on the loop of the code that started the
//! run (runs started by blocking helpers have none: the coroutine gets a
//! fresh loop on a worker thread).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

#[derive(Clone, Default)]
pub struct Loops(Arc<Mutex<HashMap<String, Py<PyAny>>>>);

impl Loops {
    pub fn insert(&self, execution_id: &str, event_loop: Py<PyAny>) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(execution_id.to_string(), event_loop);
        }
    }

    pub fn remove(&self, execution_id: &str) {
        let old = self.0.lock().ok().and_then(|mut m| m.remove(execution_id));
        if let Some(l) = old {
            Python::attach(|_| drop(l));
        }
    }

    pub fn get(&self, py: Python<'_>, execution_id: &str) -> Option<Py<PyAny>> {
        self.0
            .lock()
            .ok()?
            .get(execution_id)
            .map(|l| l.clone_ref(py))
    }
}

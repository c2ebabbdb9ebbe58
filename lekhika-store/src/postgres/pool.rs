//! A small fixed-size connection pool: each slot is one `tokio_postgres`
//! client behind an async mutex, reconnected when its connection died.

use std::sync::atomic::{AtomicUsize, Ordering};

use lekhika_core::store::{StoreError, StoreResult};
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, Config, NoTls};

pub(crate) struct Pool {
    config: Config,
    slots: Vec<Mutex<Client>>,
    next: AtomicUsize,
}

pub(crate) async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    // The connection future drives the socket; it ends when the client is dropped.
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

impl Pool {
    pub(crate) async fn open(config: Config, size: usize) -> Result<Self, tokio_postgres::Error> {
        let mut slots = Vec::with_capacity(size.max(1));
        for _ in 0..size.max(1) {
            slots.push(Mutex::new(connect(&config).await?));
        }
        Ok(Self {
            config,
            slots,
            next: AtomicUsize::new(0),
        })
    }

    /// A free client (or wait for the next one in turn); reconnects a dead one.
    pub(crate) async fn get(&self) -> StoreResult<MutexGuard<'_, Client>> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut guard = None;
        for i in 0..n {
            if let Some(slot) = self.slots.get((start + i) % n) {
                if let Ok(g) = slot.try_lock() {
                    guard = Some(g);
                    break;
                }
            }
        }
        let mut guard = match guard {
            Some(g) => g,
            None => match self.slots.get(start % n) {
                Some(slot) => slot.lock().await,
                None => return Err(StoreError::backend("postgres pool has no connections")),
            },
        };
        if guard.is_closed() {
            *guard = connect(&self.config)
                .await
                .map_err(|e| StoreError::Backend {
                    message: format!("postgres reconnect failed: {e}"),
                    retryable: true,
                })?;
        }
        Ok(guard)
    }
}

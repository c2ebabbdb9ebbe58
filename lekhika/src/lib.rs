//! Lekhika assembled: one [`Config`] gives an [`Engine`](lekhika_core::Engine)
//! wired to a store (SQLite by default, or PostgreSQL), AI providers (env
//! vars, files or host rows), the model catalog (prices for wallets) and the
//! book exporters. The `lekhika` CLI and the Python and Node bindings are thin
//! layers over this crate.

pub mod api;
pub mod audiobook;
pub mod book;
mod error;
pub mod manuscript;
pub mod nodes;
pub mod providers;
mod runtime;

pub use api::{
    ExecutionSummary, FlowDoc, FlowInfo, FlowNodeInfo, OpenSettings, RunRequest, RunSettings,
    DEFAULT_USER,
};
pub use audiobook::AUDIOBOOK;
pub use book::ALL_FORMATS;
pub use error::{LekhikaError, Result};
pub use manuscript::{export_manuscript, read_manuscript, write_manuscript};
pub use runtime::{
    default_store_path, lease_seconds, open_stores, read_json, Config, Lekhika, Registration,
};

pub use lekhika_core as core;
pub use lekhika_export as export;
pub use lekhika_providers as provider_clients;
pub use lekhika_providers::FallbackTarget;
pub use lekhika_store as store;

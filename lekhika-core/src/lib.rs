//! Lekhika's engine: flow model, [`node::Node`] trait, executor, durable
//! checkpoints and wallet accounting. Free of HTTP, SQL and file formats:
//! those live in `lekhika-providers`, `lekhika-store` and `lekhika-export`
//! behind the traits defined here.

pub mod memory_store;
pub mod provider;
pub mod store;
pub mod util;
pub mod wallet;

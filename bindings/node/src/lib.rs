//! Node.js bindings for Lekhika: a thin napi-rs layer over the `lekhika`
//! facade crate. Every concept has its own file; `error.rs` is the one
//! place Rust errors become JS errors. `index.js` wraps this native module
//! with Promises, async-iterable events, AbortSignal and Error subclasses.

// In `cargo test` the #[napi] exports are not registered, so their callees look unused.
#![cfg_attr(test, allow(dead_code))]

mod config;
mod custom_node;
mod engine;
mod error;
mod export;
mod run;
mod source;
mod types;
mod wallet;

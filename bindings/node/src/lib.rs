//! Node.js bindings for Lekhika: a thin napi-rs layer over the host API of
//! the `lekhika` crate. Every concept has its own file; `error.rs` is the
//! one place Rust errors become JS errors. `index.js` wraps this native
//! module with Promises, async-iterable events, AbortSignal and Error
//! subclasses. Data crosses as the JSON form of the Rust types (snake_case
//! keys, as in Python and the CLI's --json).

// In `cargo test` the #[napi] exports are not registered, so their callees look unused.
#![cfg_attr(test, allow(dead_code))]

mod books;
mod custom_node;
mod engine;
mod error;
mod handle;
mod json;
mod runs;
mod wallets;

//! Lekhika's engine: flow model, [`node::Node`] trait, executor, durable
//! checkpoints and wallet accounting. Free of HTTP, SQL and document
//! formats: those live in `lekhika-providers`, `lekhika-store` and
//! `lekhika-export` behind the traits defined here. The one container
//! knowledge it has is [`audio`]: joining narrated pieces (WAV data, MP3
//! frames) for the `speech` node.
//!
//! Start with [`Engine::builder`].

pub mod audio;
pub mod exec;
pub mod flow;
pub mod memory_store;
pub mod node;
pub mod provider;
pub mod quota;
pub mod store;
pub mod template;
pub mod testing;
pub mod text;
pub mod tokens;
pub mod util;
pub mod wallet;

pub use exec::{
    Engine, EngineBuilder, EngineError, Event, EventKind, EventStream, RunHandle, RunOptions,
    RunOutcome,
};
pub use flow::{Flow, FlowError, FlowProblem};
pub use node::{Node, NodeContext, NodeError, NodeOutput, Registry};
pub use tokio_util::sync::CancellationToken;

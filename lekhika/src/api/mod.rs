//! The host API: the one set of operations the CLI, the Python package and
//! the Node package call. Front ends only translate it — the same methods,
//! with the same names in each language's casing, the same defaults and the
//! same error codes ([`crate::LekhikaError::code`]).
//!
//! | method | what |
//! |---|---|
//! | `open` | assemble from a [`crate::Config`] |
//! | `node_kinds`, `validate`, `check_flow`, `estimate` | flows |
//! | `start`, `run`, `submit`, `claim`, `resume`, `stop`, `report`, `settings`, `regenerate`, `approve`, `reject`, `list_executions`, `runners` | runs |
//! | `compiled_book`, `export_book`, `write_book`, `list_books`, `export_manuscript`, `write_manuscript` | books |
//! | `wallet`, `grant`, `set_tier`, `ledger`, `tier_policy`, `put_tier_policy` | wallets |
//! | `migrate` | PostgreSQL schema |
//!
//! A run is asked for with one [`RunRequest`] (flow, inputs, [`RunSettings`]).

pub(crate) mod books;
mod flows;
mod host_node;
mod open;
mod request;
mod runs;
mod wallets;

pub use books::redact_url;
pub use flows::{FlowInfo, FlowNodeInfo};
pub use host_node::{HostItem, HostNodeCall};
pub use open::OpenSettings;
pub use request::{FlowDoc, RunRequest, RunSettings, DEFAULT_USER};
pub use runs::ExecutionSummary;

/// Every method of the host API, in snake_case. The bindings' parity tests
/// check their classes against this list (Node in camelCase).
pub const METHODS: &[&str] = &[
    "open",
    "node_kinds",
    "validate",
    "check_flow",
    "estimate",
    "start",
    "run",
    "submit",
    "claim",
    "resume",
    "stop",
    "report",
    "settings",
    "regenerate",
    "approve",
    "reject",
    "list_executions",
    "runners",
    "reuse_stats",
    "clear_reuse",
    "compiled_book",
    "export_book",
    "write_book",
    "list_books",
    "export_manuscript",
    "write_manuscript",
    "wallet",
    "grant",
    "set_tier",
    "ledger",
    "tier_policy",
    "put_tier_policy",
    "migrate",
];

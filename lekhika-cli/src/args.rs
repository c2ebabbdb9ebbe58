//! Command-line syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0   done
  1   other failure (store, I/O)
  2   bad input: flow, inputs, flags, unknown execution or node
  3   provider failure: `lekhika resume ID` once it is back
  4   out of tokens (paused): `lekhika wallet grant`, then `lekhika resume ID`
  5   awaiting approval (paused): `lekhika approve` / `lekhika reject`
  6   busy: another live process runs this execution
  7   a step failed (invalid output, a node error): see `lekhika status ID`
  8   content blocked by the provider: change the prompt or the provider
  130 stopped: `lekhika resume ID` continues";

/// Write whole books with AI from a flow.
///
/// A flow is a React Flow JSON document (see examples/flows). Providers come
/// from OPENAI_API_KEY / OPENAI_BASE_URL, ANTHROPIC_API_KEY, GEMINI_API_KEY,
/// STABILITY_API_KEY or a --providers file. Runs are durable: every finished
/// step is saved, so `lekhika resume ID` continues after a crash or stop.
#[derive(Parser, Debug)]
#[command(
    name = "lekhika",
    version,
    about,
    long_about,
    max_term_width = 100,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Store: a SQLite file path or a postgres:// URL
    /// [default: a SQLite file in the user's data directory]
    #[arg(long, env = "LEKHIKA_STORE", global = true)]
    pub store: Option<String>,
    /// The acting user; runs, books and wallets belong to a user.
    #[arg(long, env = "LEKHIKA_USER", default_value = "local", global = true)]
    pub user: String,
    /// Provider configuration file (JSON list of {name, kind, api_key, base_url, is_active}).
    #[arg(long, env = "LEKHIKA_PROVIDERS", global = true)]
    pub providers: Option<PathBuf>,
    /// When provider PRIMARY fails with a retryable error (5xx, overload,
    /// rate limit, timeout), ask SECONDARY instead, with MODEL if given
    /// (repeatable; a provider's fallbacks are tried in order).
    #[arg(
        long = "fallback",
        global = true,
        value_name = "PRIMARY=SECONDARY[:MODEL]"
    )]
    pub fallbacks: Vec<String>,
    /// Model catalog file replacing the built-in one (models, context windows, prices).
    #[arg(long, env = "LEKHIKA_CATALOG", global = true)]
    pub catalog: Option<PathBuf>,
    /// Runner lease in seconds: one process runs an execution at a time, and
    /// a run whose process died can be resumed (or taken over by a worker)
    /// this long after [default: 15].
    #[arg(long, env = "LEKHIKA_LEASE", global = true, value_name = "SECONDS")]
    pub lease: Option<f64>,
}

/// How a run reports progress.
#[derive(Args, Debug, Clone)]
pub struct Follow {
    /// Print one JSON object per event per line on stdout instead of progress bars.
    #[arg(long)]
    pub json: bool,
    /// Directory for the book files [default: ./out, or the run's earlier choice].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Formats to write: any of pdf,epub,docx,html,md,audiobook [default: all the flow makes, or
    /// the run's earlier choice].
    #[arg(long, value_delimiter = ',')]
    pub formats: Option<Vec<String>>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a flow and write the book files.
    Run(RunArgs),
    /// Continue a stopped, paused, failed or crashed run from its checkpoint.
    Resume {
        /// Execution id.
        id: String,
        #[command(flatten)]
        follow: Follow,
        #[command(flatten)]
        common: Common,
    },
    /// Ask a run to stop (works from another terminal).
    Stop {
        /// Execution id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Show a run's state, per-node timings, tokens, cost and attempts.
    Status {
        /// Execution id.
        id: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Re-run one node and everything after it, optionally with an instruction.
    Regenerate {
        /// Execution id.
        id: String,
        /// Node id in the flow.
        node: String,
        /// Extra instruction appended to the node's prompt.
        #[arg(long)]
        instruction: Option<String>,
        #[command(flatten)]
        follow: Follow,
        #[command(flatten)]
        common: Common,
    },
    /// Approve the output waiting at an approval node and continue the run.
    Approve {
        /// Execution id.
        id: String,
        /// The approval node.
        node: String,
        /// A JSON (or text) file with an edited version to approve instead.
        #[arg(long)]
        edit: Option<PathBuf>,
        #[command(flatten)]
        follow: Follow,
        #[command(flatten)]
        common: Common,
    },
    /// Reject the output at an approval node: the reviewed node is rewritten with your instruction.
    Reject {
        /// Execution id.
        id: String,
        /// The approval node.
        node: String,
        /// What to change.
        #[arg(long)]
        instruction: String,
        #[command(flatten)]
        follow: Follow,
        #[command(flatten)]
        common: Common,
    },
    /// Check a flow and report every problem at once.
    Validate {
        /// Flow file (React Flow JSON).
        flow: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Estimate tokens and wallet cost of a run without calling any model.
    Estimate {
        /// Flow file (React Flow JSON).
        flow: PathBuf,
        #[command(flatten)]
        inputs: Inputs,
        /// Print the estimate as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        models: ModelChoice,
        #[command(flatten)]
        common: Common,
    },
    /// Write the book of a finished run, or a manuscript file, in other formats.
    Export {
        /// Execution id, or a manuscript file: Markdown with YAML front matter (.md, one
        /// `#` heading per chapter) or a compiled book (.json).
        id: String,
        /// Formats: any of pdf,epub,docx,html,md; audiobook for a run that narrates.
        #[arg(long, value_delimiter = ',', required = true)]
        formats: Vec<String>,
        /// Directory for the files.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Show or fund token wallets.
    Wallet {
        #[command(subcommand)]
        action: WalletAction,
    },
    /// Queue a run for workers sharing the store; prints its id.
    ///
    /// Takes every option `run` takes; a worker writes the book to `--out`
    /// (relative to the worker's directory unless absolute) in `--formats`.
    Submit(RunArgs),
    /// Claim queued runs from the store and run them, until interrupted.
    Worker {
        /// Runs at once.
        #[arg(long, default_value_t = 2)]
        max_concurrent: usize,
        /// Print events as JSON lines.
        #[arg(long)]
        json: bool,
        /// Stop after this many runs (for scripts and tests).
        #[arg(long)]
        max_runs: Option<usize>,
        #[command(flatten)]
        common: Common,
    },
    /// Create or upgrade the PostgreSQL schema (idempotent).
    ///
    /// Give `--store` an owner/admin URL; prints what it applied and how to
    /// create a login role for workers. A SQLite file is brought up to date
    /// whenever it is opened.
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// List a user's executions and their books.
    List {
        /// Only executions in this state: pending, running, interrupted,
        /// paused, completed, failed, stopped.
        #[arg(long)]
        status: Option<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// The replies `--reuse` can serve: how many, what they cost, and forget them.
    Cache {
        #[command(subcommand)]
        action: CacheAction,
    },
    /// Show the live workers sharing the store and the runs they hold.
    ///
    /// Ids and times only (the lease's age and how long until it expires
    /// unrenewed), across every user.
    Workers {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand, Debug)]
pub enum CacheAction {
    /// How many of the user's paid replies later `--reuse` runs can be
    /// served from, what they cost, and how many have been reused.
    Stats {
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Forget the user's reusable replies: later `--reuse` runs ask the
    /// provider again. Runs keep their journals (resume never asks twice).
    Clear {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand, Debug)]
pub enum WalletAction {
    /// Show a user's wallet and recent ledger entries.
    Show {
        /// Whose wallet.
        #[arg(value_name = "USER")]
        owner: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Add tokens to a user's wallet (turns metering on for that user).
    Grant {
        /// Whose wallet.
        #[arg(value_name = "USER")]
        owner: String,
        /// Tokens to add.
        amount: i64,
        /// Idempotency key: granting twice with one key adds once [default: a new key].
        #[arg(long)]
        key: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// The brief.
#[derive(Args, Debug, Clone, Default)]
pub struct Inputs {
    /// An input value, e.g. --input title="The Long Road" (repeatable).
    #[arg(long = "input", short = 'i', value_name = "KEY=VALUE")]
    pub input: Vec<String>,
    /// An input read from a text file, e.g. --input-file manuscript=book.md (repeatable).
    #[arg(long = "input-file", value_name = "KEY=PATH")]
    pub input_file: Vec<String>,
    /// A JSON file with all inputs (values given with --input or --input-file win).
    #[arg(long)]
    pub inputs: Option<PathBuf>,
}

/// Provider and model overrides.
#[derive(Args, Debug, Clone, Default)]
pub struct ModelChoice {
    /// Use this provider for every text node (its default model unless --model).
    #[arg(long)]
    pub provider: Option<String>,
    /// Use this model for every text node.
    #[arg(long)]
    pub model: Option<String>,
    /// Use MODEL for one node (and the calls inside it, e.g. a map's
    /// writer); wins over --model. Repeatable: --node-model outline=gpt-5-mini
    #[arg(long = "node-model", value_name = "NODE=MODEL")]
    pub node_models: Vec<String>,
    /// Use PROVIDER (its default model unless --node-model) for one node.
    /// Repeatable: --node-provider write=anthropic
    #[arg(long = "node-provider", value_name = "NODE=PROVIDER")]
    pub node_providers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Flow file (React Flow JSON).
    pub flow: PathBuf,
    #[command(flatten)]
    pub inputs: Inputs,
    #[command(flatten)]
    pub models: ModelChoice,
    /// Nodes running at once.
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Validate and estimate only; call no model.
    #[arg(long)]
    pub dry_run: bool,
    /// Serve calls identical to ones this user already paid for in earlier
    /// runs (same provider, model, parameters and prompt) from those runs:
    /// no request, no charge. See `lekhika cache`.
    #[arg(long)]
    pub reuse: bool,
    #[command(flatten)]
    pub follow: Follow,
    #[command(flatten)]
    pub common: Common,
}

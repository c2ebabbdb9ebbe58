// Types of the `lekhika` package: Lekhika's host API for Node. Methods are
// camelCase; data is the JSON form of the Rust types (snake_case keys, the
// same as the Python package and the CLI's --json output). A test checks
// these declarations against the package and against real data.

/** A flow document (React Flow JSON), JSON text, or a path to a JSON file. */
export type FlowSource = string | { nodes: unknown[]; edges?: unknown[]; [k: string]: unknown }

export interface Usage { input_tokens: number; output_tokens: number }
export interface NodeFailure { code: string; message: string; retryable: boolean }
export interface ModelChoice { provider?: string | null; model?: string | null }

/** The settings of a run (`start`, `run`, `submit`, `estimate`, `validate`). Unknown keys are errors. */
export interface RunOptions {
  user?: string
  provider?: string | null
  model?: string | null
  models?: Record<string, ModelChoice>
  max_concurrency?: number | null
  execution_id?: string | null
  engine_id?: string | null
  host?: unknown
  /** Serve calls identical to ones this user already paid for from those runs: no request, no charge. */
  reuse?: boolean
}

/** A run's settings as stored. */
export interface RunSettings {
  user: string | null
  provider: string | null
  model: string | null
  models: Record<string, ModelChoice>
  max_concurrency: number | null
  execution_id: string | null
  engine_id: string | null
  host: unknown
  reuse: boolean
}

export interface FlowNodeInfo { id: string; kind: string }
export interface InputField {
  name: string; type: string; required: boolean; default: unknown
  label: string | null; description: string | null; options: unknown[] | null
  minimum?: number; maximum?: number
}
export interface FlowProblem { scope: 'node' | 'edge' | 'flow'; id: string | null; message: string }
/** `warnings`: accepted but worth a look, e.g. config keys a node ignored (a typo?). */
export interface FlowInfo { nodes: FlowNodeInfo[]; inputs: InputField[]; warnings: FlowProblem[] }

export interface NodeFigures { calls: number; input_tokens: number; output_tokens: number; cost: number | null }
export interface NodeEstimate { node: string; provider: string; model: string; expected: NodeFigures; worst: NodeFigures }
export interface Figures { calls: number; input_tokens: number; output_tokens: number; cost: number }
export interface Estimate { nodes: NodeEstimate[]; expected: Figures; worst: Figures; missing_prices: string[] }

export type Status = 'pending' | 'running' | 'paused' | 'stopped' | 'completed' | 'failed' | 'interrupted'

export interface RunnerInfo { worker: string; token: number; expires_in_ms: number }

export interface RunOutcome {
  execution_id: string
  status: Status
  message: string | null
  reason: string | null
  node: string | null
  usage: Usage
  cost: number
  failure?: NodeFailure
  review?: unknown
}

export interface NodeReport {
  node: string; item?: number; duration_ms: number; usage: Usage; cost: number; attempts: number
  provider: string | null; model: string | null; metrics: unknown
  /** Complete model replies of this node (or item), the HTTP requests they took, and each provider/model it called. */
  calls: number; requests: number; models: ModelUse[]
  /** Replies served from the user's earlier runs (`reuse`). */
  reused: number
}
export interface ModelUse { provider: string; model: string; calls: number; requests: number; usage: Usage; cost: number }
/** `requests`: what this provider's server saw; `retries`: requests that brought no kept reply. */
export interface ProviderTotals { calls: number; requests: number; retries: number; usage: Usage; cost: number }
export interface LengthSummary { chapters: number; mean: number; min: number }
export interface ExecutionReport {
  execution_id: string; status: Status; runner?: RunnerInfo; message: string | null; reason: string | null
  epoch: number; nodes_total: number; nodes_done: number; nodes: NodeReport[]
  providers: Record<string, ProviderTotals>; usage: Usage; usage_estimated: Usage; cost: number; calls: number
  requests: number; retries: number
  length?: LengthSummary; abandoned_calls: number; created_at_ms: number; updated_at_ms: number
  /** Replies served from earlier runs (`reuse`): no request, no charge; `reused_usage` is what they took when asked. */
  reused_calls: number; reused_usage: Usage
}
/** What `reuse` can serve a user, and has. */
export interface ReuseStats {
  replies: number; executions: number; usage: Usage; cost: number; reused: number; reused_usage: Usage
}
export interface ExecutionSummary {
  id: string; status: Status; message: string | null; reason: string | null; engine_id: string | null
  title: string | null; created_at_ms: number; updated_at_ms: number; runner: RunnerInfo | null
}
export interface RunnerLease {
  worker: string; execution_id: string; token: number; expires_in_ms: number; held_for_ms: number
}
export interface BookRecord {
  id: string; owner: string; execution_id: string; title: string; author: string | null
  word_count: number; character_count: number; formats: string[]; created_at_ms: number
}
export interface Wallet {
  user_id: string; balance: number; reserved: number; total_earned: number; total_spent: number
  level: string | null; current_period: string | null
}
export interface LedgerEntry {
  user_id: string; key: string; kind: 'grant' | 'reserve' | 'settle' | 'release'; amount: number
  execution_id: string | null; node_id: string | null; note: string | null; created_at_ms: number
}
export interface TierFeatures {
  allowed_models?: string[] | null; allowed_node_kinds?: string[] | null; allowed_export_formats?: string[] | null
}
export interface TierPolicy {
  level: string; monthly_allocation: number; per_execution_limit: number | null; features: TierFeatures
}
/** One rendered file of a book. */
export interface ExportedFile { name: string; mime: string; bytes: Buffer }

interface EventBase { execution_id: string; at_ms: number }
/** One event of a run (`type` says which). */
export type LekhikaEvent = EventBase & (
  | { type: 'run_started'; epoch: number; nodes: number; done: number }
  | { type: 'node_started'; node: string; kind: string; item?: number }
  | { type: 'token_delta'; node: string; item?: number; text: string }
  | { type: 'map_started'; node: string; items: number; done: number }
  | { type: 'progress'; node: string; item?: number; message: string }
  | { type: 'call_retrying'; node: string; item?: number; attempt: number; delay_ms: number; error: NodeFailure }
  | { type: 'call_replayed'; node: string; item?: number; kind: string; usage: Usage; cost: number }
  | { type: 'node_retrying'; node: string; item?: number; attempt: number; delay_ms: number; error: NodeFailure }
  | { type: 'node_finished'; node: string; item?: number; usage: Usage; cost: number; duration_ms: number; attempts: number }
  | { type: 'node_failed'; node: string; item?: number; error: NodeFailure }
  | { type: 'checkpoint_saved'; node: string; item?: number }
  | { type: 'run_finished'; usage: Usage; cost: number }
  | { type: 'run_failed'; node: string | null; error: NodeFailure }
  | { type: 'run_stopped' }
  | { type: 'run_paused'; reason: string; message: string; node: string | null; review?: unknown }
)

/** What a custom node function receives. */
export interface NodeCall {
  kind: string
  node_id: string
  execution_id: string
  user: string
  /** The node's `data` from the flow document (policy keys removed). */
  config: Record<string, unknown>
  /** The run's inputs. */
  input: Record<string, unknown>
  /** Outputs of the direct upstream nodes, by node id. */
  upstream: Record<string, unknown>
  /** The map item, when the node runs inside a map. */
  item: { index: number; item: unknown; prev_item: unknown; next_item: unknown; previous: unknown; results: unknown } | null
  instruction: string | null
  attempt: number
  /** Aborted when the engine no longer needs this call: the run was stopped or the node's `timeout_ms` passed. */
  signal: AbortSignal
}

/** A custom node kind: resolves to the node's output. Throw to fail (set `err.retryable = true` to retry). */
export type CustomNode = (call: NodeCall) => Promise<unknown> | unknown

/** One AI provider: a key and, for compatible servers, a base URL. */
export interface ProviderRow {
  name: string; kind?: string; api_key?: string; base_url?: string; is_active?: boolean; user_id?: string
  requests_per_minute?: number; tokens_per_minute?: number
  fallback?: Array<string | { provider: string; model?: string }>
}
export interface OpenOptions {
  /** SQLite path, `sqlite::memory:` or `postgres://...` (default: the user's SQLite file). */
  store?: string
  providers?: ProviderRow[]
  providers_file?: string
  providers_from_env?: boolean
  /** The model catalog: an object, JSON text or a file path. */
  catalog?: unknown
  max_concurrency?: number
  /** Runner lease in seconds (default 15). */
  lease?: number
  /** Fallback chains: `{primary: ['secondary', {provider, model}]}`, tried when a provider fails. */
  fallbacks?: Record<string, Array<string | { provider: string; model?: string }>>
  nodes?: Record<string, CustomNode>
}

export interface UserOption { user?: string }
/** Export options (default: those of the flow's `export` node). */
export interface ExportSettings {
  trim?: '6x9' | '5x8' | '5.5x8.5' | 'a5' | { width_mm: number; height_mm: number }
  font_size_pt?: number
  margins_mm?: { top?: number; bottom?: number; inside?: number; outside?: number }
  chapters_on_recto?: boolean
  labels?: Partial<Record<'contents' | 'about_the_author' | 'chapter' | 'copyright' | 'all_rights_reserved' | 'isbn' | 'published_by' | 'first_published', string>>
}
export interface ExportCallOptions extends UserOption { options?: ExportSettings }
export interface RunControl extends UserOption {
  signal?: AbortSignal
}
export interface StartOptions extends RunOptions {
  signal?: AbortSignal
  onEvent?: (event: LekhikaEvent) => void | Promise<void>
  /** `run` only: reject with a `RunError` unless the run completes (default true). */
  check?: boolean
}

export declare class RunHandle implements AsyncIterable<LekhikaEvent> {
  readonly executionId: string
  events(): AsyncGenerator<LekhikaEvent, void, undefined>
  [Symbol.asyncIterator](): AsyncIterator<LekhikaEvent>
  stop(): void
  result(): Promise<RunOutcome>
  done(onEvent?: (event: LekhikaEvent) => void | Promise<void>, opts?: { check?: boolean }): Promise<RunOutcome>
}

/** Lekhika's host API: the same methods as the Rust crate and the Python package. */
export declare class Lekhika {
  static open(options?: OpenOptions): Promise<Lekhika>
  static migrate(adminUrl: string): Promise<string[]>
  /** Typeset a manuscript file (Markdown with front matter, or a book's JSON) without a store. */
  static exportManuscript(path: string, formats?: string[], options?: Record<string, unknown>): Promise<ExportedFile[]>
  /** `exportManuscript`, then write the files (atomically) into `dir`; their paths. */
  static writeManuscript(path: string, dir: string, formats?: string[], options?: Record<string, unknown>): Promise<string[]>
  nodeKinds(): string[]
  validate(flow: FlowSource, options?: RunOptions): FlowInfo
  checkFlow(flow: FlowSource, options?: RunOptions): FlowInfo
  estimate(flow: FlowSource, input?: Record<string, unknown>, options?: RunOptions): Estimate
  start(flow: FlowSource, input?: Record<string, unknown>, options?: StartOptions): Promise<RunHandle>
  run(flow: FlowSource, input?: Record<string, unknown>, options?: StartOptions): Promise<RunOutcome>
  submit(flow: FlowSource, input?: Record<string, unknown>, options?: RunOptions): Promise<string>
  claim(worker: string, options?: { lease?: number; signal?: AbortSignal }): Promise<RunHandle | null>
  resume(executionId: string, options?: RunControl): Promise<RunHandle>
  regenerate(executionId: string, node: string, options?: RunControl & { instruction?: string }): Promise<RunHandle>
  approve(executionId: string, node: string, options?: RunControl & { edited?: unknown }): Promise<RunHandle>
  reject(executionId: string, node: string, instruction: string, options?: RunControl): Promise<RunHandle>
  stop(executionId: string, options?: UserOption): Promise<void>
  report(executionId: string, options?: UserOption): Promise<ExecutionReport>
  settings(executionId: string, options?: UserOption): Promise<RunSettings>
  listExecutions(options?: UserOption & { status?: Status }): Promise<ExecutionSummary[]>
  /** Every live runner lease in the store, across tenants (ids and times, no content). */
  runners(): Promise<RunnerLease[]>
  reuseStats(options?: UserOption): Promise<ReuseStats>
  clearReuse(options?: UserOption): Promise<number>
  compiledBook(executionId: string, options?: UserOption): Promise<Record<string, unknown>>
  exportBook(executionId: string, formats?: string[], options?: ExportCallOptions): Promise<ExportedFile[]>
  writeBook(executionId: string, dir: string, formats?: string[], options?: ExportCallOptions): Promise<string[]>
  listBooks(options?: UserOption): Promise<BookRecord[]>
  wallet(user: string): Promise<Wallet | null>
  grant(user: string, amount: number, key?: string, note?: string): Promise<Wallet>
  setTier(user: string, level?: string | null): Promise<Wallet>
  ledger(user: string, executionId?: string): Promise<LedgerEntry[]>
  tierPolicy(level: string): Promise<TierPolicy | null>
  putTierPolicy(policy: TierPolicy): Promise<void>
}

/** Every method of the host API, in camelCase. */
export declare function apiMethods(): string[]

export interface ErrorOptions { code?: string; retryable?: boolean; details?: Record<string, unknown> }
export declare class LekhikaError extends Error {
  constructor(message: string, options?: ErrorOptions)
  /** Stable machine-readable code: `invalid_flow`, `invalid_input`, `not_found`, `busy`, ... */
  readonly code: string
  /** Whether trying the same call again may help. */
  readonly retryable: boolean
}
export declare class ConfigError extends LekhikaError {
  /** When the store could not be opened (`code` `store_open`): `auth_failed`, `database_missing`, `connection_refused`, `not_migrated`, `schema_outdated`, `schema_newer`, `unsafe_role`, ... */
  readonly reason?: string
}
export declare class ArgumentError extends LekhikaError {}
export declare class FlowError extends LekhikaError {
  readonly problems: Array<{ scope: string; id: string | null; message: string }>
}
export declare class InputError extends LekhikaError { readonly problems: string[] }
export declare class TierDeniedError extends LekhikaError { readonly level: string; readonly problems: string[] }
export declare class NotFoundError extends LekhikaError {}
export declare class StateError extends LekhikaError {}
export declare class StoreError extends LekhikaError {}
export declare class ExportError extends LekhikaError {}
/** A run that did not complete (`run` with `check`, the default). */
export declare class RunError extends LekhikaError {
  readonly outcome: RunOutcome
  readonly execution_id: string
  readonly status: Status
  readonly node: string | null
}

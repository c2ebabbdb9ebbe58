'use strict'
// Error subclasses with a stable `code`. The native module throws errors
// whose message is `LEKHIKA_ERROR:{json}` (see src/error.rs, the one place
// codes are decided); `fromNative` turns them into these classes.

const PREFIX = 'LEKHIKA_ERROR:'

class LekhikaError extends Error {
  constructor(message, { code = 'internal', retryable = false, details = {} } = {}) {
    super(message)
    this.name = new.target.name
    this.code = code
    this.retryable = retryable
    Object.assign(this, details)
  }
}
/** Bad configuration: providers, catalog, store location, formats. Fix and retry. */
class ConfigError extends LekhikaError {}
/** An argument of the wrong shape (bad JSON, not an object). */
class ArgumentError extends LekhikaError {}
/** The flow is invalid; `problems` lists every problem `{scope, id, message}`. */
class FlowError extends LekhikaError {}
/** The inputs do not match the flow's input form; `problems` lists them. */
class InputError extends LekhikaError {}
/** The user's tier does not allow what the flow uses (`level`, `problems`). Nothing was spent. */
class TierDeniedError extends LekhikaError {}
/** No such execution for this user, or no such node in its flow. */
class NotFoundError extends LekhikaError {}
/** The request does not fit the execution's state (`already_completed`, `busy`: another live process runs it, ...). */
class StateError extends LekhikaError {}
/**
 * A run that did not complete (thrown by `run()` and `done()` with `check`,
 * the default). `outcome` is the run's outcome; `code` is its reason
 * (`provider_error`, `insufficient_tokens`, `awaiting_approval`, `stopped`, ...).
 */
class RunError extends LekhikaError {
  constructor(outcome) {
    const failure = outcome.failure || null
    super(outcome.message || `run ${outcome.execution_id} ended ${outcome.status}`, {
      code: (failure && failure.code) || outcome.reason || outcome.status,
      retryable: Boolean(failure && failure.retryable),
    })
    this.outcome = outcome
    this.execution_id = outcome.execution_id
    this.status = outcome.status
    this.node = outcome.node || null
  }
}
/** The store failed; `retryable` says whether trying again may help. */
class StoreError extends LekhikaError {}
/** Rendering or writing the book failed. */
class ExportError extends LekhikaError {}

const BY_CODE = {
  config: ConfigError,
  store_open: ConfigError,
  no_book: ConfigError,
  missing_prices: ConfigError,
  invalid_argument: ArgumentError,
  invalid_flow: FlowError,
  invalid_input: InputError,
  tier_denied: TierDeniedError,
  not_found: NotFoundError,
  unknown_node: NotFoundError,
  invalid_state: StateError,
  already_completed: StateError,
  busy: StateError,
  conflict: StateError,
  forbidden: StoreError,
  store_error: StoreError,
  export_failed: ExportError,
  io_error: ExportError,
}

function fromNative(err) {
  if (err instanceof LekhikaError) return err
  const msg = err && typeof err.message === 'string' ? err.message : String(err)
  const at = msg.indexOf(PREFIX)
  if (at >= 0) {
    try {
      const { code, message, retryable, ...details } = JSON.parse(msg.slice(at + PREFIX.length))
      const Cls = BY_CODE[code] || LekhikaError
      return new Cls(message, { code, retryable, details })
    } catch {
      // fall through
    }
  }
  // napi's own argument conversion errors ("Failed to convert ...").
  if (err && (err.code === 'InvalidArg' || err.code === 'ObjectExpected' || err.code === 'StringExpected' ||
      err.code === 'NumberExpected' || err.code === 'FunctionExpected' || err.code === 'ArrayExpected')) {
    return new ArgumentError(msg, { code: 'invalid_argument' })
  }
  return new LekhikaError(msg, { code: 'internal' })
}

module.exports = {
  LekhikaError, ConfigError, ArgumentError, FlowError, InputError, TierDeniedError,
  NotFoundError, StateError, StoreError, ExportError, RunError, fromNative,
}

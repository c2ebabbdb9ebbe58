'use strict'
// The `lekhika` package: Promises, async-iterable events, AbortSignal and
// Error subclasses over the native module. No engine logic lives here.

const native = require('./native.js')
const errors = require('./errors.js')

const { fromNative } = errors
const DEFAULT_USER = 'local'

async function call(promise) {
  try {
    return await promise
  } catch (e) {
    throw fromNative(e)
  }
}

function sync(fn) {
  try {
    return fn()
  } catch (e) {
    throw fromNative(e)
  }
}

function userOf(opts) {
  return (opts && opts.user) || DEFAULT_USER
}

/** A running execution: iterate its events, stop it, await its outcome. */
class RunHandle {
  constructor(run, signal) {
    this._run = run
    this._result = null
    /** @type {string} */
    this.executionId = run.executionId
    if (signal) {
      if (signal.aborted) run.stop()
      else {
        const onAbort = () => run.stop()
        signal.addEventListener('abort', onAbort, { once: true })
        this.result().finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {})
      }
    }
  }

  /** Events in order, ending after the run's terminal event. Read them once. */
  async *events() {
    for (;;) {
      const e = await call(this._run.nextEvent())
      if (e === null) return
      yield e
    }
  }

  [Symbol.asyncIterator]() {
    return this.events()
  }

  /** Stop the run: in-flight calls are aborted, finished work is kept. */
  stop() {
    this._run.stop()
  }

  /** The run's outcome (`completed`, `paused`, `stopped`, `failed`). */
  result() {
    if (!this._result) this._result = call(this._run.wait())
    return this._result
  }

  /**
   * Deliver every event to `onEvent` (if given), then resolve to the outcome.
   * If `onEvent` throws, the run is stopped and `done` rejects with that error.
   * With `check`, a run that did not complete rejects with a `RunError`.
   */
  async done(onEvent, { check = false } = {}) {
    let failure = null
    if (onEvent) {
      for await (const e of this.events()) {
        if (failure) continue
        try {
          await onEvent(e)
        } catch (err) {
          failure = err
          this.stop()
        }
      }
    }
    const outcome = await this.result()
    if (failure) throw failure
    if (check && outcome.status !== 'completed') throw new errors.RunError(outcome)
    return outcome
  }
}

function dispatcherFor(nodes) {
  const running = new Map() // call_id → AbortController
  return async (json) => {
    let call
    try {
      call = JSON.parse(json)
      if (call.cancel !== undefined) {
        // The engine gave up on this call (run stopped, node timed out).
        const controller = running.get(call.cancel)
        running.delete(call.cancel)
        if (controller) controller.abort(new Error('the run no longer needs this node (stopped or timed out)'))
        return '{}'
      }
      const controller = new AbortController()
      running.set(call.call_id, controller)
      const fn = nodes[call.node.kind]
      const output = await fn({ ...call.node, signal: controller.signal })
      return JSON.stringify({ ok: true, output: output === undefined ? null : output })
    } catch (e) {
      const message = e && e.message ? e.message : String(e)
      return JSON.stringify({ ok: false, message, retryable: Boolean(e && e.retryable) })
    } finally {
      if (call && call.call_id !== undefined) running.delete(call.call_id)
    }
  }
}

/** JS-only call options (everything else is the run's settings). */
function split(opts) {
  const { signal, onEvent, check, ...settings } = opts || {}
  return { signal, onEvent, check: check === undefined ? true : Boolean(check), settings }
}

/** Lekhika's host API: the same methods as the Rust crate and the Python package. */
class Lekhika {
  constructor(inner) {
    this._n = inner
  }

  /**
   * Open Lekhika: `store`, `providers`, `providers_file`, `providers_from_env`,
   * `catalog`, `max_concurrency`, `lease`, and custom node kinds
   * `nodes: {kind: async (ctx) => output}`.
   */
  static async open(options = {}) {
    const { nodes = {}, ...rest } = options
    for (const [kind, fn] of Object.entries(nodes)) {
      if (typeof fn !== 'function') {
        throw new errors.ArgumentError(`custom node kind \`${kind}\` must be a function`, { code: 'invalid_argument' })
      }
    }
    const kinds = Object.keys(nodes)
    const inner = await call(native.open(rest, kinds, kinds.length ? dispatcherFor(nodes) : undefined))
    return new Lekhika(inner)
  }

  /** Create or upgrade the PostgreSQL schema with an owner/admin URL; resolves to the migrations applied. */
  static migrate(adminUrl) { return call(native.migrate(adminUrl)) }
  /** Typeset a manuscript file (Markdown with front matter, or a book's JSON) without a store. */
  static exportManuscript(path, formats, options) { return call(native.exportManuscript(String(path), formats, options)) }
  /** `exportManuscript`, then write the files (atomically) into `dir`; resolves to their paths. */
  static writeManuscript(path, dir, formats, options) { return call(native.writeManuscript(String(path), String(dir), formats, options)) }

  nodeKinds() { return this._n.nodeKinds() }
  validate(flow, options) { return sync(() => this._n.validate(flow, options)) }
  checkFlow(flow, options) { return sync(() => this._n.checkFlow(flow, options)) }
  estimate(flow, input, options) { return sync(() => this._n.estimate(flow, input, options)) }

  /** Start a run; resolves once it is recorded, with a handle. */
  async start(flow, input, opts) {
    const { signal, settings } = split(opts)
    return new RunHandle(await call(this._n.start(flow, input, settings)), signal)
  }

  /**
   * Run to the end and resolve to the outcome. With `check` (the default) a
   * run that did not complete rejects with a `RunError` carrying its outcome.
   */
  async run(flow, input, opts) {
    const { check, onEvent } = split(opts)
    return (await this.start(flow, input, opts)).done(onEvent, { check })
  }

  /** Queue a run for workers sharing the store; resolves to its id. */
  submit(flow, input, opts) { return call(this._n.submit(flow, input, split(opts).settings)) }

  /** Claim the next queued (or abandoned) run as `worker` and run it; `null` when idle. */
  async claim(worker, opts = {}) {
    const run = await call(this._n.claim(worker, opts.lease === undefined ? 15 : opts.lease))
    return run ? new RunHandle(run, opts.signal) : null
  }

  async resume(executionId, opts = {}) {
    return new RunHandle(await call(this._n.resume(userOf(opts), executionId)), opts.signal)
  }

  async regenerate(executionId, node, opts = {}) {
    return new RunHandle(await call(this._n.regenerate(userOf(opts), executionId, node, opts.instruction)), opts.signal)
  }

  async approve(executionId, node, opts = {}) {
    return new RunHandle(await call(this._n.approve(userOf(opts), executionId, node, opts.edited)), opts.signal)
  }

  async reject(executionId, node, instruction, opts = {}) {
    return new RunHandle(await call(this._n.reject(userOf(opts), executionId, node, instruction)), opts.signal)
  }

  /** Ask a run to stop, wherever it runs (this process or another sharing the store). */
  stop(executionId, opts = {}) { return call(this._n.stop(userOf(opts), executionId)) }
  report(executionId, opts = {}) { return call(this._n.report(userOf(opts), executionId)) }
  settings(executionId, opts = {}) { return call(this._n.settings(userOf(opts), executionId)) }
  listExecutions(opts = {}) { return call(this._n.listExecutions(userOf(opts), opts.status)) }
  runners() { return call(this._n.runners()) }
  reuseStats(opts = {}) { return call(this._n.reuseStats(userOf(opts))) }
  clearReuse(opts = {}) { return call(this._n.clearReuse(userOf(opts))) }
  compiledBook(executionId, opts = {}) { return call(this._n.compiledBook(userOf(opts), executionId)) }
  exportBook(executionId, formats, opts = {}) { return call(this._n.exportBook(userOf(opts), executionId, formats, opts.options)) }
  writeBook(executionId, dir, formats, opts = {}) { return call(this._n.writeBook(userOf(opts), executionId, dir, formats, opts.options)) }
  listBooks(opts = {}) { return call(this._n.listBooks(userOf(opts))) }

  wallet(user) { return call(this._n.wallet(user)) }
  grant(user, amount, key, note) { return call(this._n.grant(user, amount, key, note)) }
  setTier(user, level) { return call(this._n.setTier(user, level === undefined ? null : level)) }
  ledger(user, executionId) { return call(this._n.ledger(user, executionId)) }
  tierPolicy(level) { return call(this._n.tierPolicy(level)) }
  putTierPolicy(policy) { return call(this._n.putTierPolicy(policy)) }
}

/** Every method of the host API, in camelCase (what `Lekhika` has). */
function apiMethods() {
  return native.apiMethods().map((m) => m.replace(/_([a-z])/g, (_, c) => c.toUpperCase()))
}

module.exports = { Lekhika, RunHandle, apiMethods, ...errors, fromNative: undefined }
delete module.exports.fromNative

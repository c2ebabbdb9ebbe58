// Runs this worker is driving: the concurrency cap and who owns which
// execution. Executions carry the frontend's own id (the engine takes it
// as the execution id), so nothing here needs to survive a restart.

import { HttpError } from './http.js'

export class Executions {
  constructor(lekhika, { maxConcurrent, logs }) {
    this.lk = lekhika
    this.maxConcurrent = maxConcurrent
    this.logs = logs
    this.active = new Map() // executionId → RunHandle
    this.owners = new Map() // executionId → { user, executionId }
  }

  get activeCount() {
    return this.active.size
  }

  /** Fail with 429 when the worker is full. */
  reserveSlot() {
    if (this.active.size >= this.maxConcurrent) {
      throw new HttpError(429, 'at_capacity', `the worker is running ${this.maxConcurrent} executions; try again later`)
    }
  }

  /** The owner of execution `id` when this process started it, else the given user. */
  resolve(id, user) {
    const known = this.owners.get(id)
    if (known) return known
    if (typeof user === 'string' && user) return { user, executionId: id }
    throw new HttpError(404, 'not_found', `execution ${id} not found`)
  }

  /** Track a started run until it ends. */
  track(handle, user) {
    const id = handle.executionId
    this.active.set(id, handle)
    this.owners.set(id, { user, executionId: id })
    this.logs.info('execution started', { executionId: id, userId: user })
    handle
      .done((e) => {
        if (e.type === 'node_finished' || e.type === 'node_failed' || e.type === 'node_retrying') {
          this.logs.info(e.type, { executionId: id, node: e.node, item: e.item })
        }
      })
      .then((o) => this.logs.info('execution ended', { executionId: id, status: o.status, reason: o.reason }))
      .catch((err) => this.logs.error('execution errored', { executionId: id, code: err.code }))
      .finally(() => this.active.delete(id))
  }

  async stop(id, user) {
    const { user: owner, executionId } = this.resolve(id, user)
    await this.lk.stop(executionId, { user: owner })
    const local = this.active.get(executionId)
    if (local) local.stop()
    this.logs.info('stop requested', { executionId })
    return executionId
  }

  stopAll() {
    for (const h of this.active.values()) h.stop()
  }

  /** Resolve once every tracked run has ended (or `ms` passed). */
  async drain(ms = 10000) {
    const all = [...this.active.values()].map((h) => h.result().catch(() => {}))
    await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, ms).unref())])
  }
}

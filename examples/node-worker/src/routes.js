// The seed's worker API on top of the lekhika package.

import { HttpError } from './http.js'

const VERSION = '0.1.0'

function str(v, name, { required = false } = {}) {
  if (v === undefined || v === null || v === '') {
    if (required) throw new HttpError(400, 'invalid_body', `\`${name}\` is required`)
    return undefined
  }
  if (typeof v !== 'string') throw new HttpError(400, 'invalid_body', `\`${name}\` must be a string`)
  return v
}

function obj(v, name, { required = false } = {}) {
  if (v === undefined || v === null) {
    if (required) throw new HttpError(400, 'invalid_body', `\`${name}\` is required`)
    return undefined
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'invalid_body', `\`${name}\` must be an object`)
  return v
}

/** The seed's `workflow` is a React Flow document `{nodes, edges}`. */
function workflowOf(body) {
  const wf = obj(body.workflow, 'workflow') ?? (Array.isArray(body.nodes) ? { nodes: body.nodes, edges: body.edges ?? [] } : undefined)
  if (!wf) throw new HttpError(400, 'invalid_body', '`workflow` is required')
  if (!Array.isArray(wf.nodes)) throw new HttpError(400, 'invalid_body', '`workflow.nodes` must be an array')
  return wf
}

function runOptions(body) {
  const o = obj(body.options, 'options') ?? {}
  const out = {}
  if (o.provider !== undefined) out.provider = str(o.provider, 'options.provider')
  if (o.model !== undefined) out.model = str(o.model, 'options.model')
  if (o.maxConcurrency !== undefined) {
    if (!Number.isInteger(o.maxConcurrency) || o.maxConcurrency < 1) {
      throw new HttpError(400, 'invalid_body', '`options.maxConcurrency` must be a positive integer')
    }
    out.max_concurrency = o.maxConcurrency
  }
  if (o.reuse !== undefined) {
    if (typeof o.reuse !== 'boolean') throw new HttpError(400, 'invalid_body', '`options.reuse` must be a boolean')
    out.reuse = o.reuse
  }
  out.engine_id = str(body.userEngineId, 'userEngineId')
  // The frontend's own id becomes the execution's id: it survives worker
  // restarts and works on every worker sharing the store.
  const clientId = str(body.executionId, 'executionId')
  if (clientId) out.execution_id = clientId
  out.host = { masterEngineId: str(body.masterEngineId, 'masterEngineId') ?? null }
  return out
}

export function routes({ lk, executions, logs, config, startedAt }) {
  const uptime = () => Math.round((Date.now() - startedAt) / 1000)

  return {
    async execute(body) {
      const userId = str(body.userId, 'userId', { required: true })
      const workflow = workflowOf(body)
      const inputs = obj(body.inputs, 'inputs') ?? {}
      const options = runOptions(body)
      executions.reserveSlot()
      const handle = await lk.start(workflow, inputs, { ...options, user: userId })
      executions.track(handle, userId)
      return [202, { success: true, executionId: handle.executionId, result: { status: 'running' } }]
    },

    async executionStatus(id, user) {
      const { user: owner, executionId } = executions.resolve(id, user)
      const r = await lk.report(executionId, { user: owner })
      const progress = r.nodes_total ? Math.round((100 * r.nodes_done) / r.nodes_total) : 0
      return [200, {
        success: true, executionId, status: r.status, message: r.message, reason: r.reason,
        active: executions.active.has(executionId),
        progress: { nodesDone: r.nodes_done, nodesTotal: r.nodes_total, percent: progress },
        usage: { inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens },
        cost: r.cost, nodes: r.nodes.map((n) => ({ node: n.node, item: n.item, durationMs: n.duration_ms, attempts: n.attempts })),
      }]
    },

    async stop(id, user) {
      const executionId = await executions.stop(id, user)
      return [200, { success: true, message: 'stop requested; finished work is kept', executionId }]
    },

    async resume(body) {
      const id = str(body.executionId, 'executionId', { required: true })
      const { user, executionId } = executions.resolve(id, str(body.userId, 'userId'))
      executions.reserveSlot()
      const handle = await lk.resume(executionId, { user })
      executions.track(handle, user)
      return [202, { success: true, executionId, result: { status: 'running' } }]
    },

    async regenerate(body) {
      const id = str(body.executionId, 'executionId', { required: true })
      const node = str(body.failedNode ?? body.nodeId, 'failedNode', { required: true })
      const prompt = str(body.regeneratePrompt, 'regeneratePrompt')
      const validation = str(body.validationError, 'validationError')
      const instruction = prompt ?? (validation ? `The previous output was rejected: ${validation}. Fix it.` : undefined)
      const { user, executionId } = executions.resolve(id, str(body.userId, 'userId'))
      executions.reserveSlot()
      const handle = await lk.regenerate(executionId, node, { user, instruction })
      executions.track(handle, user)
      const r = await lk.report(executionId, { user })
      return [202, { success: true, executionId, attempt: r.epoch, node }]
    },

    health() {
      return [200, { status: 'healthy', timestamp: new Date().toISOString(), workerId: config.workerId, uptime: uptime(), memory: process.memoryUsage(), version: VERSION }]
    },

    workerStatus() {
      const active = executions.activeCount
      const memory = process.memoryUsage()
      return [200, {
        success: true, status: active >= config.maxConcurrent ? 'busy' : 'ready',
        activeExecutions: active, maxConcurrent: config.maxConcurrent, capacity: config.maxConcurrent - active,
        uptime: uptime(), memory, memoryUsage: memory,
      }]
    },

    logs(limitRaw) {
      let limit = 50
      if (limitRaw !== null) {
        limit = Number(limitRaw)
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          throw new HttpError(400, 'invalid_query', '`limit` must be an integer from 1 to 1000')
        }
      }
      const lines = logs.recent(limit)
      return [200, { success: true, logs: lines, count: lines.length, timestamp: new Date().toISOString() }]
    },
  }
}

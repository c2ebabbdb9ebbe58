// Start the worker in-process on a loopback port, against a loopback provider.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { createWorker, openLekhika } from '../src/app.js'
import { configFromEnv } from '../src/config.js'

export { startOpenAI } from '../../../bindings/node/test/support/openai-server.mjs'
export { bookFlow } from '../../../bindings/node/test/support/flows.mjs'

export const KEY = 'worker-key-1'

export async function startWorker(provider, env = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lekhika-worker-'))
  process.env.OPENAI_API_KEY = 'test'
  process.env.OPENAI_BASE_URL = provider.url
  const config = configFromEnv({
    PORT: '0', HOST: '127.0.0.1', LEKHIKA_API_KEYS: `other-key, ${KEY}`,
    LEKHIKA_STORE: path.join(dir, 'worker.db'), LEKHIKA_CORS_ORIGINS: 'https://app.example', ...env,
  }, dir)
  const lk = await openLekhika(config)
  const worker = createWorker(config, lk, { quiet: true })
  await new Promise((r) => worker.server.listen(0, '127.0.0.1', r))
  const base = `http://127.0.0.1:${worker.server.address().port}`
  return {
    ...worker,
    base,
    async close() {
      worker.executions.stopAll()
      await worker.executions.drain()
      worker.server.closeAllConnections()
      await new Promise((r) => worker.server.close(r))
    },
  }
}

/** fetch with the API key unless `key: null`; returns `{status, body, headers}`. */
export async function call(w, method, p, { body, key = KEY, headers = {}, raw } = {}) {
  const h = { ...headers }
  if (key) h.authorization = `Bearer ${key}`
  if (body !== undefined || raw !== undefined) h['content-type'] = 'application/json'
  const res = await fetch(w.base + p, { method, headers: h, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers, text }
}

export async function waitFor(fn, { timeout = 20000, every = 50 } = {}) {
  const end = Date.now() + timeout
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, every))
  }
}

export async function waitStatus(w, id, wanted) {
  return waitFor(async () => {
    const r = await call(w, 'GET', `/status/${id}`)
    return r.status === 200 && wanted.includes(r.body.status) && !r.body.active ? r.body : null
  })
}

let seq = 0

/** An /execute body with a fresh client execution id (ids are unique per store). */
export function executeBody(flow, extra = {}) {
  seq += 1
  return { executionId: `client-${process.pid}-${seq}`, userId: 'user-1', userEngineId: 'eng-1', masterEngineId: 'master-1', workflow: flow, inputs: { title: 'Worker Book' }, options: {}, ...extra }
}

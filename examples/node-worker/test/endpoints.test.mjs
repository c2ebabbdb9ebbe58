import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { KEY, bookFlow, call, executeBody, startOpenAI, startWorker, waitFor, waitStatus } from './helpers.mjs'

let provider, w
before(async () => {
  provider = await startOpenAI({ delayMs: 0 })
  w = await startWorker(provider)
})
after(async () => { await w.close(); await provider.close() })

test('GET /health needs no key', async () => {
  const r = await call(w, 'GET', '/health', { key: null })
  assert.equal(r.status, 200)
  assert.equal(r.body.status, 'healthy')
  for (const k of ['timestamp', 'workerId', 'uptime', 'memory', 'version']) assert.ok(k in r.body, k)
})

test('every other route refuses a missing or wrong key', async () => {
  for (const [m, p] of [['GET', '/status'], ['GET', '/status/x'], ['GET', '/logs'], ['POST', '/stop/x'], ['POST', '/resume'], ['POST', '/regenerate'], ['POST', '/execute'], ['GET', '/nope']]) {
    const none = await call(w, m, p, { key: null, body: m === 'POST' ? {} : undefined })
    assert.equal(none.status, 401, `${m} ${p} without key`)
    assert.equal(none.body.error.code, 'unauthorized')
    const wrong = await call(w, m, p, { key: 'wrong', body: m === 'POST' ? {} : undefined })
    assert.equal(wrong.status, 401, `${m} ${p} with a wrong key`)
  }
  const x = await call(w, 'GET', '/status', { key: null, headers: { 'x-api-key': KEY } })
  assert.equal(x.status, 200)
  const other = await call(w, 'GET', '/status', { key: 'other-key' })
  assert.equal(other.status, 200)
  const badBodyKey = await call(w, 'POST', '/execute', { key: null, body: executeBody(bookFlow(), { lekhikaApiKey: 'nope' }) })
  assert.equal(badBodyKey.status, 401)
  assert.ok(!badBodyKey.text.includes(KEY))
})

test('POST /execute with lekhikaApiKey in the body runs the book under the client\'s execution id', async () => {
  const before = provider.requests.length
  const r = await call(w, 'POST', '/execute', { key: null, body: executeBody(bookFlow({ chapters: 2 }), { lekhikaApiKey: KEY, executionId: 'client-exec-7' }) })
  assert.equal(r.status, 202)
  assert.equal(r.body.success, true)
  const id = r.body.executionId
  assert.equal(id, 'client-exec-7', 'the frontend id is the execution id')
  const done = await waitStatus(w, id, ['completed'])
  assert.equal(done.progress.nodesDone, done.progress.nodesTotal)
  assert.equal(done.progress.percent, 100)
  assert.equal(done.usage.inputTokens, 3 * 20)
  assert.equal(provider.requests.length - before, 3)
  // Known to the store, not just this process: a status with the user works
  // for any worker, and the id cannot be taken twice.
  w.executions.owners.clear()
  const byStore = await call(w, 'GET', '/status/client-exec-7?userId=user-1')
  assert.equal(byStore.status, 200)
  assert.equal(byStore.body.status, 'completed')
  const again = await call(w, 'POST', '/execute', { body: executeBody(bookFlow({ chapters: 2 }), { executionId: 'client-exec-7' }) })
  assert.equal(again.status, 409)
  assert.match(again.body.error.message, /already in use/)
  const bad = await call(w, 'POST', '/execute', { body: executeBody(bookFlow({ chapters: 2 }), { executionId: 'no spaces/or slashes' }) })
  assert.equal(bad.status, 400)
  assert.match(bad.body.error.message, /execution id/)
  const logs = await call(w, 'GET', '/logs?limit=500')
  assert.ok(logs.body.logs.some((l) => l.executionId === id && l.message === 'execution ended' && l.status === 'completed'))
})

test('malformed and oversized bodies are refused without stack traces', async () => {
  const cases = [
    [{ raw: '{"workflow": ' }, 400, 'invalid_json'],
    [{ raw: '[1,2]' }, 400, 'invalid_body'],
    [{ body: { userId: 'u' } }, 400, 'invalid_body'],
    [{ body: executeBody(bookFlow(), { userId: 5 }) }, 400, 'invalid_body'],
    [{ body: executeBody(bookFlow(), { inputs: 'x' }) }, 400, 'invalid_body'],
    [{ body: executeBody({ nodes: [{ id: 'a', type: 'nope' }], edges: [] }) }, 400, 'invalid_flow'],
    [{ body: executeBody(bookFlow(), { inputs: {} }) }, 400, 'invalid_input'],
    [{ body: executeBody(bookFlow(), { options: { maxConcurrency: -1 } }) }, 400, 'invalid_body'],
    [{ raw: JSON.stringify({ pad: 'x'.repeat(3 * 1024 * 1024) }) }, 413, 'body_too_large'],
  ]
  for (const [opts, status, code] of cases) {
    const r = await call(w, 'POST', '/execute', opts)
    assert.equal(r.status, status, `${code}: ${r.text.slice(0, 200)}`)
    assert.equal(r.body.success, false)
    assert.equal(r.body.error.code, code)
    assert.ok(!/\n\s+at /.test(r.text) && !r.text.includes('stack'), 'no stack trace')
    assert.ok(!r.text.includes(KEY), 'no secrets')
  }
  const flowErr = await call(w, 'POST', '/execute', { body: executeBody({ nodes: [{ id: 'a', type: 'nope' }], edges: [] }) })
  assert.ok(flowErr.body.error.problems.some((p) => p.id === 'a'))
  assert.equal((await call(w, 'GET', '/status/does-not-exist')).status, 404)
  assert.equal((await call(w, 'POST', '/resume', { body: {} })).status, 400)
  assert.equal((await call(w, 'POST', '/regenerate', { body: { executionId: 'nope' } })).status, 400)
  assert.equal((await call(w, 'GET', '/logs?limit=abc')).status, 400)
  assert.equal((await call(w, 'GET', '/nope')).status, 404)
})

test('GET /status and /logs report the worker', async () => {
  const s = await call(w, 'GET', '/status')
  assert.equal(s.status, 200)
  assert.equal(s.body.maxConcurrent, 5)
  assert.equal(s.body.activeExecutions + s.body.capacity, 5)
  assert.ok(s.body.memory.rss > 0 && s.body.uptime >= 0)
  const l = await call(w, 'GET', '/logs?limit=2')
  assert.equal(l.body.success, true)
  assert.ok(l.body.count <= 2 && l.body.logs.length === l.body.count)
})

test('CORS: allowed origins get headers, others are refused', async () => {
  const pre = await fetch(`${w.base}/execute`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } })
  assert.equal(pre.status, 204)
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example')
  assert.match(pre.headers.get('access-control-allow-headers'), /authorization/)
  const ok = await call(w, 'GET', '/status', { headers: { origin: 'https://app.example' } })
  assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example')
  const bad = await call(w, 'GET', '/status', { headers: { origin: 'https://evil.example' } })
  assert.equal(bad.status, 403)
  assert.equal(bad.headers.get('access-control-allow-origin'), null)
})

test('POST /regenerate re-runs a node with the prompt', async () => {
  const r = await call(w, 'POST', '/execute', { body: executeBody(bookFlow({ chapters: 2 }), { executionId: 'regen-client' }) })
  await waitStatus(w, r.body.executionId, ['completed'])
  const before = provider.requests.length
  const g = await call(w, 'POST', '/regenerate', { body: { executionId: 'regen-client', failedNode: 'write', validationError: 'too short', regeneratePrompt: 'Longer, please' } })
  assert.equal(g.status, 202)
  assert.equal(g.body.executionId, r.body.executionId)
  assert.ok(g.body.attempt >= 1)
  await waitStatus(w, r.body.executionId, ['completed'])
  const reqs = provider.requests.slice(before)
  assert.equal(reqs.length, 2)
  assert.ok(reqs.every((q) => JSON.stringify(q.messages).includes('Longer, please')))
  const bad = await call(w, 'POST', '/regenerate', { body: { executionId: 'regen-client', failedNode: 'ghost' } })
  assert.equal(bad.status, 400)
  assert.equal(bad.body.error.code, 'unknown_node')
})

test('options.reuse serves a second identical book from the first at no request', async () => {
  const flow = bookFlow({ chapters: 2 })
  const body = (extra) => executeBody(flow, { userId: 'reuser', inputs: { title: 'Reused Book' }, ...extra })
  const before = provider.requests.length
  const first = await call(w, 'POST', '/execute', { body: body({ options: { reuse: true } }) })
  assert.equal(first.status, 202)
  await waitStatus(w, first.body.executionId, ['completed'])
  assert.equal(provider.requests.length - before, 3)
  const second = await call(w, 'POST', '/execute', { body: body({ options: { reuse: true } }) })
  const done = await waitStatus(w, second.body.executionId, ['completed'])
  assert.equal(provider.requests.length - before, 3, 'nothing asked the second time')
  assert.equal(done.usage.inputTokens, 0)
  const bad = await call(w, 'POST', '/execute', { body: body({ options: { reuse: 'yes' } }) })
  assert.equal(bad.status, 400)
  assert.match(bad.body.error.message, /options.reuse/)
})

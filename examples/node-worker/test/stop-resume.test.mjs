import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { bookFlow, call, executeBody, startOpenAI, startWorker, waitFor, waitStatus } from './helpers.mjs'

let provider, w
before(async () => {
  provider = await startOpenAI({ delayMs: 300 })
  w = await startWorker(provider, { MAX_CONCURRENT: '1' })
})
after(async () => { await w.close(); await provider.close() })

test('stop and resume through the API; the concurrency cap answers 429', async () => {
  const r = await call(w, 'POST', '/execute', { body: executeBody(bookFlow({ chapters: 4, concurrency: 1 }), { executionId: 'slow-1' }) })
  assert.equal(r.status, 202)
  const id = r.body.executionId

  const busy = await call(w, 'GET', '/status')
  assert.equal(busy.body.activeExecutions, 1)
  assert.equal(busy.body.capacity, 0)
  assert.equal(busy.body.status, 'busy')
  const second = await call(w, 'POST', '/execute', { body: executeBody(bookFlow()) })
  assert.equal(second.status, 429)
  assert.equal(second.body.error.code, 'at_capacity')

  // Wait until the outline and one chapter are checkpointed, then stop.
  await waitFor(async () => (await call(w, 'GET', `/status/${id}`)).body.nodes.some((n) => n.node === 'write' && n.item !== undefined))
  const stop = await call(w, 'POST', '/stop/slow-1')
  assert.equal(stop.status, 200)
  assert.equal(stop.body.success, true)
  assert.equal(stop.body.executionId, id)
  const stopped = await waitStatus(w, id, ['stopped'])
  assert.ok(stopped.progress.nodesDone < stopped.progress.nodesTotal)
  const callsAtStop = provider.requests.length
  assert.ok(callsAtStop < 5)

  provider.setDelay(0)
  const res = await call(w, 'POST', '/resume', { body: { executionId: id, nodes: [], edges: [], workflow: {} } })
  assert.equal(res.status, 202)
  assert.equal(res.body.executionId, id)
  const done = await waitStatus(w, id, ['completed'])
  assert.equal(done.progress.percent, 100)
  const outlines = provider.requests.filter((q) => q.messages.some((m) => m.content.startsWith('OUTLINE')))
  assert.equal(outlines.length, 1, 'finished work is not paid for twice')
  const chapters = new Set(provider.requests.map((q) => q.messages.at(-1).content).filter((c) => c.startsWith('WRITE')))
  assert.equal(chapters.size, 4)

  const again = await call(w, 'POST', '/resume', { body: { executionId: id } })
  assert.equal(again.status, 409)
  assert.equal(again.body.error.code, 'already_completed')
  const unknownStop = await call(w, 'POST', '/stop/unknown-id')
  assert.equal(unknownStop.status, 404)
})

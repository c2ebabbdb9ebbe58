import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { bookFlow } from './support/flows.mjs'
import { startOpenAI } from './support/openai-server.mjs'
import { collect, lekhika, openOn } from './support/setup.mjs'

let server
before(async () => { server = await startOpenAI() })
after(() => server.close())

test('run streams tokens through a callback and completes the book', async () => {
  const { lk } = await openOn(server)
  const before = server.requests.length
  const events = []
  const outcome = await lk.run(bookFlow({ chapters: 3 }), { title: 'Night' }, { onEvent: (e) => events.push(e) })
  assert.equal(outcome.status, 'completed')
  assert.equal(outcome.usage.input_tokens, 4 * 20)
  assert.equal(outcome.usage.output_tokens, 4 * 30)
  const reqs = server.requests.slice(before)
  assert.equal(reqs.length, 4)
  assert.ok(reqs.every((r) => r.stream === true && r.model === 'gpt-test'))
  const types = events.map((e) => e.type)
  assert.equal(types[0], 'run_started')
  assert.equal(types.at(-1), 'run_finished')
  assert.ok(types.includes('token_delta'))
  const text = events.filter((e) => e.type === 'token_delta' && e.node === 'outline').map((e) => e.text).join('')
  assert.deepEqual(JSON.parse(text).chapters.length, 3)
  assert.equal(events.filter((e) => e.type === 'node_finished' && e.node === 'write' && e.item !== undefined).length, 3)
  assert.ok(events.every((e) => e.execution_id === outcome.execution_id && typeof e.at_ms === 'number'))
  const book = await lk.compiledBook(outcome.execution_id)
  assert.equal(book.title, 'Night')
  assert.match(JSON.stringify(book), /Text for WRITE chapter 2: Part 2 of Night/)
})

test('non-streaming calls and the async iterator of a started run', async () => {
  const { lk } = await openOn(server)
  const before = server.requests.length
  const handle = await lk.start(bookFlow({ chapters: 2, stream: false }), { title: 'Day' })
  assert.match(handle.executionId, /\S/)
  const { events, outcome } = await collect(handle)
  assert.equal(outcome.status, 'completed')
  assert.ok(server.requests.slice(before).every((r) => r.stream !== true))
  assert.ok(!events.some((e) => e.type === 'token_delta'))
  assert.equal(events.at(-1).type, 'run_finished')
  const report = await lk.report(outcome.execution_id)
  assert.equal(report.status, 'completed')
  assert.equal(report.nodes_done, report.nodes_total)
  assert.equal(report.providers.openai.calls, 3)
  const list = await lk.listExecutions()
  assert.ok(list.some((x) => x.id === outcome.execution_id && x.status === 'completed'))
})

test('an AbortSignal stops the run, resume finishes it without repeating finished calls', async () => {
  const slow = await startOpenAI({ delayMs: 400 })
  try {
    const { lk } = await openOn(slow)
    const ac = new AbortController()
    const handle = await lk.start(bookFlow({ chapters: 4, concurrency: 1 }), { title: 'Slow' }, { signal: ac.signal })
    const seen = []
    for await (const e of handle) {
      seen.push(e)
      if (e.type === 'node_finished' && e.node === 'outline') ac.abort()
    }
    const stopped = await handle.result()
    assert.equal(stopped.status, 'stopped')
    assert.equal(seen.at(-1).type, 'run_stopped')
    const calls = slow.requests.length
    assert.ok(calls < 5, `stopped before all calls (${calls})`)
    slow.setDelay(0)
    const resumed = await (await lk.resume(stopped.execution_id)).done()
    assert.equal(resumed.status, 'completed')
    const outlines = slow.requests.filter((r) => r.messages.some((m) => m.content.startsWith('OUTLINE')))
    assert.equal(outlines.length, 1, 'the outline is reused from the checkpoint')
    await assert.rejects(lk.resume(stopped.execution_id), (e) => e instanceof lekhika.StateError && e.code === 'already_completed')
  } finally {
    await slow.close()
  }
})

test('stop by execution id, from the store', async () => {
  const slow = await startOpenAI({ delayMs: 300 })
  try {
    const { lk } = await openOn(slow)
    const handle = await lk.start(bookFlow({ chapters: 3, concurrency: 1 }), { title: 'Halt' })
    await lk.stop(handle.executionId)
    const out = await handle.result()
    assert.equal(out.status, 'stopped')
    assert.equal((await lk.report(handle.executionId)).status, 'stopped')
    await assert.rejects(lk.stop('missing-id'), (e) => e.code === 'not_found')
  } finally {
    await slow.close()
  }
})

test('regenerate with an instruction', async () => {
  const { lk } = await openOn(server)
  const done = await lk.run(bookFlow({ chapters: 2 }), { title: 'Again' })
  assert.equal(done.status, 'completed')
  const before = server.requests.length
  const regen = await (await lk.regenerate(done.execution_id, 'write', { instruction: 'Make it rhyme' })).done()
  assert.equal(regen.status, 'completed')
  const reqs = server.requests.slice(before)
  assert.equal(reqs.length, 2, 'only the map items run again')
  assert.ok(reqs.every((r) => JSON.stringify(r.messages).includes('Make it rhyme')))
  await assert.rejects(lk.regenerate(done.execution_id, 'nope'), (e) => e instanceof lekhika.NotFoundError && e.code === 'unknown_node')
  await assert.rejects(lk.approve(done.execution_id, 'write'), (e) => e instanceof lekhika.StateError)
})

test('an onEvent callback that throws stops the run and rejects', async () => {
  const slow = await startOpenAI({ delayMs: 100 })
  try {
    const { lk } = await openOn(slow)
    await assert.rejects(
      lk.run(bookFlow({ chapters: 3, concurrency: 1 }), { title: 'X' }, { onEvent: (e) => { if (e.type === 'node_finished') throw new Error('host broke') } }),
      /host broke/,
    )
  } finally {
    await slow.close()
  }
})

test('reuse serves a second identical run without asking; clearReuse forgets', async () => {
  const { lk } = await openOn(server)
  const before = server.requests.length
  await lk.run(bookFlow({ chapters: 2 }), { title: 'Again' }, { reuse: true })
  const asked = server.requests.length - before
  assert.equal(asked, 3)
  const second = await lk.run(bookFlow({ chapters: 2 }), { title: 'Again' }, { reuse: true })
  assert.equal(server.requests.length - before, asked, 'nothing asked the second time')
  const report = await lk.report(second.execution_id)
  assert.equal(report.reused_calls, 3)
  assert.equal(report.requests, 0)
  assert.equal((await lk.settings(second.execution_id)).reuse, true)
  const stats = await lk.reuseStats()
  assert.equal(stats.replies, 3)
  assert.equal(stats.reused, 3)
  assert.equal((await lk.reuseStats({ user: 'bo' })).replies, 0)
  assert.equal(await lk.clearReuse(), 3)
  await lk.run(bookFlow({ chapters: 2 }), { title: 'Again' }, { reuse: true })
  assert.equal(server.requests.length - before, asked + 3, 'asked again after clearReuse')
})

import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { bookFlow, catalogJson } from './support/flows.mjs'
import { startOpenAI } from './support/openai-server.mjs'
import { lekhika, openOn, tempDir } from './support/setup.mjs'

const { Lekhika } = lekhika
let server
before(async () => { server = await startOpenAI() })
after(() => server.close())

test('flows load from an object, JSON text and a file path', async () => {
  const { lk, dir } = await openOn(server)
  const flow = bookFlow()
  const info = lk.validate(flow)
  assert.deepEqual(info.nodes.map((n) => [n.id, n.kind]), [['brief', 'input'], ['outline', 'text'], ['write', 'map'], ['book', 'compile']])
  assert.deepEqual(info.inputs.map((f) => f.name), ['title', 'chapters'])
  assert.deepEqual(lk.validate(JSON.stringify(flow)).nodes.length, 4)
  const file = path.join(dir, 'flow.json')
  fs.writeFileSync(file, JSON.stringify(flow))
  assert.deepEqual(lk.validate(file).nodes.length, 4)
  assert.ok(lk.nodeKinds().includes('export'))
})

test('errors are LekhikaError subclasses with codes', async () => {
  const { lk } = await openOn(server)
  const bad = bookFlow()
  bad.edges.push({ id: 'loop', source: 'book', target: 'brief' })
  bad.nodes.push({ id: 'x', type: 'nope', data: {} })
  assert.throws(() => lk.validate(bad), (e) => {
    assert.ok(e instanceof lekhika.FlowError && e instanceof lekhika.LekhikaError && e instanceof Error)
    assert.equal(e.code, 'invalid_flow')
    assert.ok(e.problems.some((p) => p.id === 'x'))
    assert.equal(e.retryable, false)
    return true
  })
  assert.throws(() => lk.validate('/no/such/flow.json'), (e) => e instanceof lekhika.ArgumentError && e.code === 'invalid_argument')
  assert.throws(() => lk.validate('{not json'), (e) => e instanceof lekhika.FlowError && e.code === 'invalid_flow')
  await assert.rejects(lk.run(bookFlow(), { chapters: 2 }), (e) => e instanceof lekhika.InputError && e.code === 'invalid_input' && e.problems.length > 0)
  await assert.rejects(lk.report('no-such-id'), (e) => e instanceof lekhika.NotFoundError && e.code === 'not_found')
  const bare = await Lekhika.open({ store: 'sqlite::memory:' })
  await assert.rejects(bare.run(bookFlow(), { title: 'T' }), (e) => e instanceof lekhika.ConfigError && /openai/i.test(e.message))
  await assert.rejects(Lekhika.open({ store: 'sqlite::memory:', catalog: '{' }), (e) => e.code === 'config')
  await assert.rejects(Lekhika.open({ store: 'sqlite::memory:', stor: 'x' }), (e) => e instanceof lekhika.ArgumentError && /unknown field `stor`/.test(e.message))
  assert.throws(() => lk.estimate(bookFlow(), { title: 'T' }, { providr: 'x' }), (e) => e.code === 'invalid_argument' && /providr/.test(e.message))
  await assert.rejects(Lekhika.open({ nodes: { bad: 3 } }), (e) => e instanceof lekhika.ArgumentError)
})

test('estimate prices a run from the catalog without calling the provider', async () => {
  const { lk } = await openOn(server, { catalog: catalogJson })
  const before = server.requests.length
  const est = lk.estimate(bookFlow({ chapters: 3 }), { title: 'E' })
  assert.equal(server.requests.length, before)
  assert.ok(est.expected.cost > 0 && est.worst.cost >= est.expected.cost)
  assert.deepEqual(est.missing_prices, [])
  const write = est.nodes.find((n) => n.node === 'write')
  assert.ok(write.expected.calls >= 3, 'at least one call per chapter')
  assert.equal(write.provider, 'openai')
})

test('wallets: grants, pause on empty wallet, resume after a grant, ledger, tiers', async () => {
  const { lk } = await openOn(server, { catalog: catalogJson })
  const w0 = await lk.grant('ann', 200, 'welcome', 'first grant')
  assert.equal(w0.balance, 200)
  assert.equal((await lk.grant('ann', 200, 'welcome')).balance, 200, 'same key grants once')
  await assert.rejects(lk.run(bookFlow({ chapters: 2 }), { title: 'W' }, { user: 'ann' }), (e) =>
    e instanceof lekhika.RunError && e.code === 'insufficient_tokens' && e.outcome.status === 'paused')
  const paused = await lk.run(bookFlow({ chapters: 2 }), { title: 'W' }, { user: 'ann', check: false })
  assert.equal(paused.status, 'paused')
  assert.equal(paused.reason, 'insufficient_tokens')
  await lk.grant('ann', 100000, 'topup')
  const done = await (await lk.resume(paused.execution_id, { user: 'ann' })).done()
  assert.equal(done.status, 'completed')
  const w = await lk.wallet('ann')
  assert.equal(w.total_earned - w.total_spent, w.balance + w.reserved)
  assert.equal(w.reserved, 0)
  assert.equal(w.total_spent, done.cost)
  const ledger = await lk.ledger('ann', done.execution_id)
  assert.ok(ledger.some((e) => e.kind === 'settle'))
  assert.equal(await lk.wallet('nobody'), null)
  await assert.rejects(lk.grant('ann', -5, 'neg'), (e) => e.code === 'invalid_argument')
  await lk.putTierPolicy({ level: 'starter', monthly_allocation: 500, per_execution_limit: 50, features: { allowed_models: ['openai/other'] } })
  const p = await lk.tierPolicy('starter')
  assert.equal(p.monthly_allocation, 500)
  assert.deepEqual(p.features.allowed_models, ['openai/other'])
  assert.equal((await lk.setTier('bob', 'starter')).level, 'starter')
  await assert.rejects(lk.run(bookFlow(), { title: 'T' }, { user: 'bob' }), (e) => e instanceof lekhika.TierDeniedError && e.code === 'tier_denied' && e.level === 'starter')
})

test('custom node kinds are JS async functions', async () => {
  const calls = []
  const { lk } = await openOn(server, {
    nodes: {
      chapters: async (ctx) => {
        calls.push(ctx)
        await new Promise((r) => setTimeout(r, 10))
        return [`One about ${ctx.input.title}`, `Two (${ctx.config.tone})`]
      },
      broken: async () => { const e = new Error('js node failed'); e.retryable = false; throw e },
    },
  })
  const flow = {
    nodes: [
      { id: 'brief', type: 'input', data: { fields: [{ name: 'title', type: 'string', required: true }] } },
      { id: 'gen', type: 'chapters', data: { tone: 'warm' } },
      { id: 'book', type: 'compile', data: { title: '{{input.title}}', chapters: '{{nodes.gen.output}}' } },
    ],
    edges: [{ id: 'a', source: 'brief', target: 'gen' }, { id: 'b', source: 'gen', target: 'book' }],
  }
  const out = await lk.run(flow, { title: 'Custom' })
  assert.equal(out.status, 'completed')
  assert.equal(calls.length, 1)
  assert.equal(calls[0].node_id, 'gen')
  assert.equal(calls[0].kind, 'chapters')
  assert.deepEqual(calls[0].upstream.brief, { title: 'Custom' })
  assert.match(JSON.stringify(await lk.compiledBook(out.execution_id)), /One about Custom.*Two \(warm\)/)
  flow.nodes[1].type = 'broken'
  const failed = await lk.run(flow, { title: 'Custom' }, { check: false })
  assert.equal(failed.status, 'failed')
  assert.match(failed.message, /js node failed/)
})

test('custom JS nodes see an AbortSignal that fires on stop and on timeout', async () => {
  const aborted = []
  const { lk } = await openOn(server, {
    nodes: {
      // Waits until told to stop, like a slow call to another service.
      slow: (ctx) => new Promise((resolve, reject) => {
        assert.ok(ctx.signal instanceof AbortSignal && !ctx.signal.aborted)
        ctx.signal.addEventListener('abort', () => {
          aborted.push(ctx.node_id)
          reject(ctx.signal.reason)
        })
      }),
    },
  })
  const flow = (data) => ({ nodes: [{ id: 'wait', type: 'slow', data }], edges: [] })
  const handle = await lk.start(flow({}), {})
  await new Promise((r) => setTimeout(r, 100))
  handle.stop()
  const stopped = await handle.result()
  assert.equal(stopped.status, 'stopped')
  for (let i = 0; i < 50 && aborted.length < 1; i++) await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(aborted, ['wait'])
  // A node timeout aborts the call too (one attempt, no retries).
  const timedOut = await lk.run(flow({ timeout_ms: 80, retry: { attempts: 1 } }), {}, { check: false })
  assert.equal(timedOut.status, 'failed')
  assert.match(timedOut.message, /timed out|timeout/i)
  for (let i = 0; i < 50 && aborted.length < 2; i++) await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(aborted, ['wait', 'wait'])
})

test('models can be chosen per node', async () => {
  const { lk } = await openOn(server)
  const before = server.requests.length
  const out = await lk.run(bookFlow({ chapters: 2 }), { title: 'Per node' }, { model: 'gpt-everyone', models: { outline: { model: 'gpt-planner' } } })
  assert.equal(out.status, 'completed')
  const used = server.requests.slice(before).map((r) => [r.messages.at(-1).content.split(' ')[0], r.model]).sort()
  assert.deepEqual(used, [['OUTLINE', 'gpt-planner'], ['WRITE', 'gpt-everyone'], ['WRITE', 'gpt-everyone']])
  assert.throws(() => lk.validate(bookFlow(), { models: { ghost: { model: 'x' } } }), (e) => e.code === 'invalid_flow' && /node `ghost`/.test(e.message))
})

test('exports to Buffers and to files', async () => {
  const { lk } = await openOn(server)
  const out = await lk.run(bookFlow({ chapters: 2 }), { title: 'Exported' })
  const files = await lk.exportBook(out.execution_id, ['md', 'html'])
  assert.deepEqual(files.map((f) => f.mime.split(';')[0]).sort(), ['text/html', 'text/markdown'])
  const md = files.find((f) => f.name.endsWith('.md'))
  assert.ok(Buffer.isBuffer(md.bytes))
  assert.match(md.bytes.toString('utf8'), /Exported/)
  const dir = tempDir()
  const paths = await lk.writeBook(out.execution_id, dir, ['epub'])
  assert.equal(paths.length, 1)
  assert.equal(fs.readFileSync(paths[0]).subarray(0, 2).toString(), 'PK')
  await assert.rejects(lk.exportBook(out.execution_id, ['rtf']), (e) => e instanceof lekhika.LekhikaError && e.code === 'export_failed')
  // Export options: printed labels (and page size), checked before rendering.
  const [de] = await lk.exportBook(out.execution_id, ['md'], { options: { labels: { contents: 'Inhalt', chapter: 'Teil {n}' } } })
  const text = de.bytes.toString('utf8')
  assert.match(text, /## Inhalt/)
  assert.match(text, /Teil 2/)
  assert.doesNotMatch(text, /Chapter 2/)
  await assert.rejects(lk.exportBook(out.execution_id, ['pdf'], { options: { trim: 'letter' } }), (e) => e.code === 'config' && /unknown trim `letter`/.test(e.message))
})

test('a SQLite store keeps executions across opens', async () => {
  const { lk, dir } = await openOn(server)
  const out = await lk.run(bookFlow({ chapters: 1 }), { title: 'Kept' }, { user: 'kim' })
  const again = await Lekhika.open({ store: path.join(dir, 'lekhika.db') })
  assert.equal((await again.report(out.execution_id, { user: 'kim' })).status, 'completed')
  await assert.rejects(again.report(out.execution_id, { user: 'other' }), (e) => e.code === 'not_found')
})

test('a PostgreSQL store by URL', { skip: !process.env.LEKHIKA_TEST_PG_APP_URL && 'LEKHIKA_TEST_PG_APP_URL not set' }, async () => {
  const { lk } = await openOn(server, { store: process.env.LEKHIKA_TEST_PG_APP_URL })
  const out = await lk.run(bookFlow({ chapters: 1 }), { title: 'Pg' }, { user: `pg-${process.pid}` })
  assert.equal(out.status, 'completed')
  assert.equal((await lk.report(out.execution_id, { user: `pg-${process.pid}` })).status, 'completed')
})

test('a manuscript exports without a store', async () => {
  const dir = tempDir()
  const md = path.join(dir, 'harbour.md')
  fs.writeFileSync(md, '---\ntitle: "The Quiet Harbour"\nlang: en\n---\n\n# Chapter 1: Night\n\nIt was late. "Where were you?"\n\n# Chapter 2: Morning\n\nMorning came.\n')
  const files = await Lekhika.exportManuscript(md, ['html', 'md'])
  assert.deepEqual(files.map((f) => f.name).sort(), ['the-quiet-harbour.html', 'the-quiet-harbour.md'])
  const html = files.find((f) => f.name.endsWith('.html')).bytes.toString('utf8')
  assert.ok(html.includes('Chapter 2') && html.includes('\u201cWhere were you?\u201d'))
  const written = await Lekhika.writeManuscript(md, path.join(dir, 'out'))
  assert.equal(written.length, 5)
  assert.ok(fs.readFileSync(path.join(dir, 'out', 'the-quiet-harbour.pdf')).subarray(0, 4).toString() === '%PDF')
  await assert.rejects(Lekhika.exportManuscript(path.join(dir, 'missing.md'), ['md']), (e) => e.code === 'config' && /missing\.md/.test(e.message))
})

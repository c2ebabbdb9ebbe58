import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { startOpenAI } from './support/openai-server.mjs'
import { collect, openOn } from './support/setup.mjs'

let server
before(async () => { server = await startOpenAI() })
after(() => server.close())

function gatedFlow() {
  return {
    nodes: [
      { id: 'brief', type: 'input', data: { fields: [{ name: 'title', type: 'string', required: true }] } },
      { id: 'outline', type: 'text', data: { provider: 'openai', model: 'gpt-test', max_tokens: 400, output: 'json', stream: false,
        prompt: 'OUTLINE {{input.title}} in 2 chapters' } },
      { id: 'gate', type: 'approval', data: { prompt: 'Check the outline' } },
      { id: 'write', type: 'map', data: { items: '{{nodes.gate.output.chapters}}',
        node: { kind: 'text', provider: 'openai', model: 'gpt-test', max_tokens: 200, prompt: 'WRITE {{item.title}}' } } },
      { id: 'book', type: 'compile', data: { title: '{{input.title}}', chapters: '{{nodes.write.output}}' } },
    ],
    edges: [
      { id: 'a', source: 'brief', target: 'outline' }, { id: 'b', source: 'outline', target: 'gate' },
      { id: 'c', source: 'gate', target: 'write' }, { id: 'd', source: 'write', target: 'book' },
    ],
  }
}

test('approval gates pause; reject regenerates, approve with an edit continues', async () => {
  const { lk } = await openOn(server)
  const first = await collect(await lk.start(gatedFlow(), { title: 'Gate' }))
  assert.equal(first.outcome.status, 'paused')
  assert.equal(first.outcome.reason, 'awaiting_approval')
  const paused = first.events.at(-1)
  assert.equal(paused.type, 'run_paused')
  assert.equal(paused.node, 'gate')
  assert.equal(paused.review.chapters.length, 2)
  const id = first.outcome.execution_id

  const before = server.requests.length
  const rejected = await (await lk.reject(id, 'gate', 'More drama')).done()
  assert.equal(rejected.status, 'paused')
  const redo = server.requests.slice(before)
  assert.equal(redo.length, 1)
  assert.match(JSON.stringify(redo[0].messages), /More drama/)

  const edited = { logline: 'Edited', chapters: [{ title: 'Only chapter' }] }
  const approved = await (await lk.approve(id, 'gate', { edited })).done()
  assert.equal(approved.status, 'completed')
  const writes = server.requests.filter((r) => r.messages.some((m) => m.content.startsWith('WRITE')))
  assert.deepEqual(writes.map((r) => r.messages.at(-1).content), ['WRITE Only chapter'])
})

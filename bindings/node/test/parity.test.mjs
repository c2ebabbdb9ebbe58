// The package is Lekhika's host API, translated: the same methods as the Rust
// facade (and the Python package), declarations in index.d.ts that match the
// class, and interfaces that match the data the package returns.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { after, before, test } from 'node:test'

import { bookFlow, catalogJson } from './support/flows.mjs'
import { startOpenAI } from './support/openai-server.mjs'
import { lekhika, openOn, tempDir } from './support/setup.mjs'

const require = createRequire(import.meta.url)
const ts = require('typescript')
const here = path.dirname(fileURLToPath(import.meta.url))
const dts = ts.createSourceFile('index.d.ts', fs.readFileSync(path.join(here, '..', 'index.d.ts'), 'utf8'), ts.ScriptTarget.Latest, true)

let server
before(async () => { server = await startOpenAI() })
after(() => server.close())

const { Lekhika } = lekhika

function runtimeMethods() {
  const proto = Object.getOwnPropertyNames(Lekhika.prototype).filter((n) => n !== 'constructor' && !n.startsWith('_'))
  const statics = Object.getOwnPropertyNames(Lekhika).filter((n) => typeof Lekhika[n] === 'function')
  return new Set([...proto, ...statics])
}

test('methods are exactly the host API', () => {
  const api = new Set(lekhika.apiMethods())
  assert.ok(api.has('start') && api.has('listExecutions'))
  const have = runtimeMethods()
  assert.deepEqual([...have].filter((m) => !api.has(m)), [], 'methods the host API does not have')
  assert.deepEqual([...api].filter((m) => !have.has(m)), [], 'host API methods missing here')
})

/** Declarations by name: classes (their methods) and interfaces (their keys). */
function declarations() {
  const classes = {}
  const interfaces = {}
  for (const s of dts.statements) {
    if (ts.isClassDeclaration(s) && s.name) {
      classes[s.name.text] = s.members.filter((m) => ts.isMethodDeclaration(m)).map((m) => ({
        name: m.name.getText(dts),
        params: m.parameters.map((p) => p.name.getText(dts)),
      }))
    }
    if (ts.isInterfaceDeclaration(s)) {
      const required = new Set()
      const optional = new Set()
      for (const m of s.members) {
        if (!ts.isPropertySignature(m)) continue
        ;(m.questionToken ? optional : required).add(m.name.getText(dts))
      }
      interfaces[s.name.text] = { required, optional }
    }
  }
  return { classes, interfaces }
}

test('index.d.ts declares exactly the methods the class has, with their parameter counts', () => {
  const { classes } = declarations()
  const declared = classes.Lekhika
  assert.deepEqual(new Set(declared.map((m) => m.name)), runtimeMethods())
  for (const m of declared) {
    const fn = Lekhika.prototype[m.name] || Lekhika[m.name]
    assert.ok(fn.length <= m.params.length, `${m.name}: runtime takes ${fn.length}, declared ${m.params.length}`)
  }
})

function conforms(name, value) {
  const { interfaces } = declarations()
  const i = interfaces[name]
  assert.ok(i, `no interface ${name}`)
  assert.ok(value && typeof value === 'object', `${name}: ${value}`)
  const keys = new Set(Object.keys(value))
  for (const k of i.required) assert.ok(keys.has(k), `${name} lacks ${k}: ${JSON.stringify(value)}`)
  for (const k of keys) assert.ok(i.required.has(k) || i.optional.has(k), `${name} has undeclared ${k}`)
}

test('interfaces match the data', async () => {
  const { lk } = await openOn(server, { catalog: catalogJson })
  const info = lk.validate(bookFlow())
  conforms('FlowInfo', info)
  conforms('FlowNodeInfo', info.nodes[0])
  conforms('InputField', info.inputs[0])
  const est = lk.estimate(bookFlow(), { title: 'T' })
  conforms('Estimate', est)
  conforms('NodeEstimate', est.nodes[0])
  conforms('NodeFigures', est.nodes[0].expected)
  conforms('Figures', est.worst)
  await lk.putTierPolicy({ level: 'pro', monthly_allocation: 0, per_execution_limit: null, features: { allowed_models: null } })
  conforms('TierPolicy', await lk.tierPolicy('pro'))
  conforms('Wallet', await lk.grant('ana', 100000, 'g'))
  const events = []
  const out = await lk.run(bookFlow({ chapters: 2 }), { title: 'Rivers' }, { user: 'ana', onEvent: (e) => events.push(e) })
  conforms('RunOutcome', out)
  conforms('Usage', out.usage)
  const report = await lk.report(out.execution_id, { user: 'ana' })
  conforms('ExecutionReport', report)
  for (const n of report.nodes) { conforms('NodeReport', n); conforms('Usage', n.usage) }
  for (const p of Object.values(report.providers)) conforms('ProviderTotals', p)
  for (const e of await lk.ledger('ana', out.execution_id)) conforms('LedgerEntry', e)
  const [summary] = await lk.listExecutions({ user: 'ana' })
  conforms('ExecutionSummary', summary)
  conforms('RunSettings', await lk.settings(out.execution_id, { user: 'ana' }))
  await lk.writeBook(out.execution_id, tempDir(), ['md'], { user: 'ana' })
  const [book] = await lk.listBooks({ user: 'ana' })
  conforms('BookRecord', book)
  const [file] = await lk.exportBook(out.execution_id, ['md'], { user: 'ana' })
  conforms('ExportedFile', file)
  assert.ok(events.every((e) => typeof e.execution_id === 'string' && typeof e.at_ms === 'number'))
  // While a run holds its lease, the fleet view lists it.
  server.setDelay(500)
  try {
    const handle = await lk.start(bookFlow({ chapters: 1 }), { title: 'Slow' }, { user: 'ana' })
    const held = (await lk.runners()).filter((r) => r.execution_id === handle.executionId)
    assert.equal(held.length, 1, JSON.stringify(held))
    conforms('RunnerLease', held[0])
    await handle.result()
  } finally {
    server.setDelay(0)
  }
})

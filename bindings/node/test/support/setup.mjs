// Shared helpers: a fresh SQLite store per test, Lekhika on the loopback provider.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
export const lekhika = require('../../index.js')

export function tempDir(prefix = 'lekhika-node-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

export async function openOn(server, extra = {}) {
  const dir = tempDir()
  const lk = await lekhika.Lekhika.open({
    store: path.join(dir, 'lekhika.db'),
    providers: [{ name: 'openai', api_key: 'test', base_url: server.url }],
    ...extra,
  })
  return { lk, dir }
}

export async function collect(handle) {
  const events = []
  for await (const e of handle) events.push(e)
  return { events, outcome: await handle.result() }
}

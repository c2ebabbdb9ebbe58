// `npm start` (node src/server.js) listens on PORT and shuts down cleanly on SIGTERM.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')

test('the server starts from the environment and stops on SIGTERM', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lekhika-start-'))
  const child = spawn(process.execPath, ['src/server.js'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LEKHIKA_API_KEYS: 'k1', LEKHIKA_STORE: path.join(dir, 'w.db'), OPENAI_API_KEY: 'secret-value' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { out += d })
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 15000)
    child.stdout.on('data', () => {
      const m = /"message":"worker listening","port":(\d+)/.exec(out)
      if (m) { clearTimeout(t); resolve(Number(m[1])) }
    })
  })
  const health = await fetch(`http://127.0.0.1:${port}/health`)
  assert.equal(health.status, 200)
  const status = await fetch(`http://127.0.0.1:${port}/status`, { headers: { 'x-api-key': 'k1' } })
  assert.equal((await status.json()).maxConcurrent, 5)
  child.kill('SIGTERM')
  const code = await new Promise((r) => child.on('exit', r))
  assert.equal(code, 0)
  assert.ok(!out.includes('secret-value'), 'provider keys never reach the logs')
  assert.ok(fs.existsSync(path.join(dir, 'w.db')))
})

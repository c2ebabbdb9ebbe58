// The README's example runs as written, against the loopback provider.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { startOpenAI } from './support/openai-server.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

test('README example', async () => {
  const readme = fs.readFileSync(path.join(here, '..', 'README.md'), 'utf8')
  const code = /```js\n([\s\S]*?)```/.exec(readme)[1]
  // Inside the package directory, so `require('lekhika')` resolves to this package.
  const dir = fs.mkdtempSync(path.join(here, '.readme-'))
  const file = path.join(dir, 'example.cjs')
  fs.writeFileSync(file, code)
  const server = await startOpenAI()
  try {
    const env = { ...process.env, OPENAI_API_KEY: 'test', OPENAI_BASE_URL: server.url }
    const { stdout } = await promisify(execFile)(process.execPath, [file], { env })
    assert.match(stdout, /finished write 0/)
    assert.match(stdout, /completed/)
    assert.match(stdout, /The Long Road/)
    assert.equal(server.requests.length, 3)
  } finally {
    await server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

// Build the native addon with plain `cargo build` and generate native.d.ts
// with @napi-rs/cli's type generator.
//
// Why not `napi build`: it always passes `--target <triple>`, which puts
// every crate under target/<triple>/ with its own hashes, so nothing the
// workspace's `cargo test` already compiled in target/debug is reused (a
// second ~40 minute cold build on 2 cores). Plain `cargo build` in the dev
// profile with the workspace's Cargo.lock shares those artifacts.
//
//   node scripts/build.mjs            debug build (default)
//   node scripts/build.mjs --release  optimised build
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTypeDef } from '@napi-rs/cli'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const release = process.argv.includes('--release')
const typeDefDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lekhika-napi-typedef-'))
const binaryName = 'lekhika'

function platformSuffix() {
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch] ?? process.arch
  if (process.platform === 'linux') {
    const musl = !process.report?.getReport()?.header?.glibcVersionRuntime
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (process.platform === 'darwin') return `darwin-${arch}`
  if (process.platform === 'win32') return `win32-${arch}-msvc`
  return `${process.platform}-${arch}`
}

const args = ['build', '--message-format=json-render-diagnostics', ...(release ? ['--release'] : [])]
const env = {
  ...process.env,
  NAPI_TYPE_DEF_TMP_FOLDER: typeDefDir,
  // Re-runs build.rs and so re-expands the #[napi] macros, which write the type defs.
  NAPI_FORCE_BUILD_LEKHIKA_NODE: String(Date.now()),
}
const started = Date.now()
const cdylib = await new Promise((resolve, reject) => {
  const child = spawn('cargo', args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] })
  let found = null
  let buf = ''
  child.stdout.on('data', (d) => {
    buf += d
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      try {
        const m = JSON.parse(line)
        if (m.reason === 'compiler-artifact' && m.target?.name === 'lekhika_node' && m.target.kind.includes('cdylib')) {
          found = m.filenames.find((f) => /\.(so|dylib|dll)$/.test(f))
        }
      } catch { /* not JSON */ }
    }
  })
  child.on('exit', (code) => (code === 0 && found ? resolve(found) : reject(new Error(`cargo build failed (exit ${code})`))))
})

const nodeFile = path.join(root, `${binaryName}.${platformSuffix()}.node`)
fs.copyFileSync(cdylib, nodeFile)
const { dts } = await generateTypeDef({ typeDefDir, cwd: root, declareBindingTarget: false })
if (!dts.includes('export declare function open')) throw new Error(`no type definitions were generated in ${typeDefDir}`)
fs.writeFileSync(path.join(root, 'native.d.ts'), dts)
fs.rmSync(typeDefDir, { recursive: true, force: true })
console.log(`built ${path.basename(nodeFile)} and native.d.ts in ${((Date.now() - started) / 1000).toFixed(1)} s`)

'use strict'
// Loads the native addon built by scripts/build.mjs for this platform.
const { platform, arch } = process

function suffix() {
  if (platform === 'linux') {
    const musl = !(process.report && process.report.getReport().header.glibcVersionRuntime)
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

const file = `./lekhika.${suffix()}.node`
try {
  module.exports = require(file)
} catch (e) {
  throw new Error(`cannot load the lekhika native addon ${file}: ${e.message}. Build it with \`npm run build\` in bindings/node.`)
}

// API keys: `Authorization: Bearer KEY`, `x-api-key: KEY`, or (POST /execute) `lekhikaApiKey` in the body.
import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (s) => createHash('sha256').update(String(s)).digest()

export function keyFromHeaders(headers) {
  const auth = headers.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim())
    if (m) return m[1].trim()
  }
  const x = headers['x-api-key']
  return typeof x === 'string' && x.trim() ? x.trim() : null
}

/** Constant-time check of `key` against every configured key. */
export function isValidKey(key, keys) {
  if (typeof key !== 'string' || !key) return false
  const d = digest(key)
  let ok = false
  for (const k of keys) ok = timingSafeEqual(d, digest(k)) || ok
  return ok
}

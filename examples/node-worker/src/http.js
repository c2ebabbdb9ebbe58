// HTTP plumbing: JSON replies, bounded JSON bodies, CORS, error replies
// that never carry stack traces or secrets.

export class HttpError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export function sendJson(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export function sendError(res, status, code, message) {
  sendJson(res, status, { success: false, error: { code, message } })
}

/** Read a JSON object body of at most `limit` bytes. */
export function readJson(req, limit) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      req.resume()
      reject(new HttpError(413, 'body_too_large', `request body is larger than ${limit} bytes`))
      return
    }
    const chunks = []
    let size = 0
    let failed = false
    req.on('data', (c) => {
      if (failed) return
      size += c.length
      if (size > limit) {
        failed = true
        reject(new HttpError(413, 'body_too_large', `request body is larger than ${limit} bytes`))
        return
      }
      chunks.push(c)
    })
    req.on('error', () => { if (!failed) { failed = true; reject(new HttpError(400, 'bad_request', 'request body could not be read')) } })
    req.on('end', () => {
      if (failed) return
      const text = Buffer.concat(chunks).toString('utf8')
      if (!text.trim()) return resolve({})
      let body
      try {
        body = JSON.parse(text)
      } catch {
        return reject(new HttpError(400, 'invalid_json', 'request body is not valid JSON'))
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return reject(new HttpError(400, 'invalid_body', 'request body must be a JSON object'))
      }
      resolve(body)
    })
  })
}

/** CORS headers for allowed origins; returns false for a disallowed origin. */
export function applyCors(req, res, origins) {
  const origin = req.headers.origin
  if (!origin) return true
  const allowed = origins.includes('*') || origins.includes(origin)
  if (!allowed) return false
  res.setHeader('access-control-allow-origin', origins.includes('*') ? '*' : origin)
  res.setHeader('vary', 'Origin')
  res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS')
  res.setHeader('access-control-allow-headers', 'authorization, content-type, x-api-key, x-user-id')
  res.setHeader('access-control-max-age', '600')
  return true
}

const STATUS_BY_CODE = {
  invalid_argument: 400, invalid_flow: 400, invalid_input: 400, unknown_node: 400, config: 400, missing_prices: 400,
  tier_denied: 403, forbidden: 403, not_found: 404, invalid_state: 409, conflict: 409,
  already_completed: 409, busy: 409,
}

/** A reply for any thrown error: 4xx with the engine's message, 5xx with a generic one. */
export function errorReply(err) {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message }
  const status = err && STATUS_BY_CODE[err.code]
  if (status) {
    const reply = { status, code: err.code, message: err.message }
    if (Array.isArray(err.problems)) reply.problems = err.problems
    return reply
  }
  return { status: 500, code: 'internal', message: 'internal error; see the worker logs' }
}

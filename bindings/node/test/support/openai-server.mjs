// A loopback server speaking OpenAI Chat Completions (POST /v1/chat/completions),
// non-streaming JSON and streaming SSE (`data: {chunk}` lines, a usage chunk,
// `data: [DONE]`). Answers the test book flow: an outline for prompts that
// start with OUTLINE, chapter text otherwise.
import http from 'node:http'

export function bookAnswer(prompt) {
  if (prompt.startsWith('OUTLINE ')) {
    const m = / in (\d+) chapters/.exec(prompt)
    const n = m ? Number(m[1]) : 3
    const chapters = Array.from({ length: n }, (_, i) => ({ title: `Part ${i + 1}` }))
    return JSON.stringify({ logline: 'A test book', chapters })
  }
  return `Text for ${prompt}. It was a dark night, and the story went on.`
}

/**
 * Start the server. Options: `delayMs` before each answer (stop tests),
 * `answer(prompt, body)` to replace the book answers, `key` expected.
 * Returns `{ url, requests, close, setDelay }`; `url` ends in `/v1`.
 */
export async function startOpenAI({ delayMs = 0, answer = bookAnswer, key = 'test' } = {}) {
  const requests = []
  let delay = delayMs
  const server = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (c) => { body += c })
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }))
        return
      }
      if (req.headers.authorization !== `Bearer ${key}`) {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: { message: 'Incorrect API key', type: 'invalid_request_error', code: 'invalid_api_key' } }))
        return
      }
      const json = JSON.parse(body)
      requests.push(json)
      if (delay > 0) await new Promise((r) => setTimeout(r, delay))
      if (res.destroyed) return
      const prompt = json.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n')
      const text = answer(prompt, json)
      const usage = { prompt_tokens: 20, completion_tokens: 30, total_tokens: 50 }
      const base = { id: 'chatcmpl-test', object: 'chat.completion', created: 1, model: json.model }
      if (json.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
        const parts = text.match(/[\s\S]{1,16}/g) || ['']
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`)
        for (const p of parts) {
          res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: p }, finish_reason: null }] })}\n\n`)
        }
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`)
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`)
        res.end('data: [DONE]\n\n')
      } else {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ ...base, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage }))
      }
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    setDelay(ms) { delay = ms },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

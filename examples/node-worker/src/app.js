// The worker's HTTP server: routing, auth, CORS, body limits.

import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import lekhika from 'lekhika'

import { isValidKey, keyFromHeaders } from './auth.js'
import { Executions } from './executions.js'
import { HttpError, applyCors, errorReply, readJson, sendError, sendJson } from './http.js'
import { LogBuffer } from './logs.js'
import { routes } from './routes.js'

const { Lekhika } = lekhika

/** Open Lekhika from the config: store, providers from env vars (+ optional files). */
export async function openLekhika(config, extra = {}) {
  if (!config.store.includes('://') && !config.store.startsWith('sqlite:')) {
    fs.mkdirSync(path.dirname(path.resolve(config.store)), { recursive: true })
  }
  return Lekhika.open({
    store: config.store,
    providers_from_env: true,
    providers_file: config.providersFile,
    catalog: config.catalogFile,
    ...extra,
  })
}

/** Build the worker (not yet listening). */
export function createWorker(config, lk, { quiet = false } = {}) {
  const logs = new LogBuffer(config.logLimit, { quiet })
  const executions = new Executions(lk, { maxConcurrent: config.maxConcurrent, logs })
  const api = routes({ lk, executions, logs, config, startedAt: Date.now() })
  if (config.apiKeys.length === 0) logs.warn('LEKHIKA_API_KEYS is empty: every route but /health refuses requests')

  async function handle(req, res) {
    const url = new URL(req.url, 'http://worker')
    const parts = url.pathname.split('/').filter(Boolean)
    if (!applyCors(req, res, config.corsOrigins)) {
      throw new HttpError(403, 'origin_not_allowed', 'this origin is not allowed')
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204)
      res.end()
      return
    }
    if (req.method === 'GET' && url.pathname === '/health') return api.health()

    const headerKey = keyFromHeaders(req.headers)
    const authorized = isValidKey(headerKey, config.apiKeys)
    if (headerKey && !authorized) throw new HttpError(401, 'unauthorized', 'invalid API key')
    const requireKey = () => {
      if (!authorized) throw new HttpError(401, 'unauthorized', 'an API key is required (Authorization: Bearer KEY or x-api-key)')
    }
    const user = url.searchParams.get('userId') || req.headers['x-user-id'] || undefined

    const route = `${req.method} /${parts[0] ?? ''}`
    switch (route) {
      case 'POST /execute': {
        if (parts.length !== 1) break
        const body = await (authorized ? readJson(req, config.bodyLimit) : readJson(req, config.bodyLimit).catch(() => { requireKey() }))
        if (!authorized && !isValidKey(body.lekhikaApiKey, config.apiKeys)) {
          throw new HttpError(401, 'unauthorized', 'an API key is required (Authorization: Bearer KEY, x-api-key or lekhikaApiKey)')
        }
        return api.execute(body)
      }
      case 'GET /status':
        requireKey()
        if (parts.length === 1) return api.workerStatus()
        if (parts.length === 2) return api.executionStatus(decodeURIComponent(parts[1]), user)
        break
      case 'POST /stop':
        requireKey()
        if (parts.length === 2) {
          const body = await readJson(req, config.bodyLimit)
          return api.stop(decodeURIComponent(parts[1]), user ?? body.userId)
        }
        break
      case 'POST /resume':
        requireKey()
        if (parts.length === 1) return api.resume(await readJson(req, config.bodyLimit))
        break
      case 'POST /regenerate':
        requireKey()
        if (parts.length === 1) return api.regenerate(await readJson(req, config.bodyLimit))
        break
      case 'GET /logs':
        requireKey()
        if (parts.length === 1) return api.logs(url.searchParams.get('limit'))
        break
      default:
        break
    }
    requireKey()
    throw new HttpError(404, 'not_found', `no route ${req.method} ${url.pathname}`)
  }

  const server = http.createServer((req, res) => {
    handle(req, res)
      .then((reply) => { if (reply && !res.headersSent) sendJson(res, reply[0], reply[1]) })
      .catch((err) => {
        const r = errorReply(err)
        if (r.status >= 500) logs.error('request failed', { method: req.method, path: req.url.split('?')[0], error: String(err && err.message) })
        if (res.headersSent) return
        if (r.problems) sendJson(res, r.status, { success: false, error: { code: r.code, message: r.message, problems: r.problems } })
        else sendError(res, r.status, r.code, r.message)
      })
  })
  server.requestTimeout = 60_000

  return { server, logs, executions, lk }
}

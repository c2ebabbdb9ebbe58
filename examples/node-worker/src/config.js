// Worker settings from the environment.
import os from 'node:os'
import path from 'node:path'

function int(env, name, fallback, min) {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`)
  return n
}

function list(raw) {
  return (raw || '').split(',').map((s) => s.trim()).filter(Boolean)
}

export function configFromEnv(env = process.env, cwd = process.cwd()) {
  return {
    port: int(env, 'PORT', 3001, 0),
    host: env.HOST || '0.0.0.0',
    apiKeys: list(env.LEKHIKA_API_KEYS),
    corsOrigins: list(env.LEKHIKA_CORS_ORIGINS),
    maxConcurrent: int(env, 'MAX_CONCURRENT', 5, 1),
    bodyLimit: int(env, 'LEKHIKA_BODY_LIMIT', 2 * 1024 * 1024, 1024),
    store: env.LEKHIKA_STORE || path.join(cwd, 'data', 'lekhika.db'),
    providersFile: env.LEKHIKA_PROVIDERS_FILE || undefined,
    catalogFile: env.LEKHIKA_CATALOG_FILE || undefined,
    workerId: env.WORKER_ID || `${os.hostname()}-${process.pid}`,
    logLimit: int(env, 'LEKHIKA_LOG_BUFFER', 1000, 10),
  }
}

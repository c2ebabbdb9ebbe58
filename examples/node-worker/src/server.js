// `npm start`: the Lekhika worker on PORT (default 3001).
import { createWorker, openLekhika } from './app.js'
import { configFromEnv } from './config.js'

const config = configFromEnv()
const lk = await openLekhika(config)
const worker = createWorker(config, lk)

worker.server.listen(config.port, config.host, () => {
  const { port } = worker.server.address()
  worker.logs.info('worker listening', { port, workerId: config.workerId, maxConcurrent: config.maxConcurrent })
})

let closing = false
async function shutdown(signal) {
  if (closing) return
  closing = true
  worker.logs.info('shutting down; running executions stop at their last checkpoint', { signal })
  worker.server.close()
  worker.executions.stopAll()
  await worker.executions.drain()
  process.exit(0)
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))

// Type-checked (tsc --noEmit) against index.d.ts.
import {
  Lekhika, FlowError, LekhikaError, RunError, type LekhikaEvent, type RunOutcome, type Wallet,
  type ExportedFile, type Estimate, type ExecutionReport, type NodeCall, type ExecutionSummary,
} from '../../index'

async function main(): Promise<void> {
  const lk = await Lekhika.open({
    store: 'sqlite::memory:',
    providers: [{ name: 'openai', api_key: 'k', base_url: 'http://127.0.0.1:1/v1' }],
    nodes: { shout: async (call: NodeCall) => String(call.input.title).toUpperCase() },
  })
  const flow = { nodes: [{ id: 'a', type: 'input', data: {} }], edges: [] }
  const info = lk.validate(flow)
  const ids: string[] = info.nodes.map((n) => n.id)
  const est: Estimate = lk.estimate(flow, { title: 't' }, { provider: 'openai' })
  const cost: number = est.worst.cost
  const ac = new AbortController()
  const outcome: RunOutcome = await lk.run(flow, {}, {
    user: 'u', signal: ac.signal, provider: 'openai', max_concurrency: 2, check: false,
    onEvent: (e: LekhikaEvent) => {
      if (e.type === 'token_delta') { const t: string = e.text; void t }
      if (e.type === 'run_paused') { const r: string = e.reason; void r }
      if (e.type === 'call_retrying') { const d: number = e.delay_ms; void d }
    },
  })
  const status: string = outcome.status
  const handle = await lk.resume(outcome.execution_id, { user: 'u' })
  for await (const e of handle) { const at: number = e.at_ms; void at }
  const again: RunOutcome = await handle.result()
  const report: ExecutionReport = await lk.report(again.execution_id)
  const done: number = report.nodes_done
  const w: Wallet = await lk.grant('u', 100, 'k1')
  const runs: ExecutionSummary[] = await lk.listExecutions({ status: 'completed' })
  const files: ExportedFile[] = await lk.exportBook(outcome.execution_id, ['md'])
  const b: Buffer = files[0].bytes
  await lk.putTierPolicy({ level: 'pro', monthly_allocation: 10, per_execution_limit: null, features: {} })
  try { lk.validate('{}') } catch (e) {
    if (e instanceof FlowError) { const p: string = e.problems[0].message; void p }
    if (e instanceof RunError) { const o: RunOutcome = e.outcome; void o }
    if (e instanceof LekhikaError) { const c: string = e.code; void c }
  }
  void ids; void cost; void status; void done; void w; void b; void runs
}
void main

// Type-checked (tsc --noEmit) against index.d.ts and the generated native.d.ts.
import {
  Lekhika, FlowError, LekhikaError, type LekhikaEvent, type RunOutcome, type Wallet, type ExportedFile,
  type Estimate, type ExecutionReport, type NodeCall,
} from '../../index'

async function main(): Promise<void> {
  const lk = await Lekhika.open({
    store: 'sqlite::memory:',
    providers: [{ name: 'openai', apiKey: 'k', baseUrl: 'http://127.0.0.1:1/v1' }],
    nodes: { shout: async (call: NodeCall) => String(call.input.title).toUpperCase() },
  })
  const flow = { nodes: [{ id: 'a', type: 'input', data: {} }], edges: [] }
  const info = lk.validateFlow(flow)
  const ids: string[] = info.nodes.map((n) => n.id)
  const est: Estimate = lk.estimate(flow, { title: 't' })
  const cost: number = est.cost
  const ac = new AbortController()
  const outcome: RunOutcome = await lk.run(flow, {}, {
    user: 'u', signal: ac.signal, provider: 'openai',
    onEvent: (e: LekhikaEvent) => {
      if (e.type === 'token_delta') { const t: string = e.text; void t }
      if (e.type === 'run_paused') { const r: string = e.reason; void r }
    },
  })
  const status: string = outcome.status
  const handle = await lk.resume(outcome.executionId, { user: 'u' })
  for await (const e of handle) { const at: number = e.atMs; void at }
  const again: RunOutcome = await handle.result()
  const report: ExecutionReport = await lk.report(again.executionId)
  const done: number = report.nodesDone
  const w: Wallet = await lk.grant('u', 100, 'k1')
  const files: ExportedFile[] = await lk.exportBook(outcome.executionId, ['md'])
  const b: Buffer = files[0].bytes
  await lk.putTierPolicy({ level: 'pro', monthlyAllocation: 10 })
  try { lk.validateFlow('{}') } catch (e) {
    if (e instanceof FlowError) { const p: string = e.problems[0].message; void p }
    if (e instanceof LekhikaError) { const c: string = e.code; void c }
  }
  void ids; void cost; void status; void done; void w; void b
}
void main

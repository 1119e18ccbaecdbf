// The load generator, in a process of its own: `node dist/load.js '<LoadConfig as JSON>'` runs
// autocannon against one URL (a warm-up first, thrown away) and prints one JSON line, a LoadResult.
import autocannon from 'autocannon'
import type { Client } from 'autocannon'
import type { LoadConfig, LoadResult } from './scenarios.js'

/** Runs one autocannon load as configured; the warm-up run is not part of the result. */
async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const bodies = config.bodies ?? []
  let next = 0
  const options = {
    url: config.url,
    connections: config.connections,
    method: config.method ?? 'GET',
    headers: config.headers ?? {},
    timeout: 10,
    // Each connection keeps one body (a login client keeps its own account).
    ...(bodies.length > 0 ? { setupClient: (client: Client) => client.setBody(bodies[next++ % bodies.length]!) } : {}),
  }
  const warmup = (config.warmupSeconds ?? 0) > 0 ? await autocannon({ ...options, duration: config.warmupSeconds }) : undefined
  const warmupTotal = warmup === undefined ? 0 : Object.values(warmup.statusCodeStats).reduce((n, { count }) => n + count, 0)
  const result = await autocannon({ ...options, duration: config.seconds })
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]))
  const expected = statuses[String(config.expectStatus ?? 200)] ?? 0
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0)
  return {
    requestsPerSecond: expected / result.duration,
    total: answered,
    warmupTotal,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    unexpected: answered - expected + result.errors + result.timeouts,
    statuses,
  }
}

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig
runLoad(config).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`load generator failed: ${String(error)}\n`)
    process.exit(1)
  },
)

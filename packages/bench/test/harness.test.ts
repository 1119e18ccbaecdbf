// The benchmark harness, run for about a second so that it cannot rot. `npm test` never runs the
// benchmark itself (`npm run bench` does); here the servers and the load generator run from the
// sources through tsx, so no build is needed.
import { describe, expect, it } from 'vitest'
import { checkTargets, formatReport, runBench } from '../src/index.js'

describe('the benchmark harness', () => {
  it('measures a warm Gatehouse session (Protected, casbinGuard) against bare Hono over real HTTP, in separate processes, and reports it', async () => {
    const report = await runBench({
      sections: ['throughput'],
      rows: ['warm', 'casbin', '403'],
      seconds: 0.3,
      warmupSeconds: 0.1,
      rounds: 1,
      connections: 2,
      nodeArgs: ['--import', 'tsx', '--conditions=gatehouse-source'],
    })
    expect(report.throughput.map((r) => r.id)).toEqual(['warm', 'casbin', '403'])
    for (const row of report.throughput) {
      expect(row.skipped).toBeUndefined()
      expect(row.unexpected).toBe(0) // every answer had the expected status (200, 200, 403)
      expect(row.rps[0]).toBeGreaterThan(0)
      expect(row.bareRPS[0]).toBeGreaterThan(0)
      expect(row.ratio).toBeCloseTo(row.rps[0]! / row.bareRPS[0]!)
    }
    // The casbinGuard check in process, run with the casbin row.
    expect(report.policyCheck?.guardedMicros.length).toBe(3)
    expect(report.policyCheck?.enforceMicros).toBeGreaterThan(0)
    const table = formatReport(report)
    expect(table).toContain('| Gatehouse warm session, Protected([User]) |')
    expect(table).toContain('| Gatehouse warm session, casbinGuard (RBAC, p, User, /casbin, GET) |')
    expect(table).toContain('| casbinGuard policy check in process')
    expect(table).toContain('| warm session ≥ 0.90× bare |')
    expect(checkTargets(report).find((c) => c.target.startsWith('bearer'))?.holds).toBeNull() // not run here
  }, 120_000)
})

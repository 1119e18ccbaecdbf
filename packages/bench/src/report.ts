// The benchmark's table (Markdown, so the README can take it as it is) and its targets.
import type { BenchReport, RatioRow } from './bench.js'

/** One target of the performance issue, checked against a report. */
export interface TargetCheck {
  readonly target: string
  readonly measured: string
  /** null: not measured in this run. */
  readonly holds: boolean | null
}

const x = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–')
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : n.toFixed(0)) : '–')
const range = (xs: readonly number[]) => (xs.length === 0 ? '' : `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`)
const kilo = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(1)} k` : n.toFixed(0))

/** Checks every target the report has figures for. */
export function checkTargets(report: BenchReport): TargetCheck[] {
  const row = (id: string): RatioRow | undefined => {
    const r = report.throughput.find((t) => t.id === id)
    return r === undefined || r.skipped !== undefined ? undefined : r
  }
  const checks: TargetCheck[] = []
  const atLeast = (target: string, r: RatioRow | undefined, min: number) => checks.push({ target, measured: r === undefined ? 'not run' : x(r.ratio), holds: r === undefined ? null : r.ratio >= min })
  atLeast('warm session ≥ 0.90× bare', row('warm'), 0.9)
  atLeast('403 ≥ 0.85× bare', row('403'), 0.85)
  atLeast('401 ≥ 0.85× bare', row('401'), 0.85)
  atLeast('anonymous pass-through ≥ 0.95× bare', row('anonymous'), 0.95)
  atLeast('anonymous pass-through, public route ≥ 0.95× bare', row('public'), 0.95)
  // The same rows against what Hono's middleware model costs by itself (the floor rows): the part
  // of the gap that is Gatehouse's own.
  const overFloor = (target: string, r: RatioRow | undefined, floor: RatioRow | undefined, min: number) => {
    if (r === undefined || floor === undefined) return
    const ratio = r.ratio / floor.ratio
    checks.push({ target, measured: `${x(ratio)} (${x(r.ratio)} ÷ ${x(floor.ratio)})`, holds: ratio >= min })
  }
  overFloor('warm session ≥ 0.90× the Hono floor (async middleware + Cache-Control, Vary)', row('warm'), row('hono-floor'), 0.9)
  overFloor('403 ≥ 0.85× the Hono floor', row('403'), row('hono-floor'), 0.85)
  overFloor('401 ≥ 0.85× the Hono floor', row('401'), row('hono-floor'), 0.85)
  // Protected({ optional: true }) marks even an anonymous answer no-store: a header, like the floor's.
  overFloor('anonymous pass-through ≥ 0.95× the Hono floor', row('anonymous'), row('hono-floor'), 0.95)
  overFloor('anonymous pass-through, public route ≥ 0.95× one async Hono middleware', row('public'), row('hono-middleware'), 0.95)
  const off = row('cache-off')
  const iron = row('iron')
  checks.push({
    target: 'session cache off ≥ 0.10× and ≥ iron-session per request',
    measured: off === undefined ? 'not run' : `${x(off.ratio)} (iron ${iron === undefined ? '–' : x(iron.ratio)})`,
    holds: off === undefined ? null : off.ratio >= 0.1 && (iron === undefined || off.ratio >= iron.ratio),
  })
  const bearer = row('bearer')
  const jwkRow = row('hono-jwk')
  const jose = row('jose')
  checks.push({
    target: 'bearer (cached) ≥ 0.85×, ahead of Hono jwk and jose',
    measured: bearer === undefined ? 'not run' : `${x(bearer.ratio)} (jwk ${jwkRow ? x(jwkRow.ratio) : '–'}, jose ${jose ? x(jose.ratio) : '–'})`,
    holds: bearer === undefined ? null : bearer.ratio >= 0.85 && bearer.ratio > (jwkRow?.ratio ?? 0) && bearer.ratio > (jose?.ratio ?? 0),
  })
  const peers = report.throughput.filter((r) => r.peer && r.skipped === undefined)
  const cached = [row('warm'), row('bearer')].filter((r): r is RatioRow => r !== undefined)
  if (cached.length > 0 && peers.length > 0) {
    const bestPeer = peers.reduce((a, b) => (b.ratio > a.ratio ? b : a))
    const worstOwn = cached.reduce((a, b) => (b.ratio < a.ratio ? b : a))
    checks.push({
      target: 'every Gatehouse cached row ahead of every peer row',
      measured: `slowest own ${x(worstOwn.ratio)} vs best peer ${x(bestPeer.ratio)} (${bestPeer.id})`,
      holds: worstOwn.ratio > bestPeer.ratio,
    })
  }
  for (const l of report.logins) {
    checks.push({ target: `logins/s ≥ 0.90× raw argon2 (concurrency ${l.concurrency})`, measured: x(l.ratio), holds: l.ratio >= 0.9 })
  }
  const correct = report.storms.find((s) => s.id === 'correct-logins')
  if (correct) checks.push({ target: 'warm p99 ≤ 10 ms while 32 clients log in', measured: `${ms(correct.p99Ms)} ms`, holds: correct.p99Ms <= 10 })
  const capped = report.storms.find((s) => s.id === 'correct-logins-argon2-1')
  if (capped)
    checks.push({
      target: 'the same with argon2 capped at 1 (not the default)',
      measured: `${ms(capped.p99Ms)} ms, ${(capped.stormPerSecond.reduce((a, b) => a + b, 0) / capped.stormPerSecond.length).toFixed(0)} logins/s`,
      holds: capped.p99Ms <= 10,
    })
  const refused = report.storms.find((s) => s.id === 'refused-guesses')
  if (refused) {
    checks.push({
      target: 'refused-guess storm: warm ≥ 0.5× unloaded and p99 ≤ 10 ms',
      measured: `${x(refused.throughputRatio)}, p99 ${ms(refused.p99Ms)} ms`,
      holds: refused.throughputRatio >= 0.5 && refused.p99Ms <= 10,
    })
  }
  const health = report.storms.find((s) => s.id === 'health-logins')
  if (health) {
    checks.push({
      target: `/health p99 ≤ 100 ms while ${health.stormConnections} clients log in`,
      measured: `${ms(health.p99Ms)} ms (${(health.stormPerSecond.reduce((a, b) => a + b, 0) / health.stormPerSecond.length).toFixed(0)} logins/s)`,
      holds: health.p99Ms <= 100,
    })
  }
  const rev = report.revocation
  if (rev) {
    checks.push({
      target: 'revocation reach p99 ≤ 1 s (PostgreSQL)',
      measured: rev.skipped ?? `${ms(rev.p99Ms)} ms${rev.missed > 0 ? `, ${rev.missed} missed` : ''}`,
      holds: rev.skipped !== undefined ? null : rev.p99Ms <= 1000 && rev.missed === 0,
    })
  }
  const demo = report.demo
  if (demo && demo.skipped === undefined) {
    const rss = (target: string, mib: number | null | undefined) => checks.push({ target, measured: mib == null ? '–' : `${mib.toFixed(0)} MiB`, holds: mib == null ? null : mib <= 150 })
    rss('demo peak RSS ≤ 150 MiB (node dist/server.js, glibc defaults)', demo.peakRSSMiB)
    rss('demo peak RSS ≤ 150 MiB (as npm run demo starts it: MALLOC_ARENA_MAX=1)', demo.peakRSSOneArenaMiB)
    checks.push({ target: 'demo cold start ≤ 0.5 s', measured: `${ms(demo.coldStartMedianMs)} ms`, holds: demo.coldStartMedianMs <= 500 })
  }
  return checks
}

/** The report as Markdown tables. */
export function formatReport(report: BenchReport): string {
  const { machine, settings } = report
  const lines: string[] = []
  lines.push(
    `${machine.cpuModel}, ${machine.cpus} CPUs, Node ${machine.node}; autocannon -c ${settings.connections}, ${settings.rounds} A/B pairs of ${settings.seconds} s (${settings.warmupSeconds} s warm-up thrown away each)`,
    '',
  )
  if (report.throughput.length > 0) {
    lines.push('| scenario (ratio to bare Hono, paired) | ratio | pairs | req/s | bare req/s | p50 ms | p99 ms | server CPU µs/req (bare) | peak RSS MiB |', '|---|---|---|---|---|---|---|---|---|')
    for (const r of report.throughput) {
      if (r.skipped !== undefined) {
        lines.push(`| ${r.name} | not run: ${r.skipped.replaceAll('|', '/')} | | | | | | | |`)
        continue
      }
      const bad = r.unexpected > 0 ? ` (${r.unexpected} unexpected answers)` : ''
      lines.push(
        `| ${r.peer ? 'peer: ' : ''}${r.name}${bad} | **${x(r.ratio)}** | ${range(r.ratios)} | ${kilo(r.rps.reduce((a, b) => a + b) / r.rps.length)} | ${kilo(r.bareRPS.reduce((a, b) => a + b) / r.bareRPS.length)} | ${ms(r.p50Ms)} | ${ms(r.p99Ms)} | ${Number.isFinite(r.cpuMicros) ? `${r.cpuMicros.toFixed(0)} (${r.bareCPUMicros.toFixed(0)})` : '–'} | ${r.peakRSSMiB?.toFixed(0) ?? '–'} |`,
      )
    }
    lines.push('')
  }
  if (report.logins.length > 0) {
    lines.push('| logins (correct password, one account per client) | logins/s | raw argon2 verifies/s | ratio | pairs | login p99 ms |', '|---|---|---|---|---|---|')
    for (const l of report.logins) {
      const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
      lines.push(
        `| concurrency ${l.concurrency}${l.unexpected > 0 ? ` (${l.unexpected} unexpected)` : ''} | ${avg(l.loginsPerSecond).toFixed(1)} | ${avg(l.argon2PerSecond).toFixed(1)} | **${x(l.ratio)}** | ${range(l.ratios)} | ${ms(l.p99Ms)} |`,
      )
    }
    lines.push('')
  }
  if (report.storms.length > 0) {
    lines.push(
      `| warm session (\`Protected\`, -c ${settings.connections}) under a login storm | throughput vs unloaded | p50 ms | p99 ms | unloaded p99 ms | storm answers/s |`,
      '|---|---|---|---|---|---|',
    )
    for (const s of report.storms) {
      const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
      // A login storm from one address can be refused in part (429) by the address's throttle:
      // its advance count (one per login in flight) passes 50 with more than 50 clients.
      const refusedPerSecond = s.id === 'refused-guesses' ? 0 : avg(s.storm.map((r) => ((r.statuses['429'] ?? 0) * r.requestsPerSecond) / Math.max(1, r.statuses['200'] ?? 0)))
      lines.push(
        `| ${s.name} | **${x(s.throughputRatio)}** | ${ms(s.p50Ms)} | **${ms(s.p99Ms)}** | ${ms(s.unloadedP99Ms)} | ${avg(s.stormPerSecond).toFixed(0)} ${s.id === 'refused-guesses' ? '(429)' : '(200)'}${refusedPerSecond >= 1 ? ` + ${refusedPerSecond.toFixed(0)} (429)` : ''} |`,
      )
    }
    lines.push('')
  }
  if (report.revocation !== null || report.demo !== null || report.policyCheck !== null) {
    lines.push('| other | figure |', '|---|---|')
    const policy = report.policyCheck
    if (policy !== null) {
      const avg = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
      lines.push(
        `| casbinGuard policy check in process (warm session through app.fetch, ${policy.protectedMicros.length} rounds of ${policy.requests} requests per route) | **${policy.checkMicros.toFixed(1)} µs** per check (casbinGuard ${avg(policy.guardedMicros).toFixed(1)} µs vs Protected([User]) ${avg(policy.protectedMicros).toFixed(1)} µs per request); enforceSync alone ${policy.enforceMicros.toFixed(1)} µs |`,
      )
    }
    const rev = report.revocation
    if (rev !== null) {
      lines.push(
        rev.skipped !== undefined
          ? `| revocation reach (two instances, one PostgreSQL) | not run: ${rev.skipped} |`
          : `| revocation reach, commit → other instance refuses the old cookie (${rev.trials} trials) | p50 ${ms(rev.p50Ms)} ms, **p99 ${ms(rev.p99Ms)} ms**, max ${ms(rev.maxMs)} ms${rev.missed > 0 ? `, ${rev.missed} not within 5 s` : ''} |`,
      )
    }
    const demo = report.demo
    if (demo !== null) {
      lines.push(
        `| demo cold start, spawn → first answer (compiled, plain node; 5 restarts) | **${ms(demo.coldStartMedianMs)} ms** median (${demo.coldStartMs.map(ms).join(', ')}); first start with admin creation ${ms(demo.firstStartMs)} ms |`,
      )
      lines.push(
        `| demo peak RSS under load (warm sessions -c ${settings.connections} + 4 login clients) | **${demo.peakRSSMiB?.toFixed(0) ?? '–'} MiB**${demo.underLoad ? ` (${kilo(demo.underLoad.requestsPerSecond)} req/s, p99 ${ms(demo.underLoad.p99Ms)} ms)` : ''}; with MALLOC_ARENA_MAX=1 **${demo.peakRSSOneArenaMiB?.toFixed(0) ?? '–'} MiB** |`,
      )
    }
    lines.push('')
  }
  const checks = checkTargets(report)
  if (checks.length > 0) {
    lines.push('| target | measured | holds |', '|---|---|---|')
    for (const c of checks) lines.push(`| ${c.target} | ${c.measured} | ${c.holds === null ? '–' : c.holds ? 'yes' : '**no**'} |`)
    lines.push('')
  }
  for (const note of report.notes) lines.push(`Note: ${note}`)
  return lines.join('\n')
}

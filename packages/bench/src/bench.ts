// The benchmark itself: what `npm run bench` measures, in what order, and how it is reported.
// Every scenario runs its own server process; the bare Hono server is measured right before each
// measured run (A/B/A/B…), and each pair gives one ratio, so that the noise of a shared machine
// cancels out in the ratios rather than in the absolute figures.
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { NOOP_LOGGER } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import type { ProcessOptions, RunningServer } from './harness.js'
import { load, median, peakRSSMiB, percentile, rawArgon2, runJSONScript, startServer, stopChild } from './harness.js'
import type { LoadConfig, LoadResult, OIDCFixture, PolicyCheckResult, ServerConfig } from './scenarios.js'
import { BENCH_PASSWORD, WRONG_PASSWORD, loginUsername, sessionCookieOf } from './scenarios.js'

/** What to run, and how long. */
export interface BenchOptions extends ProcessOptions {
  /** Measured seconds per load run. @default 3 */
  readonly seconds?: number
  /** Load before each measured run, thrown away. @default 1 */
  readonly warmupSeconds?: number
  /** A/B pairs per scenario. @default 3 */
  readonly rounds?: number
  /** Connections of the throughput rows. @default 10 */
  readonly connections?: number
  /** Sections to run. @default every one */
  readonly sections?: readonly Section[]
  /** Rows of the throughput and storms sections to run (by id; an unknown id throws). @default every one */
  readonly rows?: readonly string[]
  /** `postgres://…` of a server for the revocation section; without it that section is skipped. */
  readonly postgresURL?: string
  /** The compiled demo's server script, for the demo section. */
  readonly demoScript?: string
  /** Revocation trials. @default 100 */
  readonly revocationTrials?: number
  /** Progress lines (stderr in the CLI). @default none */
  readonly log?: (line: string) => void
}

export type Section = 'throughput' | 'logins' | 'storms' | 'revocation' | 'demo'
export const SECTIONS: readonly Section[] = ['throughput', 'logins', 'storms', 'revocation', 'demo']

/** One row of the paired-ratio table. */
export interface RatioRow {
  readonly id: string
  readonly name: string
  /** A peer library, not Gatehouse. */
  readonly peer: boolean
  /** Why the row did not run, when it did not. */
  readonly skipped?: string
  readonly bareRPS: readonly number[]
  readonly rps: readonly number[]
  /** rps[i] / bareRPS[i], pair by pair. */
  readonly ratios: readonly number[]
  readonly ratio: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly unexpected: number
  readonly peakRSSMiB: number | null
  /** Server CPU per answered request (µs, median over the runs; warm-up included), and the bare server's. */
  readonly cpuMicros: number
  readonly bareCPUMicros: number
}

export interface LoginRow {
  readonly concurrency: number
  readonly loginsPerSecond: readonly number[]
  readonly argon2PerSecond: readonly number[]
  readonly ratios: readonly number[]
  readonly ratio: number
  readonly p99Ms: number
  readonly unexpected: number
}

export interface StormRow {
  readonly id: StormID
  readonly name: string
  /** The route measured under the storm: the warm session's `/p`, or `/health`. */
  readonly path: string
  readonly stormConnections: number
  readonly unloaded: readonly LoadResult[]
  readonly loaded: readonly LoadResult[]
  /** Storm answers per second of the expected status (200 logins / 429 refusals). */
  readonly stormPerSecond: readonly number[]
  readonly storm: readonly LoadResult[]
  readonly throughputRatio: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly unloadedP99Ms: number
}

export interface RevocationResult {
  readonly skipped?: string
  readonly trials: number
  readonly reachedMs: readonly number[]
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Trials where the old cookie was still accepted after the bound. */
  readonly missed: number
}

export interface DemoResult {
  readonly skipped?: string
  /** Spawn → first answered request, restarts on an existing database (ms). */
  readonly coldStartMs: readonly number[]
  readonly coldStartMedianMs: number
  readonly firstStartMs: number
  readonly peakRSSMiB: number | null
  /** The same load with MALLOC_ARENA_MAX=1, as `npm run demo` starts the demo. */
  readonly peakRSSOneArenaMiB: number | null
  readonly underLoad: LoadResult | null
}

export interface BenchReport {
  readonly startedAt: string
  readonly machine: { readonly node: string; readonly cpus: number; readonly cpuModel: string; readonly platform: string }
  readonly settings: { readonly seconds: number; readonly warmupSeconds: number; readonly rounds: number; readonly connections: number }
  readonly throughput: readonly RatioRow[]
  readonly logins: readonly LoginRow[]
  readonly storms: readonly StormRow[]
  readonly revocation: RevocationResult | null
  readonly demo: DemoResult | null
  /** The casbinGuard's check in process, run with the `casbin` throughput row. */
  readonly policyCheck: PolicyCheckResult | null
  readonly notes: readonly string[]
}

interface RowSpec {
  readonly id: string
  readonly name: string
  readonly peer: boolean
  readonly server: ServerConfig
  readonly path: string
  /** Send the server's session cookie. */
  readonly cookie?: boolean
  readonly bearer?: boolean
  readonly expectStatus?: number
}

function rowSpecs(oidc: OIDCFixture): RowSpec[] {
  return [
    { id: 'bare', name: 'bare Hono route (another process)', peer: false, server: { kind: 'bare' }, path: '/bare' },
    { id: 'hono-middleware', name: 'Hono floor: one async middleware that only awaits next()', peer: false, server: { kind: 'hono-middleware' }, path: '/p' },
    { id: 'hono-floor', name: 'Hono floor: async middleware setting Cache-Control + Vary', peer: false, server: { kind: 'hono-floor' }, path: '/p' },
    { id: 'warm', name: 'Gatehouse warm session, Protected([User])', peer: false, server: { kind: 'gatehouse' }, path: '/p', cookie: true },
    {
      id: 'casbin',
      name: 'Gatehouse warm session, casbinGuard (RBAC, p, User, /casbin, GET)',
      peer: false,
      server: { kind: 'gatehouse', casbin: true },
      path: '/casbin',
      cookie: true,
    },
    { id: 'cache-off', name: 'Gatehouse session cache off', peer: false, server: { kind: 'gatehouse', sessionCache: false }, path: '/p', cookie: true },
    { id: '403', name: 'Gatehouse 403 (wrong role)', peer: false, server: { kind: 'gatehouse' }, path: '/admin', cookie: true, expectStatus: 403 },
    { id: '401', name: 'Gatehouse 401 (no cookie)', peer: false, server: { kind: 'gatehouse', login: false }, path: '/p', expectStatus: 401 },
    { id: 'anonymous', name: 'Gatehouse anonymous, optional route', peer: false, server: { kind: 'gatehouse', login: false }, path: '/optional' },
    { id: 'public', name: 'Gatehouse anonymous, public route (auth.middleware() only)', peer: false, server: { kind: 'gatehouse', login: false }, path: '/public' },
    { id: 'bearer', name: 'Gatehouse bearer JWT (RS256, cached)', peer: false, server: { kind: 'gatehouse', login: false, oidc }, path: '/p', bearer: true },
    { id: 'better-auth', name: 'better-auth getSession (cookie cache off)', peer: true, server: { kind: 'better-auth' }, path: '/p', cookie: true },
    { id: 'better-auth-cache', name: 'better-auth getSession (cookie cache on)', peer: true, server: { kind: 'better-auth', cookieCache: true }, path: '/p', cookie: true },
    { id: 'iron', name: 'iron-session unseal per request', peer: true, server: { kind: 'iron' }, path: '/p', cookie: true },
    { id: 'hono-jwk', name: 'Hono jwk middleware (RS256)', peer: true, server: { kind: 'hono-jwk', oidc }, path: '/p', bearer: true },
    { id: 'jose', name: 'jose jwtVerify per request (RS256)', peer: true, server: { kind: 'jose', oidc }, path: '/p', bearer: true },
  ]
}

/** A key set on loopback and a token signed by it, for every bearer row. */
async function startIssuer(): Promise<{ fixture: OIDCFixture; token: string; close: () => Promise<void> }> {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' }
  const body = JSON.stringify({ keys: [jwk] })
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const fixture: OIDCFixture = { issuer: `${base}/realms/bench`, audience: 'bench-api', jwksURL: `${base}/realms/bench/protocol/openid-connect/certs` }
  const token = await new SignJWT({ typ: 'Bearer', preferred_username: 'alice', realm_access: { roles: ['user'] }, scope: 'openid' })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' })
    .setIssuer(fixture.issuer)
    .setAudience(fixture.audience)
    .setSubject('alice-subject')
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey)
  return { fixture, token, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Runs the benchmark and returns its report (printing nothing: see `formatReport`). */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const seconds = options.seconds ?? 3
  const warmupSeconds = options.warmupSeconds ?? 1
  const rounds = options.rounds ?? 3
  const connections = options.connections ?? 10
  const sections = new Set(options.sections ?? SECTIONS)
  const log = options.log ?? (() => {})
  const proc: ProcessOptions = { nodeArgs: options.nodeArgs ?? [] }
  const notes: string[] = []
  const measure = (url: string, extra: Partial<LoadConfig> = {}): Promise<LoadResult> => load({ url, connections, seconds, warmupSeconds, ...extra }, proc)
  const { cpus, cpuModel } = machine()
  const report = {
    startedAt: new Date().toISOString(),
    machine: { node: process.version, cpus, cpuModel, platform: `${process.platform} ${process.arch}` },
    settings: { seconds, warmupSeconds, rounds, connections },
    throughput: [] as RatioRow[],
    logins: [] as LoginRow[],
    storms: [] as StormRow[],
    revocation: null as RevocationResult | null,
    demo: null as DemoResult | null,
    policyCheck: null as PolicyCheckResult | null,
    notes,
  }
  if (options.rows !== undefined) {
    const known = [...rowSpecs({ issuer: '', audience: '', jwksURL: '' }).map((r) => r.id), ...STORM_IDS]
    const unknown = options.rows.filter((id) => !known.includes(id))
    if (unknown.length > 0) throw new TypeError(`unknown rows ${unknown.join(', ')} (known: ${known.join(', ')})`)
  }

  const issuer = await startIssuer()
  const bare = await startServer({ kind: 'bare' }, proc)
  const bareURL = `${bare.url}/bare`
  try {
    if (sections.has('throughput')) {
      for (const spec of rowSpecs(issuer.fixture).filter((r) => options.rows === undefined || options.rows.includes(r.id))) {
        log(`throughput: ${spec.name}`)
        report.throughput.push(await ratioRow(spec, { bareURL, bare, token: issuer.token, rounds, measure, proc }))
      }
      if (report.throughput.some((r) => r.id === 'casbin' && r.skipped === undefined)) {
        log('throughput: the casbinGuard check in process')
        // About half a measured run per round and route (4 500 warm requests at 3 s), so the smoke test stays short.
        const requests = Math.max(100, Math.round(1500 * seconds))
        report.policyCheck = await runJSONScript<PolicyCheckResult>('policy-check', { rounds: Math.max(3, rounds), requests, enforces: 10 * requests }, { ...proc, timeoutMs: 180_000 })
      }
    }
    if (sections.has('logins')) {
      report.logins.push(...(await loginRows({ rounds, seconds, warmupSeconds, proc, log })))
    }
    if (sections.has('storms')) {
      report.storms.push(...(await stormRows({ rounds, seconds, warmupSeconds, connections, proc, log, ...(options.rows === undefined ? {} : { rows: options.rows }) })))
    }
  } finally {
    await bare.stop()
    await issuer.close()
  }
  if (sections.has('revocation')) {
    log('revocation reach (two instances on one PostgreSQL)')
    const notRun = (skipped: string): RevocationResult => ({ skipped, trials: 0, reachedMs: [], p50Ms: NaN, p99Ms: NaN, maxMs: NaN, missed: 0 })
    report.revocation =
      options.postgresURL === undefined
        ? notRun('no PostgreSQL')
        : await revocationReach({ postgresURL: options.postgresURL, trials: options.revocationTrials ?? 100, proc }).catch((error: unknown) => notRun(String(error)))
  }
  if (sections.has('demo')) {
    log('demo: cold start and peak RSS')
    report.demo =
      options.demoScript === undefined
        ? null
        : await demoRun({ script: options.demoScript, seconds, connections, proc }).catch(
            (error: unknown): DemoResult => ({
              skipped: String(error).slice(0, 300),
              coldStartMs: [],
              coldStartMedianMs: NaN,
              firstStartMs: NaN,
              peakRSSMiB: null,
              peakRSSOneArenaMiB: null,
              underLoad: null,
            }),
          )
  }
  const bearer = report.throughput.find((r) => r.id === 'bearer')
  if (bearer?.skipped !== undefined) notes.push(`bearer row not run: ${bearer.skipped}`)
  return report
}

interface RowContext {
  readonly bareURL: string
  readonly token: string
  readonly rounds: number
  readonly measure: (url: string, extra?: Partial<LoadConfig>) => Promise<LoadResult>
  readonly proc: ProcessOptions
  readonly bare: RunningServer
}

async function ratioRow(spec: RowSpec, ctx: RowContext): Promise<RatioRow> {
  let server: RunningServer
  const empty = { bareRPS: [], rps: [], ratios: [], ratio: NaN, p50Ms: NaN, p99Ms: NaN, unexpected: 0, peakRSSMiB: null, cpuMicros: NaN, bareCPUMicros: NaN }
  try {
    server = await startServer(spec.server, ctx.proc)
  } catch (error) {
    return { id: spec.id, name: spec.name, peer: spec.peer, skipped: (error as Error).message.slice(0, 300), ...empty }
  }
  try {
    const headers: Record<string, string> = {}
    if (spec.cookie === true && server.ready.cookie !== undefined) headers.cookie = server.ready.cookie
    if (spec.bearer === true) headers.authorization = `Bearer ${ctx.token}`
    const bareRPS: number[] = []
    const results: LoadResult[] = []
    const cpu: number[] = []
    const bareCPU: number[] = []
    // Server CPU per answer: a second view of the cost, less sensitive to a load generator that
    // shares the machine (throughput falls when it is starved; CPU per answer mostly does not).
    const timed = async (target: RunningServer, run: () => Promise<LoadResult>, into: number[]) => {
      const before = target.cpuSeconds()
      const result = await run()
      const after = target.cpuSeconds()
      if (before !== null && after !== null) into.push(((after - before) / Math.max(1, result.total + result.warmupTotal)) * 1e6)
      return result
    }
    for (let round = 0; round < ctx.rounds; round++) {
      // The bare route gets the same request (cookie or token included; it ignores them), so
      // the ratio is what Gatehouse costs, not what a bigger request costs the kernel and parser.
      bareRPS.push((await timed(ctx.bare, () => ctx.measure(ctx.bareURL, { headers }), bareCPU)).requestsPerSecond)
      results.push(await timed(server, () => ctx.measure(`${server.url}${spec.path}`, { headers, expectStatus: spec.expectStatus ?? 200 }), cpu))
    }
    const rps = results.map((r) => r.requestsPerSecond)
    const ratios = rps.map((r, i) => r / bareRPS[i]!)
    return {
      id: spec.id,
      name: spec.name,
      peer: spec.peer,
      bareRPS,
      rps,
      ratios,
      ratio: median(ratios),
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: median(results.map((r) => r.p99Ms)),
      unexpected: results.reduce((n, r) => n + r.unexpected, 0),
      peakRSSMiB: server.peakRSSMiB(),
      cpuMicros: cpu.length > 0 ? median(cpu) : NaN,
      bareCPUMicros: bareCPU.length > 0 ? median(bareCPU) : NaN,
    }
  } finally {
    await server.stop()
  }
}

const LOGIN_CONCURRENCY = [2, 4, 16] as const

function loginBodies(count: number, password = BENCH_PASSWORD, name = loginUsername): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify({ username: name(i), password }))
}

/** A same-origin JSON login (the CSRF check compares `Origin` with the server's own origin). */
const loginHeaders = (base: string) => ({ 'content-type': 'application/json', origin: base })

async function loginRows(args: { rounds: number; seconds: number; warmupSeconds: number; proc: ProcessOptions; log: (line: string) => void }): Promise<LoginRow[]> {
  const maxClients = Math.max(...LOGIN_CONCURRENCY)
  const server = await startServer({ kind: 'gatehouse', login: false, loginUsers: maxClients }, args.proc)
  const rows: LoginRow[] = []
  try {
    for (const concurrency of LOGIN_CONCURRENCY) {
      args.log(`logins at concurrency ${concurrency}`)
      const logins: LoadResult[] = []
      const raw: number[] = []
      for (let round = 0; round < args.rounds; round++) {
        raw.push(await rawArgon2({ concurrency, seconds: args.seconds, warmupSeconds: args.warmupSeconds }, args.proc))
        logins.push(
          await load(
            // No separate warm-up run: autocannon would drop its connections between the two with
            // logins in flight, and the server would count them against the address meanwhile.
            // The server's code is warm already (it created the accounts and logged in at startup).
            { url: `${server.url}/auth/login`, method: 'POST', headers: loginHeaders(server.url), bodies: loginBodies(concurrency), connections: concurrency, seconds: args.seconds },
            args.proc,
          ),
        )
      }
      const perSecond = logins.map((r) => r.requestsPerSecond)
      const ratios = perSecond.map((l, i) => l / raw[i]!)
      rows.push({
        concurrency,
        loginsPerSecond: perSecond,
        argon2PerSecond: raw,
        ratios,
        ratio: median(ratios),
        p99Ms: median(logins.map((r) => r.p99Ms)),
        unexpected: logins.reduce((n, r) => n + r.unexpected, 0),
      })
    }
  } finally {
    await server.stop()
  }
  return rows
}

const STORM_CLIENTS = 32
/** issue 13: "/health p99 stays under 100 ms while 64 clients hammer the login". */
const HEALTH_STORM_CLIENTS = 64

const STORM_IDS = ['correct-logins', 'correct-logins-argon2-1', 'refused-guesses', 'health-logins'] as const
type StormID = (typeof STORM_IDS)[number]

interface StormSpec {
  readonly id: StormID
  readonly name: string
  readonly bodies: readonly string[]
  readonly expectStatus: number
  /** Login connections. @default STORM_CLIENTS */
  readonly clients?: number
  readonly argon2Concurrency?: number
  /** The route measured under the storm. @default '/p' with the warm session's cookie */
  readonly path?: '/p' | '/health'
}

async function stormRows(args: {
  rounds: number
  seconds: number
  warmupSeconds: number
  connections: number
  proc: ProcessOptions
  log: (line: string) => void
  rows?: readonly string[]
}): Promise<StormRow[]> {
  const storms: StormSpec[] = [
    { id: 'correct-logins', name: `warm session while ${STORM_CLIENTS} clients log in (correct passwords)`, bodies: loginBodies(STORM_CLIENTS), expectStatus: 200 },
    {
      id: 'correct-logins-argon2-1',
      name: `the same, argon2 capped at 1 in flight (hasher.maxConcurrency 1)`,
      bodies: loginBodies(STORM_CLIENTS),
      expectStatus: 200,
      argon2Concurrency: 1,
    },
    {
      // Gatehouse holds each 429 for failureDelay.throttledMs (250 ms by default), so these 32
      // closed-loop clients get about 128 answers a second, not as many as the server could give.
      id: 'refused-guesses',
      name: `warm session while one address's wrong passwords are refused (${STORM_CLIENTS} clients)`,
      bodies: loginBodies(STORM_CLIENTS, WRONG_PASSWORD, (i) => `guess-${i}`),
      expectStatus: 429,
    },
    {
      id: 'health-logins',
      name: `\`/health\` (the demo's schema check), not the warm session, while ${HEALTH_STORM_CLIENTS} clients log in (correct passwords)`,
      bodies: loginBodies(HEALTH_STORM_CLIENTS),
      expectStatus: 200,
      clients: HEALTH_STORM_CLIENTS,
      path: '/health',
    },
  ]
  const rows: StormRow[] = []
  for (const storm of storms.filter((s) => args.rows === undefined || args.rows.includes(s.id))) {
    args.log(`storm: ${storm.name}`)
    const clients = storm.clients ?? STORM_CLIENTS
    const path = storm.path ?? '/p'
    const server = await startServer(
      {
        kind: 'gatehouse',
        loginUsers: storm.expectStatus === 200 ? clients : 0,
        ...(storm.argon2Concurrency === undefined ? {} : { argon2Concurrency: storm.argon2Concurrency }),
        ...(path === '/health' ? { health: true } : {}),
      },
      args.proc,
    )
    try {
      const warm: LoadConfig = {
        url: `${server.url}${path}`,
        connections: args.connections,
        seconds: args.seconds,
        warmupSeconds: args.warmupSeconds,
        ...(path === '/p' ? { headers: { cookie: server.ready.cookie! } } : {}),
      }
      const stormLoad: LoadConfig = {
        url: `${server.url}/auth/login`,
        method: 'POST',
        headers: loginHeaders(server.url),
        bodies: storm.bodies,
        connections: clients,
        expectStatus: storm.expectStatus,
        // The storm starts first (its first second brings the refused guesses into back-off) and
        // outlasts the warm load; one run, no warm-up run, so that no logins are dropped in flight
        // in the middle (see loginRows).
        seconds: 2 * args.warmupSeconds + args.seconds + 2,
      }
      const unloaded: LoadResult[] = []
      const loaded: LoadResult[] = []
      const stormResults: LoadResult[] = []
      for (let round = 0; round < args.rounds; round++) {
        unloaded.push(await load(warm, args.proc))
        const stormRun = load(stormLoad, args.proc)
        await new Promise((resolve) => setTimeout(resolve, (args.warmupSeconds + 1) * 1000))
        loaded.push(await load(warm, args.proc))
        stormResults.push(await stormRun)
        // Logins the storm left in flight finish before the next unloaded run.
        await new Promise((resolve) => setTimeout(resolve, 3000))
      }
      rows.push({
        id: storm.id,
        name: storm.name,
        path,
        stormConnections: clients,
        unloaded,
        loaded,
        stormPerSecond: stormResults.map((r) => r.requestsPerSecond),
        storm: stormResults,
        throughputRatio: median(loaded.map((l, i) => l.requestsPerSecond / unloaded[i]!.requestsPerSecond)),
        p50Ms: median(loaded.map((l) => l.p50Ms)),
        p99Ms: median(loaded.map((l) => l.p99Ms)),
        unloadedP99Ms: median(unloaded.map((l) => l.p99Ms)),
      })
    } finally {
      await server.stop()
    }
  }
  return rows
}

/**
 * Two instances on one PostgreSQL: a session is used on B, the password is changed through the
 * store API (the write has committed when `setPassword` returns), then B is asked with the old
 * cookie until it refuses. The time from the commit to B's first refusal, per trial.
 */
async function revocationReach(args: { postgresURL: string; trials: number; proc: ProcessOptions }): Promise<RevocationResult> {
  const sql = await openSQLStore({ uri: args.postgresURL, logger: NOOP_LOGGER })
  const a = await startServer({ kind: 'gatehouse', databaseURI: args.postgresURL, login: false }, args.proc)
  const b = await startServer({ kind: 'gatehouse', databaseURI: args.postgresURL, login: false }, args.proc)
  const reachedMs: number[] = []
  let missed = 0
  const passwords = [BENCH_PASSWORD, `${BENCH_PASSWORD}-next`]
  try {
    await sql.accounts.setPassword({ username: 'alice', password: passwords[0]! })
    for (let trial = 0; trial < args.trials; trial++) {
      const current = passwords[trial % 2]!
      const res = await fetch(`${a.url}/auth/login`, { method: 'POST', headers: loginHeaders(a.url), body: JSON.stringify({ username: 'alice', password: current }) })
      const cookie = sessionCookieOf(res)
      if (res.status !== 200 || cookie === undefined) throw new Error(`revocation: login on A failed with ${res.status}`)
      // B has seen (and cached) the session before it is revoked.
      for (let i = 0; i < 3; i++) {
        const warm = await fetch(`${b.url}/p`, { headers: { cookie } })
        await warm.arrayBuffer()
        if (warm.status !== 200) throw new Error(`revocation: B refused a fresh session (${warm.status})`)
      }
      await sql.accounts.setPassword({ username: 'alice', password: passwords[(trial + 1) % 2]! })
      const committed = performance.now()
      let reached: number | undefined
      // Bounded: 5 s or 20 000 requests, whichever comes first.
      for (let i = 0; i < 20_000 && performance.now() - committed < 5000; i++) {
        const check = await fetch(`${b.url}/p`, { headers: { cookie } })
        await check.arrayBuffer()
        if (check.status === 401) {
          reached = performance.now() - committed
          break
        }
      }
      if (reached === undefined) missed++
      else reachedMs.push(reached)
    }
  } finally {
    await Promise.all([a.stop(), b.stop()])
    await sql.close()
  }
  const all = reachedMs.length > 0 ? reachedMs : [NaN]
  return { trials: args.trials, reachedMs, p50Ms: percentile(all, 50), p99Ms: percentile(all, 99), maxMs: Math.max(...all), missed }
}

/** Spawns the compiled demo with plain node and resolves at its first answered request. */
function startDemo(script: string, cwd: string, extraEnv: Record<string, string> = {}): Promise<{ child: ReturnType<typeof spawn>; base: string; output: string; ms: number }> {
  const started = performance.now()
  const { AUTH_SECRET: _s, AUTH_DB_URI: _d, MALLOC_ARENA_MAX: _m, ...env } = process.env
  const child = spawn(process.execPath, [script], { cwd, env: { ...env, PORT: '0', LOG_LEVEL: 'silent', ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr!.on('data', (chunk: Buffer) => void (output += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child)
      reject(new Error(`demo did not answer within 30 s: ${output}`))
    }, 30_000)
    let asked = false
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const port = /on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1]
      if (port === undefined || asked) return
      asked = true
      const base = `http://127.0.0.1:${port}`
      fetch(`${base}/health`).then(
        async (res) => {
          await res.arrayBuffer()
          clearTimeout(timer)
          resolve({ child, base, output, ms: performance.now() - started })
        },
        (error: unknown) => {
          clearTimeout(timer)
          void stopChild(child)
          reject(error as Error)
        },
      )
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`demo exited with ${code}: ${output}`))
    })
  })
}

async function demoRun(args: { script: string; seconds: number; connections: number; proc: ProcessOptions }): Promise<DemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-demo-'))
  try {
    const first = await startDemo(args.script, dir)
    const password = /password: (\S+)/.exec(first.output)?.[1]
    await stopChild(first.child)
    const coldStartMs: number[] = []
    for (let i = 0; i < 5; i++) {
      const again = await startDemo(args.script, dir)
      coldStartMs.push(again.ms)
      await stopChild(again.child)
    }
    // Peak memory: warm sessions on a guarded JSON route while four clients log in; with glibc's
    // default arenas (argon2's 19 MiB buffer stays in every worker thread's arena) and with one.
    const loaded = await demoUnderLoad({ ...args, dir, password })
    const oneArena = await demoUnderLoad({ ...args, dir, password, env: { MALLOC_ARENA_MAX: '1' } })
    const { underLoad, peak } = loaded
    return {
      coldStartMs,
      coldStartMedianMs: median(coldStartMs),
      firstStartMs: first.ms,
      peakRSSMiB: peak,
      peakRSSOneArenaMiB: oneArena.peak,
      underLoad,
      ...(password === undefined ? { skipped: 'no admin password printed' } : {}),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function demoUnderLoad(args: {
  script: string
  seconds: number
  connections: number
  proc: ProcessOptions
  dir: string
  password: string | undefined
  env?: Record<string, string>
}): Promise<{ underLoad: LoadResult | null; peak: number | null }> {
  const demo = await startDemo(args.script, args.dir, args.env)
  try {
    const loginBody = JSON.stringify({ username: 'admin', password: args.password })
    const res = await fetch(`${demo.base}/auth/login`, { method: 'POST', headers: loginHeaders(demo.base), body: loginBody })
    const cookie = sessionCookieOf(res)
    if (cookie === undefined) return { underLoad: null, peak: peakRSSMiB(demo.child.pid!) }
    const logins = load({ url: `${demo.base}/auth/login`, method: 'POST', connections: 4, seconds: args.seconds, headers: loginHeaders(demo.base), bodies: [loginBody] }, args.proc)
    const underLoad = await load({ url: `${demo.base}/api/entries`, connections: args.connections, seconds: args.seconds, headers: { cookie } }, args.proc)
    await logins
    return { underLoad, peak: peakRSSMiB(demo.child.pid!) }
  } finally {
    await stopChild(demo.child)
  }
}

function machine(): { cpus: number; cpuModel: string } {
  const list = cpus()
  return { cpus: availableParallelism(), cpuModel: list[0]?.model ?? 'unknown' }
}

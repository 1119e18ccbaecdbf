// What the SQL store costs on a request, measured side by side in one run (shared, noisy
// machines: compare the columns of one run, not runs of different days).
//   node_modules/.bin/tsx --conditions=gatehouse-source packages/store-sql/bench/store-bench.ts [--no-postgres]
//
// 1. Session resume per request through a real createAuth app (`Protected()` route): warm session
//    cache (cookie → user held in process) vs cold (cache off: unseal the cookie, ask the store's
//    revocation list and user row on every request), on SQLite and on PostgreSQL.
// 2. Login time with the default argon2id parameters (m=19456 KiB, t=2, p=1).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuthEnv } from '@gatehouse/core'
import { NOOP_LOGGER, Protected, Role, createAuth } from '@gatehouse/core'
import { startPostgres } from '@gatehouse/testkit'
import { Hono } from 'hono'
import type { SQLStore } from '../src/index.js'
import { openSQLStore } from '../src/index.js'

const ORIGIN = 'http://bench.test'
const SECRET = 'b'.repeat(40)
const REQUESTS = 1000
const ROUNDS = 5
const LOGINS = 25

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

function buildApp(sql: SQLStore, cache: boolean) {
  const auth = createAuth({
    roles: [new Role({ name: 'User' })],
    authenticators: [sql.authenticator],
    store: sql.store,
    throttle: sql.throttle,
    session: { secret: SECRET, secure: false, ...(cache ? {} : { cache: false as const }) },
    logger: NOOP_LOGGER,
  })
  const app = new Hono<AuthEnv>()
  app.get('/bare', (c) => c.text('ok'))
  app.use('/p/*', auth.middleware())
  app.get('/p/protected', Protected(['User']), (c) => c.text('ok'))
  app.route('/auth', auth.routes())
  return app
}

async function login(app: Hono<AuthEnv>, password = 'bench passphrase'): Promise<string> {
  const res = await app.request(`${ORIGIN}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    body: JSON.stringify({ username: 'bench-user', password }),
  })
  if (res.status !== 200) throw new Error(`login: ${res.status}`)
  return res.headers.getSetCookie()[0]!.split(';')[0]!
}

async function perRequestMicros(app: Hono<AuthEnv>, path: string, cookie?: string): Promise<number> {
  const init = cookie ? { headers: { cookie } } : {}
  const start = process.hrtime.bigint()
  for (let i = 0; i < REQUESTS; i++) {
    const res = await app.request(`${ORIGIN}${path}`, init)
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`)
  }
  return Number(process.hrtime.bigint() - start) / 1e3 / REQUESTS
}

async function resumeCosts(label: string, uri: string): Promise<void> {
  // Light argon2 here: this part measures the request path after login, not hashing.
  const sql = await openSQLStore({ uri, hasher: { memoryCost: 1024, timeCost: 1, allowWeakParameters: true } })
  await sql.accounts.add({ username: 'bench-user', password: 'bench passphrase', roles: ['User'] })
  const warm = buildApp(sql, true)
  const cold = buildApp(sql, false)
  const [warmCookie, coldCookie] = [await login(warm), await login(cold)]
  const results = { bare: [] as number[], warm: [] as number[], cold: [] as number[] }
  for (let round = 0; round < ROUNDS; round++) {
    results.bare.push(await perRequestMicros(warm, '/bare'))
    results.warm.push(await perRequestMicros(warm, '/p/protected', warmCookie))
    results.cold.push(await perRequestMicros(cold, '/p/protected', coldCookie))
  }
  const user = (await sql.accounts.get({ username: 'bench-user' }))!
  const reads: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < REQUESTS; i++) {
      await sql.store.isRevoked({ sessionId: 'bench-session' })
      await sql.store.getUserById({ id: user.id })
    }
    reads.push(Number(process.hrtime.bigint() - start) / 1e3 / REQUESTS)
  }
  const [bare, w, c] = [median(results.bare), median(results.warm), median(results.cold)]
  console.log(
    `${label.padEnd(10)} bare ${bare.toFixed(1).padStart(6)} µs   warm cache ${w.toFixed(1).padStart(6)} µs   cold cache ${c.toFixed(1).padStart(7)} µs   cold/warm ${(c / w).toFixed(1)}x   (warm adds ${(w - bare).toFixed(1)} µs, cold adds ${(c - bare).toFixed(1)} µs over bare)`,
  )
  console.log(`${''.padEnd(10)} of which the store's two reads per cold request (isRevoked + getUserById): ${median(reads).toFixed(1)} µs`)
  await sql.close()
}

async function loginTimes(uri: string): Promise<void> {
  const sql = await openSQLStore({ uri }) // default argon2id parameters
  await sql.accounts.add({ username: 'bench-user', password: 'bench passphrase', roles: ['User'] })
  const app = buildApp(sql, true)
  await login(app)
  const ok: number[] = []
  const wrong: number[] = []
  for (let i = 0; i < LOGINS; i++) {
    let start = performance.now()
    await login(app)
    ok.push(performance.now() - start)
    start = performance.now()
    await app.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username: `nobody-${i}`, password: 'bench passphrase' }),
    })
    wrong.push(performance.now() - start)
  }
  const hashStart = performance.now()
  for (let i = 0; i < 10; i++) await sql.hasher.hash('bench passphrase')
  const hashMs = (performance.now() - hashStart) / 10
  const p = sql.hasher.parameters
  console.log(
    `login (argon2id m=${p.memoryCost} t=${p.timeCost} p=${p.parallelism}): successful ${median(ok).toFixed(1)} ms, unknown user ${median(wrong).toFixed(1)} ms (medians of ${LOGINS}); one hash ${hashMs.toFixed(1)} ms`,
  )
  await sql.close()
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
const postgres = process.argv.includes('--no-postgres') ? undefined : await startPostgres()
try {
  console.log(`session resume per request (${REQUESTS} in-process app.request calls × ${ROUNDS} rounds, medians)`)
  await resumeCosts('SQLite', join(dir, 'bench.db'))
  if (postgres) await resumeCosts('PostgreSQL', await postgres.createDatabase('bench'))
  await loginTimes(join(dir, 'login.db'))
} finally {
  await postgres?.stop()
  rmSync(dir, { recursive: true, force: true })
}

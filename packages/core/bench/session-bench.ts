// Cost of Gatehouse on a request, as ratios to a bare Hono route measured side by side in one run
// (these machines are shared and noisy: only the ratios mean something).
//   pnpm bench            (root) or: tsx --conditions=gatehouse-source packages/core/bench/session-bench.ts
import { Hono } from 'hono'
import { createTestHasher } from '../src/testing.js'
import type { AuthEnv } from '../src/index.js'
import { MemoryUserStore, NOOP_LOGGER, PasswordAuthenticator, Protected, Role, createAuth } from '../src/index.js'

const ROUNDS = 5
const REQUESTS = 4000

async function buildApp(cache: boolean) {
  const store = new MemoryUserStore()
  const hasher = createTestHasher()
  await store.createUser({ username: 'alice', passwordHash: await hasher.hash('alice-password'), roles: ['User'] })
  const auth = createAuth({
    roles: [new Role({ name: 'User' })],
    authenticators: [new PasswordAuthenticator({ id: 'sql', store, hasher })],
    session: { secret: 'b'.repeat(40), secure: false, ...(cache ? {} : { cache: false as const }) },
    store,
    logger: NOOP_LOGGER,
  })
  const app = new Hono<AuthEnv>()
  app.get('/bare', (c) => c.text('ok'))
  app.use('/p/*', auth.middleware())
  app.get('/p/protected', Protected(['User']), (c) => c.text('ok'))
  app.route('/auth', auth.routes())
  const res = await app.request('http://bench.test/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://bench.test' },
    body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
  })
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!
  return { app, cookie }
}

async function timeRequests(app: Hono<AuthEnv>, path: string, cookie?: string): Promise<number> {
  const init = cookie ? { headers: { cookie } } : {}
  const start = process.hrtime.bigint()
  for (let i = 0; i < REQUESTS; i++) {
    const res = await app.request(`http://bench.test${path}`, init)
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`)
  }
  return Number(process.hrtime.bigint() - start) / 1e9
}

const cached = await buildApp(true)
const uncached = await buildApp(false)
const results: Record<string, number[]> = { bare: [], cached: [], uncached: [] }
for (let round = 0; round < ROUNDS; round++) {
  results.bare!.push(await timeRequests(cached.app, '/bare'))
  results.cached!.push(await timeRequests(cached.app, '/p/protected', cached.cookie))
  results.uncached!.push(await timeRequests(uncached.app, '/p/protected', uncached.cookie))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const bare = median(results.bare!)
console.log(`requests per run: ${REQUESTS}, rounds: ${ROUNDS} (in-process app.request, medians)`)
for (const [name, runs] of Object.entries(results)) {
  const seconds = median(runs)
  console.log(`${name.padEnd(9)} ${(REQUESTS / seconds).toFixed(0).padStart(7)} req/s  ${((seconds / REQUESTS) * 1e6).toFixed(1).padStart(7)} µs/req  ratio to bare ${(bare / seconds).toFixed(2)}x`)
}

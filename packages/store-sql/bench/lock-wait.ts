// How long requests wait while another session holds the users table locked, with the default
// deadlines (POSTGRES_DEFAULTS), and how soon service resumes when the lock goes. About 20 s:
//   node_modules/.bin/tsx --conditions=gatehouse-source packages/store-sql/bench/lock-wait.ts
import { NOOP_LOGGER, Protected, Role, createAuth } from '@gatehouse/core'
import type { AuthEnv } from '@gatehouse/core'
import { startPostgres } from '@gatehouse/testkit'
import { Hono } from 'hono'
import pg from 'pg'
import { openSQLStore } from '../src/index.js'

const ORIGIN = 'http://bench.test'
const LOCK_MS = 15_000 // within the 15–20 s of the incident
const CONCURRENT = 30

const server = await startPostgres()
try {
  const url = await server.createDatabase('lockwait')
  const sql = await openSQLStore({ uri: url, hasher: { memoryCost: 1024, timeCost: 1, parallelism: 1, allowWeakParameters: true } })
  await sql.accounts.add({ username: 'bench-user', password: 'bench passphrase' })
  const auth = createAuth({
    roles: [new Role({ name: 'User' })],
    authenticators: [sql.authenticator],
    store: sql.store,
    throttle: sql.throttle,
    session: { secret: 'b'.repeat(40), secure: false, cache: false },
    logger: NOOP_LOGGER,
  })
  const app = new Hono<AuthEnv>()
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  app.get('/any', Protected(), (c) => c.text('ok'))
  const login = (username: string) =>
    app.request(`${ORIGIN}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify({ username, password: 'bench passphrase' }) })
  const cookie = (await login('bench-user')).headers.getSetCookie()[0]!.split(';')[0]!
  const timed = async (work: () => Response | Promise<Response>) => {
    const start = performance.now()
    const res = await work()
    return { status: res.status, ms: Math.round(performance.now() - start) }
  }

  const locker = new pg.Client({ connectionString: url })
  await locker.connect()
  await locker.query('BEGIN')
  await locker.query('LOCK TABLE gatehouse_users IN ACCESS EXCLUSIVE MODE')
  const lockedAt = performance.now()
  console.log('one login while locked:', await timed(() => login('bench-user')))
  console.log('one cookie check while locked:', await timed(() => app.request(`${ORIGIN}/any`, { headers: { cookie } })))
  const burst = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => timed(() => (i % 2 ? login(`user-${i}`) : app.request(`${ORIGIN}/any`, { headers: { cookie } })))))
  const ms = burst.map((b) => b.ms).sort((a, b) => a - b)
  console.log(`${CONCURRENT} at once (pool of 10): statuses`, [...new Set(burst.map((b) => b.status))], 'ms min/median/max', ms[0], ms[Math.floor(ms.length / 2)], ms.at(-1))
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, LOCK_MS - (performance.now() - lockedAt))))
  await locker.query('COMMIT')
  const releasedAt = performance.now()
  const after = await timed(() => app.request(`${ORIGIN}/any`, { headers: { cookie } }))
  console.log('first cookie check after the release:', after, 'done', Math.round(performance.now() - releasedAt), 'ms after COMMIT')
  console.log('login after the release:', await timed(() => login('bench-user')))
  await locker.end()
  auth.close()
  await sql.close()
} finally {
  await server.stop()
}

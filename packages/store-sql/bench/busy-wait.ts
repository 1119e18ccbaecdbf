// What the event loop does while another process holds SQLite's write lock: a second process
// (here a child with @libsql/client, as the auth-user-admin CLI would be) runs `BEGIN IMMEDIATE`
// and keeps it for HOLD_MS; meanwhile this process starts one write (a login: the throttle and
// last-login updates) and, every 50 ms, a protected GET with a cold session cache, while a 10 ms
// timer measures the event loop's lag. Then the same with a lock held past the busy timeout.
// About 15 s:
//   node_modules/.bin/tsx --conditions=gatehouse-source packages/store-sql/bench/busy-wait.ts
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { AuthEnv } from '@gatehouse/core'
import { NOOP_LOGGER, Protected, Role, createAuth } from '@gatehouse/core'
import { Hono } from 'hono'
import { openSQLStore } from '../src/index.js'

const ORIGIN = 'http://bench.test'
const PACKAGE = fileURLToPath(new URL('..', import.meta.url))
const HOLDER = `
import { createClient } from '@libsql/client'
const client = createClient({ url: process.argv[1] })
await client.execute('BEGIN IMMEDIATE')
console.log('locked')
await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2])))
await client.execute('COMMIT')
console.log('released')
client.close()
`

/** Starts the lock holder; resolves once it holds the lock, with a promise of its release. */
async function holdLock(path: string, ms: number): Promise<{ released: Promise<void> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, `file:${path}`, String(ms)], { cwd: PACKAGE, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  if ((await lines.next()).value !== 'locked') throw new Error('the holder did not lock')
  return { released: lines.next().then(() => undefined) }
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-busy-'))
const path = join(dir, 'gatehouse.db')
const sql = await openSQLStore({ uri: `sqlite:${path}`, hasher: { memoryCost: 1024, timeCost: 1, parallelism: 1, allowWeakParameters: true } })
try {
  await sql.accounts.add({ username: 'bench-user', password: 'bench passphrase' })
  const auth = createAuth({ ...sql.authOptions, roles: [new Role({ name: 'User' })], session: { secret: 'b'.repeat(40), secure: false, cache: false }, logger: NOOP_LOGGER })
  const app = new Hono<AuthEnv>()
  auth.mount(app)
  app.get('/any', Protected(), (c) => c.text('ok'))
  const login = () =>
    app.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username: 'bench-user', password: 'bench passphrase' }),
    })
  const cookie = (await login()).headers.getSetCookie()[0]!.split(';')[0]!

  for (const holdMs of [2000, 7000]) {
    const lock = await holdLock(path, holdMs)
    const lockedAt = performance.now()
    let maxLag = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      maxLag = Math.max(maxLag, now - last - 10)
      last = now
    }, 10)
    const gets: number[] = []
    let stop = false
    const getter = (async () => {
      while (!stop) {
        const start = performance.now()
        const res = await app.request(`${ORIGIN}/any`, { headers: { cookie } })
        if (res.status !== 200) throw new Error(`GET answered ${res.status}`)
        gets.push(performance.now() - start)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const writeStart = performance.now()
    const user = await sql.store.getUserByUsername({ username: 'bench-user' }) // a read: the WAL reader
    const write = sql.store.recordLogin({ id: user!.id, at: new Date() }).then(
      () => `ok after ${Math.round(performance.now() - writeStart)} ms`,
      (error: unknown) => `${(error as { code?: string }).code} after ${Math.round(performance.now() - writeStart)} ms`,
    )
    const status = (await login()).status
    const writeMs = performance.now() - writeStart
    const written = await write
    await lock.released
    const releasedAfter = performance.now() - lockedAt
    stop = true
    await getter
    clearInterval(timer)
    gets.sort((a, b) => a - b)
    const ms = (n: number | undefined) => `${Math.round(n ?? NaN)} ms`
    console.log(
      `lock held ${holdMs} ms (released after ${ms(releasedAfter)}): store write ${written}, login ${status} after ${ms(writeMs)}; ` +
        `${gets.length} protected GETs, median ${ms(gets[Math.floor(gets.length / 2)])}, max ${ms(gets.at(-1))}; max timer lag ${ms(maxLag)}`,
    )
  }
  auth.close()
} finally {
  await sql.close()
  rmSync(dir, { recursive: true, force: true })
}

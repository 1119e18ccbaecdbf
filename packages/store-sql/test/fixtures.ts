import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { AuthEnv, CreateAuthOptions } from '@gatehouse/core'
import { NOOP_LOGGER, Protected, Role, createAuth } from '@gatehouse/core'
import { Hono } from 'hono'
import type { Argon2HasherOptions, SQLDatabase, SQLStore, SQLStoreOptions } from '../src/index.js'
import { openSQLStore } from '../src/index.js'

/** argon2id at a cost that keeps the suite fast; the default parameters are tested on their own. */
export const LIGHT_HASHER: Argon2HasherOptions = Object.freeze({ memoryCost: 1024, timeCost: 1, parallelism: 1, allowWeakParameters: true })

export const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
export const ORIGIN = 'http://app.test'

const PACKAGE = fileURLToPath(new URL('..', import.meta.url))
const directories: string[] = []

/** A fresh directory for SQLite files; removed by {@link removeTempDirectories}. */
export function tempDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sql-'))
  directories.push(dir)
  return dir
}

/** `sqlite:` URI of a new file in a fresh directory. */
export function tempSQLiteURI(name = 'gatehouse.db'): string {
  return `sqlite:${join(tempDirectory(), name)}`
}

export function removeTempDirectories(): void {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** openSQLStore with the light hasher. */
export function openTestStore(uri: string, options: Partial<SQLStoreOptions> = {}): Promise<SQLStore> {
  return openSQLStore({ uri, hasher: LIGHT_HASHER, ...options })
}

/** A real Hono app wired with Gatehouse over an SQL store, as a user's app would be. */
export function createSQLApp(sql: SQLStore, overrides: Partial<CreateAuthOptions> = {}) {
  const roles = [new Role({ name: 'Administrator' }), new Role({ name: 'User' })]
  const auth = createAuth({
    roles,
    authenticators: [sql.authenticator],
    session: { secret: SECRET, secure: false },
    store: sql.store,
    throttle: sql.throttle,
    logger: NOOP_LOGGER,
    ...overrides,
  })
  const app = new Hono<AuthEnv>()
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  app.get('/any', Protected(), (c) => c.text(`any ${c.var.user.username}`))
  app.get('/admin', Protected(['Administrator']), (c) => c.text('admin area'))

  /** JSON login; returns the response and the session cookie pair (`name=value`). */
  async function login(username: string, password: string, options: { headers?: Record<string, string>; address?: string } = {}) {
    // @hono/node-server hands the socket to the app in `env.incoming`: the client address core reads.
    const env = options.address === undefined ? undefined : { incoming: { socket: { remoteAddress: options.address } } }
    const res = await app.request(
      `${ORIGIN}/auth/login`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN, ...options.headers },
        body: JSON.stringify({ username, password }),
      },
      env,
    )
    return { res, cookie: sessionCookieOf(res) }
  }
  /** GET with a cookie. */
  function get(path: string, cookie?: string) {
    return app.request(`${ORIGIN}${path}`, cookie === undefined ? {} : { headers: { cookie } })
  }
  return { app, auth, login, get }
}

/** `name=value` of the session cookie a response sets, or undefined. */
export function sessionCookieOf(res: Response): string | undefined {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('gatehouse='))
  return header?.split(';')[0]
}

/** Polls `probe` until it returns true or `timeoutMs` passes; resolves to the elapsed ms (or rejects). */
export async function within(timeoutMs: number, probe: () => Promise<boolean>, intervalMs = 20): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await probe()) return performance.now() - start
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** The stored failure count of a login-throttle key (`u:<name>` / `a:<address>`), read from the table. */
export async function failuresOf(database: SQLDatabase, key: string): Promise<number> {
  const digest = createHash('sha256').update(key).digest('hex')
  const row = await database.kysely.selectFrom('gatehouse_login_throttle').select('failures').where('key', '=', digest).executeTakeFirst()
  return row === undefined ? 0 : Number(row.failures)
}

/** A `gatehouse_users` row for tests that write straight SQL, with no store code in the way. */
export function userRow(id: string, usernameNormalized: string) {
  return {
    id,
    username_normalized: usernameNormalized,
    display_name: null,
    email: null,
    password_hash: 'h',
    disabled: 0,
    session_version: 1,
    created_at: 0,
    updated_at: 0,
    last_login_at: null,
  }
}

const LOCK_HOLDER = `
import { createInterface } from 'node:readline'
import { createClient } from '@libsql/client'
const client = createClient({ url: process.argv[1] })
await client.execute('BEGIN IMMEDIATE')
console.log('locked')
const input = createInterface({ input: process.stdin })
await new Promise((resolve) => input.once('line', resolve))
await client.execute('COMMIT')
client.close()
console.log('released')
input.close()
`

/**
 * Another process that holds the SQLite file's write lock (`BEGIN IMMEDIATE`), as the CLI does
 * while it writes, until `release()` (which resolves once it has committed).
 */
export async function holdWriteLock(uri: string): Promise<{ release(): Promise<void> }> {
  const path = uri.replace(/^sqlite:/, '')
  const child = spawn(process.execPath, ['--input-type=module', '-e', LOCK_HOLDER, `file:${path}`], { cwd: PACKAGE, stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  if ((await lines.next()).value !== 'locked') throw new Error('the lock holder did not get the lock')
  return {
    async release() {
      child.stdin.end('commit\n')
      if ((await lines.next()).value !== 'released') throw new Error('the lock holder did not commit')
      await exited
    },
  }
}

/** Measures how late a 10 ms interval timer fires, from now until `stop()`: the event loop's lag. */
export function watchEventLoop(): { stop(): number } {
  let maxLagMs = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    maxLagMs = Math.max(maxLagMs, now - last - 10)
    last = now
  }, 10)
  return {
    stop() {
      clearInterval(timer)
      return Math.max(maxLagMs, performance.now() - last - 10)
    },
  }
}

import { createServer } from 'node:net'
import { StoreUnavailableError } from '@gatehouse/core'
import type { PostgresServer } from '@gatehouse/testkit'
import { startPostgres } from '@gatehouse/testkit'
import { sql as raw } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SQLDatabase, openSQLStore } from '../src/index.js'
import { LIGHT_HASHER, SECRET, createSQLApp, openTestStore, userRow, within } from './fixtures.js'

// A store outage has its own code in core (not an authenticator's).
const UNAVAILABLE_BODY = { error: { code: 'ERR_STORE_UNAVAILABLE', message: 'Authentication is temporarily unavailable.' } }
const fast = { postgres: { connectTimeoutMs: 1000 } }

// These tests stop and start their own PostgreSQL: the shared one of the other test files stays up.
describe('PostgreSQL faults', () => {
  let server: PostgresServer
  let url: string
  beforeAll(async () => {
    server = await startPostgres()
    url = await server.createDatabase('faults')
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('refuses to open an unreachable server with an error naming the URI without its password', async () => {
    const port = await closedPort()
    const error = await openSQLStore({ uri: `postgres://app:hunter2@127.0.0.1:${port}/auth`, hasher: LIGHT_HASHER, ...fast }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as Error).message).toContain(`postgres://app:***@127.0.0.1:${port}/auth`)
    expect((error as Error).message).not.toContain('hunter2')
  })

  it('answers 503 with a generic body while the server is down, writes nothing, and recovers', async () => {
    const sql = await openTestStore(url, fast)
    // No session cache: every request asks the store.
    const { login, get, auth } = createSQLApp(sql, { session: { secret: SECRET, secure: false, cache: false } })
    await sql.accounts.add({ username: 'mona', password: 'mona passphrase' })
    const { cookie } = await login('mona', 'mona passphrase')
    expect((await get('/any', cookie)).status).toBe(200)

    await server.shutdown({ mode: 'immediate' })
    await expect(sql.store.getUserByUsername({ username: 'mona' })).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(sql.accounts.add({ username: 'ghost', password: 'ghost passphrase' })).rejects.toBeInstanceOf(StoreUnavailableError)
    const down = await login('mona', 'mona passphrase')
    expect(down.res.status).toBe(503)
    expect(await down.res.json()).toEqual(UNAVAILABLE_BODY)
    expect(down.cookie).toBeUndefined()
    const me = await get('/any', cookie)
    expect(me.status).toBe(503)
    expect(await me.json()).toEqual(UNAVAILABLE_BODY)
    // Not counted as failed passwords: the outage is not the user's fault.
    expect((await login('mona', 'mona passphrase')).res.status).toBe(503)

    await server.start()
    await within(10_000, async () => (await login('mona', 'mona passphrase')).res.status === 200, 100)
    expect((await get('/any', cookie)).status).toBe(200)
    expect(await sql.accounts.get({ username: 'ghost' })).toBeNull()
    auth.close()
    await sql.close()
  }, 30_000)

  it('turns a connection dropped mid-transaction into StoreUnavailableError with nothing half-written', async () => {
    const database = await SQLDatabase.open({ uri: url, ...fast })
    const admin = new pg.Client({ connectionString: url })
    admin.on('error', () => {}) // only matters if a failed assertion leaves it open across a restart
    await admin.connect()
    const attempt = database.write(async (trx) => {
      await trx.insertInto('gatehouse_users').values(userRow('22222222-2222-4222-8222-222222222222', 'cut-off')).execute()
      const { rows } = await raw<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid])
      await trx.insertInto('gatehouse_user_roles').values({ user_id: '22222222-2222-4222-8222-222222222222', role: 'User' }).execute()
    })
    await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError)
    // The pool replaced the dead connection; the half-done transaction was rolled back.
    const row = await database.kysely.selectFrom('gatehouse_users').select('id').where('username_normalized', '=', 'cut-off').executeTakeFirst()
    expect(row).toBeUndefined()
    await admin.end()
    await database.close()
  })

  it('never answers 500 when connections are killed under load, and serves again afterwards', async () => {
    // Limits above the burst: twenty parallel logins of one user would otherwise be throttled.
    const sql = await openTestStore(url, { ...fast, throttle: { username: { freeFailures: 1000 } } })
    const { login, get, auth } = createSQLApp(sql, { session: { secret: SECRET, secure: false, cache: false } })
    await sql.accounts.add({ username: 'nora', password: 'nora passphrase' })
    const { cookie } = await login('nora', 'nora passphrase')
    const admin = new pg.Client({ connectionString: url })
    admin.on('error', () => {}) // only matters if a failed assertion leaves it open across a restart
    await admin.connect()
    const statuses = new Set<number>()
    const load = Array.from({ length: 60 }, async (_, i) => {
      const res = i % 3 === 0 ? (await login('nora', 'nora passphrase')).res : await get('/any', cookie)
      statuses.add(res.status)
    })
    const kill = (async () => {
      for (let i = 0; i < 5; i++) {
        await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name = 'gatehouse'`)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    await Promise.all([...load, kill])
    expect([...statuses].filter((status) => status !== 200 && status !== 503)).toEqual([])
    expect((await get('/any', cookie)).status).toBe(200)
    expect((await login('nora', 'nora passphrase')).res.status).toBe(200)
    await admin.end()
    auth.close()
    await sql.close()
  })

  it('reconnects the change listener after a restart, dropping cached sessions, and listens again', async () => {
    const [a, b] = await Promise.all([openTestStore(url, fast), openTestStore(url, fast)])
    const changes: string[] = []
    b.store.subscribe((change) => changes.push(change.type))
    const appB = createSQLApp(b, { session: { secret: SECRET, secure: false, cache: { ttlMs: 60_000 } } })
    await a.accounts.add({ username: 'otto', password: 'otto passphrase' })
    const { cookie } = await appB.login('otto', 'otto passphrase')
    expect((await appB.get('/any', cookie)).status).toBe(200)

    await server.shutdown({ mode: 'fast' })
    await server.start()
    await within(10_000, async () => changes.includes('all'), 50)
    await within(10_000, async () => (await appB.get('/any', cookie)).status === 200, 100)
    await a.accounts.setPassword({ username: 'otto', password: 'otto new passphrase' })
    expect(await within(1000, async () => (await appB.get('/any', cookie)).status === 401, 10)).toBeLessThan(1000)
    appB.auth.close()
    await Promise.all([a.close(), b.close()])
  }, 30_000)
})

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number }
      probe.close(() => resolve(port))
    })
  })
}

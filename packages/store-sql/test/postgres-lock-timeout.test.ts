import { StoreUnavailableError } from '@gatehouse/core'
import { createPostgresDatabase } from '@gatehouse/testkit'
import { sql as raw } from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { SQLStore } from '../src/index.js'
import { SQLDatabase } from '../src/index.js'
import { SECRET, createSQLApp, openTestStore } from './fixtures.js'

// Deadlines of one second keep the test fast; the defaults are measured in the README.
const SHORT = { postgres: { statementTimeoutMs: 1000, lockTimeoutMs: 1000, connectTimeoutMs: 1000 } }
const BOUND_MS = 7000
// The lock is released after this long whatever happens, so a store without deadlines makes the
// assertions fail (they waited for the release) instead of hanging the test run.
const LOCK_HELD_MS = 12_000

describe('PostgreSQL waits have deadlines', () => {
  let url: string
  let sql: SQLStore
  beforeAll(async () => {
    url = await createPostgresDatabase(inject('postgresUrl'))
    sql = await openTestStore(url, SHORT)
    await sql.accounts.add({ username: 'lena', password: 'lena passphrase' })
  })
  afterAll(async () => {
    await sql?.close()
  })

  /** Holds `LOCK TABLE gatehouse_users IN ACCESS EXCLUSIVE MODE` from a session of its own. */
  async function lockUsers(): Promise<{ release(): Promise<void> }> {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query('BEGIN')
    await client.query('LOCK TABLE gatehouse_users IN ACCESS EXCLUSIVE MODE')
    let released: Promise<void> | undefined
    const release = () => (released ??= client.query('COMMIT').then(() => client.end()))
    setTimeout(() => void release(), LOCK_HELD_MS).unref()
    return { release }
  }

  async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: PromiseSettledResult<T> }> {
    const start = performance.now()
    const [result] = await Promise.allSettled([work()])
    return { ms: performance.now() - start, result: result! }
  }

  it('fails lookups, logins and cookie checks with StoreUnavailableError / 503 within the bound while the users table is locked, and recovers when the lock goes', async () => {
    const { login, get, auth } = createSQLApp(sql, { session: { secret: SECRET, secure: false, cache: false } })
    const { cookie } = await login('lena', 'lena passphrase')
    const id = (await sql.accounts.get({ username: 'lena' }))!.id
    expect((await get('/any', cookie)).status).toBe(200)

    const lock = await lockUsers()
    try {
      const lookup = await timed(() => sql.store.getUserById({ id }))
      expect(lookup.result).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) })
      // It waited for the lock (lock_timeout), and not for the lock holder.
      expect(lookup.ms).toBeGreaterThan(800)
      expect(lookup.ms).toBeLessThan(BOUND_MS)

      // More requests than the pool has connections (10): the ones that queue for a connection
      // get it when the first ones give up, or give up themselves; none waits for the lock holder.
      // Logins use distinct names: core allows one login attempt per username at a time.
      const burst = await timed(() =>
        Promise.all(
          Array.from({ length: 24 }, async (_, i) => {
            const start = performance.now()
            const res = i % 2 === 0 ? (await login(`someone-${i}`, 'some passphrase')).res : await get('/any', cookie)
            return { status: res.status, ms: performance.now() - start }
          }),
        ),
      )
      expect(burst.result.status).toBe('fulfilled')
      const answers = (burst.result as PromiseFulfilledResult<Array<{ status: number; ms: number }>>).value
      expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]))
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(BOUND_MS)
    } finally {
      await lock.release()
    }

    // Recovery needs nothing but the lock going away: the very next requests succeed.
    expect(await sql.store.getUserById({ id })).toMatchObject({ username: 'lena' })
    expect((await get('/any', cookie)).status).toBe(200)
    expect((await login('lena', 'lena passphrase')).res.status).toBe(200)
    auth.close()
  }, 30_000)

  it('cancels a statement that runs longer than statementTimeoutMs and answers StoreUnavailableError', async () => {
    const database = await SQLDatabase.open({ uri: url, postgres: { statementTimeoutMs: 300 } })
    try {
      const slow = await timed(() => database.read((db) => raw`select pg_sleep(5)`.execute(db)))
      expect(slow.result).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) })
      expect((slow.result as PromiseRejectedResult).reason.cause).toMatchObject({ code: '57014' })
      expect(slow.ms).toBeLessThan(2000)
      // The connection is usable again at once.
      expect((await database.read((db) => raw<{ one: number }>`select 1 as one`.execute(db))).rows).toEqual([{ one: 1 }])
    } finally {
      await database.close()
    }
  })

  it('sets the documented defaults on every pool connection', async () => {
    const database = await SQLDatabase.open({ uri: url })
    try {
      const { rows } = await database.read((db) =>
        raw<{ statement: string; lock: string }>`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`.execute(db),
      )
      expect(rows).toEqual([{ statement: '5s', lock: '2500ms' }])
    } finally {
      await database.close()
    }
  })

  it("waits for another instance's migration beyond the statement timeout instead of failing to open, and keeps the deadline afterwards", async () => {
    const fresh = await createPostgresDatabase(inject('postgresUrl'))
    // Kysely's migration lock: another instance is migrating this database right now.
    const other = new pg.Client({ connectionString: fresh })
    await other.connect()
    await other.query('select pg_advisory_lock(3853314791062309107)')
    setTimeout(() => void other.query('select pg_advisory_unlock(3853314791062309107)').then(() => other.end()), 1500).unref()
    // One pool connection: the one that migrated is the one every later query gets.
    const database = await SQLDatabase.open({ uri: fresh, postgres: { statementTimeoutMs: 300, lockTimeoutMs: 300, poolSize: 1 } })
    try {
      const start = performance.now()
      expect(await database.migrate()).toEqual(['0001-initial', '0002-provider-sessions'])
      expect(performance.now() - start).toBeGreaterThan(1200)
      const { rows } = await database.read((db) => raw<{ statement: string }>`select current_setting('statement_timeout') as statement`.execute(db))
      expect(rows).toEqual([{ statement: '300ms' }])
      await expect(database.read((db) => raw`select pg_sleep(2)`.execute(db))).rejects.toBeInstanceOf(StoreUnavailableError)
    } finally {
      await database.close()
    }
  })

  it('refuses deadlines that are not positive integers before connecting', async () => {
    for (const postgres of [{ lockTimeoutMs: 0 }, { statementTimeoutMs: -1 }, { connectTimeoutMs: 1.5 }, { statementTimeoutMs: Number.NaN }]) {
      await expect(SQLDatabase.open({ uri: 'postgres://nobody@127.0.0.1:1/none', postgres })).rejects.toBeInstanceOf(TypeError)
    }
  })
})

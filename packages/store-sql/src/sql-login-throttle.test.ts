import { createHash } from 'node:crypto'
import type { KyselyPlugin } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { failuresOf, openTestStore, removeTempDirectories, tempSQLiteURI } from '../test/fixtures.js'
import type { SQLStore } from './open-sql-store.js'
import { SQLDatabase } from './sql-database.js'
import { SQLLoginThrottle } from './sql-login-throttle.js'

const digestOf = (key: string) => createHash('sha256').update(key).digest('hex')

describe('SQLLoginThrottle (SQLite)', () => {
  let uri: string
  let sql: SQLStore
  let database: SQLDatabase
  beforeAll(async () => {
    uri = tempSQLiteURI()
    sql = await openTestStore(uri)
    database = await SQLDatabase.open({ uri })
  })
  afterAll(async () => {
    await database.close()
    await sql.close()
    removeTempDirectories()
  })

  it('counts 50 parallel attempts exactly, in the database, for username and address', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 50 }, address: { freeFailures: 50 } })
    const attempt = { username: 'alice', address: '192.0.2.1' }
    const decisions = await Promise.all(Array.from({ length: 50 }, () => throttle.begin(attempt)))
    expect(decisions.every((d) => d.allowed)).toBe(true)
    expect(await failuresOf(database, 'u:alice')).toBe(50)
    expect(await failuresOf(database, 'a:192.0.2.1')).toBe(50)
    expect(await throttle.begin(attempt)).toEqual({ allowed: true }) // the 51st: 50 were free
    expect(await throttle.begin(attempt)).toMatchObject({ allowed: false })
    expect(await failuresOf(database, 'u:alice')).toBe(51) // a refused attempt is not counted
  })

  it('lets no more of a parallel burst through, across instances, than the limit allows', async () => {
    const other = await SQLDatabase.open({ uri })
    try {
      const a = new SQLLoginThrottle({ database, username: { freeFailures: 5 } })
      const b = new SQLLoginThrottle({ database: other, username: { freeFailures: 5 } })
      const attempt = { username: 'burst', address: undefined }
      const decisions = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).begin(attempt)))
      expect(decisions.filter((d) => d.allowed)).toHaveLength(6)
      expect(await failuresOf(database, 'u:burst')).toBe(6)
    } finally {
      await other.close()
    }
  })

  it('is shared by every instance on the database', async () => {
    const a = sql.throttle
    const b = new SQLLoginThrottle({ database })
    const attempt = { username: 'bob', address: undefined }
    for (let i = 0; i < 5; i++) expect((await a.begin(attempt)).allowed).toBe(true)
    expect(await b.begin(attempt)).toEqual({ allowed: true })
    expect(await a.begin(attempt)).toEqual({ allowed: false, retryAfterSeconds: 1 })
  })

  it('on success resets the user and takes back the address count; an abandoned attempt takes back both', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 2 }, address: { freeFailures: 2 } })
    const attempt = { username: 'carol', address: '198.51.100.7' }
    for (let i = 0; i < 3; i++) await throttle.begin(attempt)
    await throttle.succeeded(attempt)
    expect(await failuresOf(database, 'u:carol')).toBe(0)
    expect(await failuresOf(database, 'a:198.51.100.7')).toBe(2)
    await throttle.begin({ username: 'zed', address: undefined })
    await throttle.abandoned({ username: 'zed', address: undefined })
    expect(await failuresOf(database, 'u:zed')).toBe(0)
    await throttle.abandoned({ username: 'zed', address: undefined })
    expect(await failuresOf(database, 'u:zed')).toBe(0) // never below zero
  })

  it('counts attempts from a trusted device per device, so a throttled username does not lock that browser out', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 2 } })
    const attacker = { username: 'dora', address: undefined }
    const owner = { username: 'dora', address: undefined, device: 'dev-1' }
    for (let i = 0; i < 3; i++) await throttle.begin(attacker)
    expect((await throttle.begin(attacker)).allowed).toBe(false)
    for (let i = 0; i < 3; i++) expect((await throttle.begin(owner)).allowed).toBe(true)
    expect(await failuresOf(database, 'd:dev-1')).toBe(3)
    expect((await throttle.begin(owner)).allowed).toBe(false)
    await throttle.succeeded(owner)
    expect(await failuresOf(database, 'd:dev-1')).toBe(0)
    expect(await failuresOf(database, 'u:dora')).toBe(3)
  })

  it('backs off exponentially up to a cap, never a permanent lock', async () => {
    const attempt = { username: 'dave', address: undefined }
    // Each row: the wait after that many counted failures (the counter is set directly so the
    // test does not have to sleep through the delays). A fresh instance asks each time: one that
    // was just refused repeats that refusal from memory for a moment (see the memo tests below).
    const waits: number[] = []
    for (let failures = 1; failures <= 8; failures++) {
      const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 1, baseDelaySeconds: 2, maxDelaySeconds: 10 } })
      await database.kysely.deleteFrom('gatehouse_login_throttle').where('key', '=', digestOf('u:dave')).execute()
      await database.kysely
        .insertInto('gatehouse_login_throttle')
        .values({ key: digestOf('u:dave'), failures, last_failure_at: Date.now() })
        .execute()
      const decision = await throttle.begin(attempt)
      waits.push(decision.allowed ? 0 : decision.retryAfterSeconds)
    }
    expect(waits).toEqual([0, 2, 4, 8, 10, 10, 10, 10])
  })

  it('starts a new count after a quiet window', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 1, windowSeconds: 1 } })
    const attempt = { username: 'erin', address: undefined }
    await throttle.begin(attempt)
    await throttle.begin(attempt)
    expect((await throttle.begin(attempt)).allowed).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await throttle.begin(attempt)).allowed).toBe(true)
    expect(await failuresOf(database, 'u:erin')).toBe(1)
  })

  describe('refusals in back-off are decided from memory', () => {
    let counted: SQLDatabase
    let queries = 0
    beforeAll(async () => {
      // The same real database, with every query the throttle builds counted by a Kysely plugin
      // on its connection (no mock: the queries still run against the SQLite file).
      counted = await SQLDatabase.open({ uri })
      const counter: KyselyPlugin = { transformQuery: (args) => (queries++, args.node), transformResult: async (args) => args.result }
      Object.defineProperty(counted, 'kysely', { value: counted.kysely.withPlugin(counter) })
    })
    afterAll(() => counted.close())

    it('runs no SQL for guesses refused during a back-off, and the count stays shared', async () => {
      const throttle = new SQLLoginThrottle({ database: counted, username: { freeFailures: 2 } })
      const attempt = { username: 'grace', address: '203.0.113.9' }
      for (let i = 0; i < 3; i++) expect((await throttle.begin(attempt)).allowed).toBe(true)
      expect(await throttle.begin(attempt)).toEqual({ allowed: false, retryAfterSeconds: 1 }) // the database refuses
      const before = queries
      const refusals = await Promise.all(Array.from({ length: 200 }, () => throttle.begin(attempt)))
      expect(refusals.every((d) => !d.allowed && d.retryAfterSeconds === 1)).toBe(true)
      expect(queries).toBe(before)
      // Another instance still decides from the shared count, which the refusals did not change.
      expect((await new SQLLoginThrottle({ database, username: { freeFailures: 2 } }).begin(attempt)).allowed).toBe(false)
      expect(await failuresOf(database, 'u:grace')).toBe(3)
      // Other usernames from another address are not refused by this memory.
      expect((await throttle.begin({ username: 'grace2', address: '203.0.113.10' })).allowed).toBe(true)
    })

    it("asks the database again after refusalMemoMs, one attempt at a time, and so sees another instance's success", async () => {
      const throttle = new SQLLoginThrottle({ database: counted, username: { freeFailures: 1, baseDelaySeconds: 5 }, refusalMemoMs: 100 })
      const attempt = { username: 'heidi', address: undefined }
      await throttle.begin(attempt)
      await throttle.begin(attempt)
      expect((await throttle.begin(attempt)).allowed).toBe(false)
      await new Promise((resolve) => setTimeout(resolve, 150))
      // Past the memo bound, inside the back-off: one attempt asks (a select: SQLite locks no rows,
      // so nothing is inserted first), the others wait on memory.
      const before = queries
      const burst = await Promise.all(Array.from({ length: 20 }, () => throttle.begin(attempt)))
      expect(burst.every((d) => !d.allowed)).toBe(true)
      expect(queries - before).toBe(1)
      // The user logs in on another instance: within the bound this one still refuses, then it asks and lets in.
      await new SQLLoginThrottle({ database }).succeeded(attempt)
      expect((await throttle.begin(attempt)).allowed).toBe(false)
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect(await throttle.begin(attempt)).toEqual({ allowed: true })
    })

    it('forgets a key at once on a local success, and never remembers with refusalMemoMs 0', async () => {
      const throttle = new SQLLoginThrottle({ database: counted, username: { freeFailures: 1 } })
      const attempt = { username: 'ivan', address: undefined }
      await throttle.begin(attempt)
      await throttle.begin(attempt)
      expect((await throttle.begin(attempt)).allowed).toBe(false)
      await throttle.succeeded(attempt)
      expect(await throttle.begin(attempt)).toEqual({ allowed: true })

      const always = new SQLLoginThrottle({ database: counted, username: { freeFailures: 0 }, refusalMemoMs: 0 })
      const other = { username: 'judy', address: undefined }
      await always.begin(other)
      expect((await always.begin(other)).allowed).toBe(false)
      const before = queries
      expect((await always.begin(other)).allowed).toBe(false)
      expect(queries).toBeGreaterThan(before)
      expect(() => new SQLLoginThrottle({ database, refusalMemoMs: -1 })).toThrow(TypeError)
    })
  })

  it('keeps no plain usernames or addresses in the table', async () => {
    const keys = await database.kysely.selectFrom('gatehouse_login_throttle').select('key').execute()
    expect(keys.length).toBeGreaterThan(0)
    for (const { key } of keys) expect(key).toMatch(/^[0-9a-f]{64}$/)
  })

  it('counts in memory while the database is unavailable instead of failing the login', async () => {
    const spare = await SQLDatabase.open({ uri })
    const throttle = new SQLLoginThrottle({ database: spare, username: { freeFailures: 1 } })
    await spare.close()
    const attempt = { username: 'frank', address: undefined }
    expect(await throttle.begin(attempt)).toEqual({ allowed: true })
    expect(await throttle.begin(attempt)).toEqual({ allowed: true })
    expect((await throttle.begin(attempt)).allowed).toBe(false)
  })
})

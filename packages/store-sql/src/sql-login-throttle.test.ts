import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { failuresOf, openTestStore, removeTempDirectories, tempSQLiteURI } from '../test/fixtures.js'
import type { SQLStore } from './open-sql-store.js'
import { SQLDatabase } from './sql-database.js'
import { SQLLoginThrottle } from './sql-login-throttle.js'

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

  it('counts 50 parallel failures exactly, in the database, for username and address', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 50 }, address: { freeFailures: 50 } })
    const attempt = { username: 'alice', address: '192.0.2.1' }
    await Promise.all(Array.from({ length: 50 }, () => throttle.recordFailure(attempt)))
    expect(await failuresOf(database, 'u:alice')).toBe(50)
    expect(await failuresOf(database, 'a:192.0.2.1')).toBe(50)
    expect(await throttle.check(attempt)).toEqual({ allowed: true }) // 50 free
    await throttle.recordFailure(attempt)
    expect(await throttle.check(attempt)).toMatchObject({ allowed: false })
  })

  it('is shared by every instance on the database', async () => {
    const a = sql.throttle
    const b = new SQLLoginThrottle({ database })
    const attempt = { username: 'bob', address: undefined }
    for (let i = 0; i < 5; i++) await a.recordFailure(attempt)
    expect(await b.check(attempt)).toEqual({ allowed: true })
    await b.recordFailure(attempt)
    expect(await a.check(attempt)).toEqual({ allowed: false, retryAfterSeconds: 1 })
  })

  it('resets the username on success, never the address', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 2 }, address: { freeFailures: 2 } })
    const attempt = { username: 'carol', address: '198.51.100.7' }
    for (let i = 0; i < 3; i++) await throttle.recordFailure(attempt)
    expect((await throttle.check(attempt)).allowed).toBe(false)
    await throttle.recordSuccess(attempt)
    expect(await failuresOf(database, 'u:carol')).toBe(0)
    expect(await failuresOf(database, 'a:198.51.100.7')).toBe(3)
    expect((await throttle.check({ username: 'carol', address: undefined })).allowed).toBe(true)
    expect((await throttle.check(attempt)).allowed).toBe(false)
  })

  it('counts attempts from a trusted device per device, so a throttled username does not lock that browser out', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 2 } })
    const attacker = { username: 'dora', address: undefined }
    const owner = { username: 'dora', address: undefined, device: 'dev-1' }
    for (let i = 0; i < 3; i++) await throttle.recordFailure(attacker)
    expect((await throttle.check(attacker)).allowed).toBe(false)
    expect((await throttle.check(owner)).allowed).toBe(true)
    for (let i = 0; i < 3; i++) await throttle.recordFailure(owner)
    expect(await failuresOf(database, 'd:dev-1')).toBe(3)
    expect((await throttle.check(owner)).allowed).toBe(false)
    await throttle.recordSuccess(owner)
    expect(await failuresOf(database, 'd:dev-1')).toBe(0)
    expect(await failuresOf(database, 'u:dora')).toBe(3)
  })

  it('backs off exponentially up to a cap, never a permanent lock', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 1, baseDelaySeconds: 2, maxDelaySeconds: 10 } })
    const attempt = { username: 'dave', address: undefined }
    const waits: number[] = []
    for (let i = 0; i < 8; i++) {
      await throttle.recordFailure(attempt)
      const decision = await throttle.check(attempt)
      waits.push(decision.allowed ? 0 : decision.retryAfterSeconds)
    }
    expect(waits).toEqual([0, 2, 4, 8, 10, 10, 10, 10])
  })

  it('starts a new count after a quiet window', async () => {
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 1, windowSeconds: 1 } })
    const attempt = { username: 'erin', address: undefined }
    await throttle.recordFailure(attempt)
    await throttle.recordFailure(attempt)
    expect((await throttle.check(attempt)).allowed).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect((await throttle.check(attempt)).allowed).toBe(true)
    await throttle.recordFailure(attempt)
    expect(await failuresOf(database, 'u:erin')).toBe(1)
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
    expect(await throttle.check(attempt)).toEqual({ allowed: true })
    await throttle.recordFailure(attempt)
    await throttle.recordFailure(attempt)
    expect((await throttle.check(attempt)).allowed).toBe(false)
  })
})

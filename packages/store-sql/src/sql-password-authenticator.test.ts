import { NOOP_LOGGER, NOOP_METRICS, StoreUnavailableError } from '@gatehouse/core'
import { describeAuthenticator } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSQLApp, openTestStore, removeTempDirectories, tempSQLiteURI } from '../test/fixtures.js'
import type { SQLStore } from './open-sql-store.js'
import { SQLDatabase } from './sql-database.js'
import { SQLLoginThrottle } from './sql-login-throttle.js'
import { SQLPasswordAuthenticator } from './sql-password-authenticator.js'

afterAll(removeTempDirectories)

describeAuthenticator('SQLPasswordAuthenticator', async () => {
  const sql = await openTestStore(tempSQLiteURI())
  await sql.accounts.add({ username: 'Alice', password: 'alice passphrase', roles: ['User', 'Viewer'] })
  return {
    authenticator: sql.authenticator,
    valid: { username: 'alice', password: 'alice passphrase', expectedRoles: ['User', 'Viewer'] },
    unknownUsername: 'nobody',
    unknownUser: 'skipped',
    resumes: true,
    close: () => sql.close(),
  }
})

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('SQL password login through a real createAuth app', () => {
  let sql: SQLStore
  let database: SQLDatabase
  let app: ReturnType<typeof createSQLApp>
  beforeAll(async () => {
    // The default argon2 parameters: the timing test is about them.
    const uri = tempSQLiteURI()
    sql = await openTestStore(uri, { hasher: {} })
    database = await SQLDatabase.open({ uri })
    const throttle = new SQLLoginThrottle({ database, username: { freeFailures: 10_000 }, address: { freeFailures: 10_000 } })
    app = createSQLApp(sql, { throttle })
    await sql.accounts.add({ username: 'wendy', password: 'wendy passphrase' })
    await sql.accounts.add({ username: 'dora', password: 'dora passphrase' })
    await sql.accounts.setDisabled({ username: 'dora', disabled: true })
  })
  afterAll(async () => {
    await database.close()
    await sql.close()
  })

  it('answers unknown, wrong-password and disabled users alike: status, body and time', async () => {
    const cases = {
      unknown: () => app.login('nobody-here', 'wendy passphrase'),
      wrong: () => app.login('wendy', 'not the passphrase'),
      disabled: () => app.login('dora', 'dora passphrase'),
    }
    await cases.unknown() // the first unknown login makes the dummy hash
    const times: Record<keyof typeof cases, number[]> = { unknown: [], wrong: [], disabled: [] }
    const bodies = new Set<string>()
    // Counted, not only timed: each attempt pays exactly one argon2 verify, whoever it names.
    const hasher = sql.hasher
    const { verify } = hasher
    let verifies = 0
    hasher.verify = (args) => (verifies++, verify.call(hasher, args))
    try {
      for (let round = 0; round < 7; round++) {
        for (const [name, attempt] of Object.entries(cases) as Array<[keyof typeof cases, () => ReturnType<typeof app.login>]>) {
          const before = verifies
          const start = performance.now()
          const { res, cookie } = await attempt()
          times[name].push(performance.now() - start)
          expect(verifies - before, name).toBe(1)
          expect(res.status).toBe(401)
          expect(cookie).toBeUndefined()
          bodies.add(await res.text())
        }
      }
    } finally {
      hasher.verify = verify
    }
    expect([...bodies]).toEqual(['{"error":{"code":"ERR_INVALID_CREDENTIALS","message":"Invalid username or password."}}'])
    const medians = Object.values(times).map(median)
    // Each pays one argon2 verify at m=19456 t=2 (~25-30 ms); without the dummy verify an
    // unknown user would answer in about a millisecond. The bound is loose: parallel test files
    // on a busy machine spread the medians, the verify count above is the exact check.
    expect(Math.max(...medians) / Math.min(...medians)).toBeLessThan(5)
    expect(Math.min(...medians)).toBeGreaterThan(10)
  })

  it('logs a valid user in, and refuses a 1 MiB password before any hashing', async () => {
    expect((await app.login('wendy', 'wendy passphrase')).res.status).toBe(200)
    const huge = 'x'.repeat(1 << 20)
    // Count the argon2 work instead of timing it: the refusal must come before any hashing.
    const hasher = sql.hasher
    const { verify, hash } = hasher
    let hashing = 0
    hasher.verify = (args) => (hashing++, verify.call(hasher, args))
    hasher.hash = (password) => (hashing++, hash.call(hasher, password))
    try {
      const { res } = await app.login('wendy', huge)
      expect(res.status).toBe(413)
      const direct = await sql.authenticator.authenticate({ credentials: { username: 'wendy', password: huge }, request: new Request('http://app.test/') })
      expect(direct).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
      expect(hashing).toBe(0)
    } finally {
      hasher.verify = verify
      hasher.hash = hash
    }
  })

  it('answers a corrupt stored hash with a plain 401, never a 500', async () => {
    await sql.accounts.add({ username: 'carl', password: 'carl passphrase' })
    const carl = (await sql.accounts.get({ username: 'carl' }))!
    for (const broken of ['garbage', carl.passwordHash!.slice(0, 30), '$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g']) {
      await sql.store.setPassword({ id: carl.id, passwordHash: broken })
      const { res } = await app.login('carl', 'carl passphrase')
      expect(res.status).toBe(401)
      expect(await res.json()).toEqual({ error: { code: 'ERR_INVALID_CREDENTIALS', message: 'Invalid username or password.' } })
    }
  })
})

describe('the time of a login is written while the answer goes out', () => {
  let sql: SQLStore
  beforeAll(async () => {
    sql = await openTestStore(tempSQLiteURI())
    await sql.accounts.add({ username: 'olga', password: 'olga passphrase' })
  })
  afterAll(async () => {
    await sql.close()
  })

  /** The real store, its recordLogin held until `release()` (or failing). */
  function holdingStore(fail = false) {
    let release = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const store = new Proxy(sql.store, {
      get(target, property) {
        if (property === 'recordLogin')
          return async (args: { id: string; at: Date }) => {
            await gate
            if (fail) throw new StoreUnavailableError('users table locked')
            await target.recordLogin(args)
          }
        const value: unknown = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    return { store, release }
  }

  it('authenticates before the write has finished, writes it, and close() waits for it', async () => {
    const { store, release } = holdingStore()
    const authenticator = new SQLPasswordAuthenticator({ store, hasher: sql.hasher })
    const result = await authenticator.authenticate({ credentials: { username: 'olga', password: 'olga passphrase' }, request: new Request('http://app.test/') })
    expect(result.outcome).toBe('authenticated')
    let closed = false
    const closing = authenticator.close().then(() => {
      closed = true
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(closed).toBe(false)
    release()
    await closing
    expect((await sql.store.getUserByUsername({ username: 'olga' }))?.lastLoginAt).toBeInstanceOf(Date)
  })

  it('logs a login time that could not be written; the login stands', async () => {
    const { store, release } = holdingStore(true)
    const authenticator = new SQLPasswordAuthenticator({ store, hasher: sql.hasher })
    const warnings: string[] = []
    authenticator.attach({ logger: { ...NOOP_LOGGER, warn: (_fields, message) => void warnings.push(message) }, metrics: NOOP_METRICS })
    const result = await authenticator.authenticate({ credentials: { username: 'olga', password: 'olga passphrase' }, request: new Request('http://app.test/') })
    expect(result.outcome).toBe('authenticated')
    release()
    await authenticator.close()
    expect(warnings).toEqual(['the time of a login could not be recorded'])
  })
})

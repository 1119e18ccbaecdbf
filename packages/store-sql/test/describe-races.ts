import type { StoredUser, UserStore } from '@gatehouse/core'
import { AuthError, UserExistsError } from '@gatehouse/core'
import { sql as raw } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SQLStore } from '../src/index.js'
import { Argon2Hasher, SQLDatabase, SQLLoginThrottle, SQLPasswordAuthenticator } from '../src/index.js'
import { LIGHT_HASHER, createSQLApp, failuresOf, openTestStore, userRow } from './fixtures.js'

const STRONGER = { ...LIGHT_HASHER, memoryCost: 2048 }
const request = () => new Request('http://app.test/auth/login', { method: 'POST' })

/**
 * The concurrency and integrity promises of the store, run on each database: every test uses
 * two store instances (two pools or two SQLite connections sets) on one database, as two app
 * processes would.
 */
export function describeRaces(name: string, newDatabaseURI: () => Promise<string>): void {
  describe(`races and integrity: ${name}`, () => {
    let uri: string
    let a: SQLStore
    let b: SQLStore
    let database: SQLDatabase
    beforeAll(async () => {
      uri = await newDatabaseURI()
      ;[a, b] = await Promise.all([openTestStore(uri), openTestStore(uri)])
      database = await SQLDatabase.open({ uri })
    })
    afterAll(async () => {
      await Promise.all([a?.close(), b?.close(), database?.close()])
    })

    it('lets exactly one of 20 creates of one name win across two instances', async () => {
      const spellings = ['Mallory', 'mallory', 'MALLORY', 'ｍａｌｌｏｒｙ', ' mallory ']
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).store.createUser({ username: spellings[i % spellings.length]!, passwordHash: `h${i}` })))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ERR_USER_EXISTS' })
      expect(results.every((r) => r.status === 'fulfilled' || r.reason instanceof UserExistsError)).toBe(true)
      expect(await a.accounts.count()).toBe(1)
    })

    it('has the database itself refuse a second row with a taken normalized name', async () => {
      const row = (id: string) => userRow(id, 'dup-check')
      await database.kysely.insertInto('gatehouse_users').values(row('33333333-3333-4333-8333-333333333333')).execute()
      // Straight SQL, no store code in the way: the UNIQUE index is what says no.
      await expect(database.kysely.insertInto('gatehouse_users').values(row('44444444-4444-4444-8444-444444444444')).execute()).rejects.toThrow(/unique|UNIQUE/)
      await database.kysely.deleteFrom('gatehouse_users').where('username_normalized', '=', 'dup-check').execute()
    })

    it('counts 50 parallel failed logins through two apps exactly, and a success resets the username', async () => {
      await a.accounts.add({ username: 'trent', password: 'trent passphrase' })
      const throttle = { username: { freeFailures: 1000 }, address: { freeFailures: 1000 } }
      const appA = createSQLApp(a, { throttle: new SQLLoginThrottle({ database, ...throttle }) })
      const appB = createSQLApp(b, { throttle: new SQLLoginThrottle({ database, ...throttle }) })
      const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? appA : appB).login('Trent', `wrong-${i}`, { address: '203.0.113.9' })))
      expect(responses.map(({ res }) => res.status)).toEqual(Array(50).fill(401))
      expect(await failuresOf(database, 'u:trent')).toBe(50)
      expect(await failuresOf(database, 'a:203.0.113.9')).toBe(50)
      const ok = await appB.login('trent', 'trent passphrase', { address: '203.0.113.9' })
      expect(ok.res.status).toBe(200)
      // A success is settled with the throttle while its answer goes out; close() waits for it.
      await appB.auth.close()
      expect(await failuresOf(database, 'u:trent')).toBe(0)
      expect(await failuresOf(database, 'a:203.0.113.9')).toBe(50)
    })

    it('lets no more of a parallel guessing burst through two apps than the limit allows', async () => {
      await a.accounts.add({ username: 'wanda', password: 'wanda passphrase' })
      const throttle = { username: { freeFailures: 4 } }
      const appA = createSQLApp(a, { throttle: new SQLLoginThrottle({ database, ...throttle }) })
      const appB = createSQLApp(b, { throttle: new SQLLoginThrottle({ database, ...throttle }) })
      const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? appA : appB).login('wanda', `guess-${i}`)))
      const statuses = responses.map(({ res }) => res.status)
      expect(statuses.filter((status) => status === 401)).toHaveLength(5)
      expect(statuses.filter((status) => status === 429)).toHaveLength(25)
      expect(await failuresOf(database, 'u:wanda')).toBe(5)
    })

    it('rehashes at login when the parameters rise, without ending sessions', async () => {
      await a.accounts.add({ username: 'peggy', password: 'peggy passphrase' })
      const before = (await a.accounts.get({ username: 'peggy' }))!
      const stronger = new Argon2Hasher(STRONGER)
      expect(stronger.needsRehash(before.passwordHash!)).toBe(true)
      const authenticator = new SQLPasswordAuthenticator({ store: b.store, hasher: stronger })
      const result = await authenticator.authenticate({ credentials: { username: 'peggy', password: 'peggy passphrase' }, request: request() })
      expect(result.outcome).toBe('authenticated')
      const after = (await a.accounts.get({ username: 'peggy' }))!
      expect(after.passwordHash).toMatch(/^\$argon2id\$v=19\$m=2048,t=1,p=1\$/)
      expect(stronger.needsRehash(after.passwordHash!)).toBe(false)
      expect(after.sessionVersion).toBe(before.sessionVersion)
      expect(await stronger.verify({ hash: after.passwordHash!, password: 'peggy passphrase' })).toBe(true)
    })

    it('lets a set-password that lands between verify and rehash win (compare-and-swap)', async () => {
      await a.accounts.add({ username: 'victor', password: 'victor old passphrase' })
      // The store the login uses runs an admin's set-password (through the other instance) right
      // before its rehash write: the worst interleaving, made deterministic.
      let casResult: boolean | undefined
      const store = b.store
      const racingStore: UserStore = {
        getUserById: (args) => store.getUserById(args),
        getUserByUsername: (args) => store.getUserByUsername(args),
        createUser: (user) => store.createUser(user),
        setPassword: (args) => store.setPassword(args),
        setRoles: (args) => store.setRoles(args),
        setDisabled: (args) => store.setDisabled(args),
        endSessions: (args) => store.endSessions(args),
        deleteUser: (args) => store.deleteUser(args),
        recordLogin: (args) => store.recordLogin(args),
        listUsers: (args) => store.listUsers(args),
        async replacePasswordHash(args) {
          await a.accounts.setPassword({ username: 'victor', password: 'victor new passphrase' })
          casResult = await store.replacePasswordHash(args)
          return casResult
        },
      }
      const authenticator = new SQLPasswordAuthenticator({ store: racingStore, hasher: new Argon2Hasher(STRONGER) })
      const result = await authenticator.authenticate({ credentials: { username: 'victor', password: 'victor old passphrase' }, request: request() })
      expect(result.outcome).toBe('authenticated')
      expect(casResult).toBe(false)
      const stored = (await a.accounts.get({ username: 'victor' }))!
      expect(await a.hasher.verify({ hash: stored.passwordHash!, password: 'victor new passphrase' })).toBe(true)
      expect(await a.hasher.verify({ hash: stored.passwordHash!, password: 'victor old passphrase' })).toBe(false)
    })

    it('keeps the set-password in every round of a free-running login vs set-password race', async () => {
      const rehashing = new SQLPasswordAuthenticator({ store: b.store, hasher: new Argon2Hasher(STRONGER) })
      for (let round = 0; round < 8; round++) {
        const username = `race-${round}`
        await a.accounts.add({ username, password: 'the old passphrase' })
        const chosen = `the new passphrase ${round}`
        await Promise.all([rehashing.authenticate({ credentials: { username, password: 'the old passphrase' }, request: request() }), a.accounts.setPassword({ username, password: chosen })])
        const stored: StoredUser = (await a.accounts.get({ username }))!
        expect(await a.hasher.verify({ hash: stored.passwordHash!, password: chosen })).toBe(true)
      }
    })

    it('migrates a fresh database from two instances at once', async () => {
      const fresh = await newDatabaseURI()
      const stores = await Promise.all([openTestStore(fresh), openTestStore(fresh)])
      for (const store of stores) expect(await store.schemaStatus()).toEqual({ current: true, applied: ['0001-initial', '0002-provider-sessions'], pending: [], unknown: [] })
      await Promise.all(stores.map((store) => store.migrate()))
      await Promise.all(stores.map((store) => store.close()))
    })

    it('refuses to run against a newer schema', async () => {
      const fresh = await newDatabaseURI()
      const first = await openTestStore(fresh)
      await first.close()
      const admin = await SQLDatabase.open({ uri: fresh })
      await raw`insert into gatehouse_migration (name, timestamp) values ('2999-next-major', ${new Date().toISOString()})`.execute(admin.kysely)
      await admin.close()
      const error = await openTestStore(fresh).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AuthError)
      expect((error as AuthError).code).toBe('ERR_MISCONFIGURED')
      expect((error as Error).message).toMatch(/newer schema.*2999-next-major/)
    })

    it('rolls a failed write transaction back completely and keeps serving writes', async () => {
      const failed = database.write(async (trx) => {
        await trx.insertInto('gatehouse_users').values(userRow('11111111-1111-4111-8111-111111111111', 'half-written')).execute()
        await trx.insertInto('gatehouse_user_roles').values({ user_id: '11111111-1111-4111-8111-111111111111', role: 'User' }).execute()
        throw new Error('crash between two statements')
      })
      await expect(failed).rejects.toThrow('crash between two statements')
      expect(await b.store.getUserByUsername({ username: 'half-written' })).toBeNull()
      const roles = await database.kysely.selectFrom('gatehouse_user_roles').select('role').where('user_id', '=', '11111111-1111-4111-8111-111111111111').execute()
      expect(roles).toEqual([])
      await expect(a.accounts.add({ username: 'after-the-crash', password: 'violet cormorant' })).resolves.toMatchObject({ username: 'after-the-crash' })
    })
  })
}

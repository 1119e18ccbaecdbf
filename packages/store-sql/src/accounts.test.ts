import type { PasswordHasher } from '@gatehouse/core'
import { UserExistsError, UserNotFoundError, WeakPasswordError } from '@gatehouse/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LIGHT_HASHER, openTestStore, removeTempDirectories, tempSQLiteURI } from '../test/fixtures.js'
import { Accounts } from './accounts.js'
import { Argon2Hasher } from './argon2-hasher.js'
import type { SQLStore } from './open-sql-store.js'

describe('Accounts (SQLite)', () => {
  let sql: SQLStore
  let accounts: Accounts
  beforeAll(async () => {
    sql = await openTestStore(tempSQLiteURI())
    accounts = sql.accounts
  })
  afterAll(async () => {
    await sql.close()
    removeTempDirectories()
  })

  it('adds an account with a hashed password, refusing taken names', async () => {
    const user = await accounts.add({ username: 'Ada', password: 'analytical engine', roles: ['User'], displayName: 'Ada L.', email: 'ada@example.org' })
    expect(user).toMatchObject({ username: 'ada', roles: ['User'], displayName: 'Ada L.', email: 'ada@example.org', disabled: false })
    expect(user.passwordHash).toMatch(/^\$argon2id\$/)
    expect(await sql.hasher.verify({ hash: user.passwordHash!, password: 'analytical engine' })).toBe(true)
    await expect(accounts.add({ username: 'ADA', password: 'another passphrase' })).rejects.toBeInstanceOf(UserExistsError)
    await expect(accounts.add({ username: '   ', password: 'another passphrase' })).rejects.toThrow(TypeError)
    await expect(accounts.add({ username: 'n'.repeat(257), password: 'another passphrase' })).rejects.toThrow(TypeError)
  })

  it('applies the password policy before hashing', async () => {
    const hashed: string[] = []
    const counting: PasswordHasher = {
      hash: (password) => (hashed.push(password), sql.hasher.hash(password)),
      verify: (args) => sql.hasher.verify(args),
      needsRehash: (hash) => sql.hasher.needsRehash(hash),
    }
    const strict = new Accounts({ store: sql.store, hasher: counting, passwordPolicy: { minLength: 15, blocklist: ['acme anvil dynamite'] } })
    for (const password of ['short', 'password123', 'Acme Anvil Dynamite', 'grace-hopper-1906', 'x'.repeat(1 << 20)]) {
      await expect(strict.add({ username: 'grace-hopper-1906', password })).rejects.toBeInstanceOf(WeakPasswordError)
    }
    expect(hashed).toEqual([])
    const error = await strict.add({ username: 'grace', password: 'x'.repeat(1 << 20) }).catch((e: unknown) => e)
    expect((error as WeakPasswordError).problems).toEqual(['longer than 1024 bytes'])
    await expect(strict.add({ username: 'grace', password: 'compilers all the way down' })).resolves.toMatchObject({ username: 'grace' })
  })

  it("refuses common passwords and their variants, the username and the application's name on add and set-password, before hashing", async () => {
    const named = await openTestStore(tempSQLiteURI(), { passwordPolicy: { contextWords: ['Acme Notes'] } })
    try {
      const refusals: Array<[string, string]> = [
        ['Password1!', 'a commonly used password with a few characters added'],
        ['password', 'a commonly used password'],
        ['Margot-Ferrand', 'the same as the username'],
        ['AcmeNotes2025!', 'based on the name of this service'],
      ]
      for (const [password, problem] of refusals) {
        const error = await named.accounts.add({ username: 'margot-ferrand', password }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(WeakPasswordError)
        expect((error as WeakPasswordError).problems).toEqual([problem])
      }
      expect(await named.accounts.count()).toBe(0)
      await named.accounts.add({ username: 'margot-ferrand', password: 'tidepools under a violet sky' })
      await expect(named.accounts.setPassword({ username: 'margot-ferrand', password: 'Password1!' })).rejects.toBeInstanceOf(WeakPasswordError)
      await expect(named.accounts.setPassword({ username: 'margot-ferrand', password: 'acme notes' })).rejects.toBeInstanceOf(WeakPasswordError)
      expect(named.accounts.checkPassword('margot ferrand 2024', 'Margot-Ferrand')).toEqual(['the username with a few characters added'])
    } finally {
      await named.close()
    }
  })

  it('sets a password, ending sessions, and reports unknown users', async () => {
    const before = (await accounts.get({ username: 'ada' }))!
    const after = await accounts.setPassword({ username: 'ADA', password: 'difference engine' })
    expect(after.sessionVersion).toBeGreaterThan(before.sessionVersion)
    expect(await sql.hasher.verify({ hash: after.passwordHash!, password: 'difference engine' })).toBe(true)
    await expect(accounts.setPassword({ username: 'nobody', password: 'difference engine' })).rejects.toBeInstanceOf(UserNotFoundError)
    await expect(accounts.setPassword({ username: 'ada', password: 'short' })).rejects.toBeInstanceOf(WeakPasswordError)
  })

  it('ends every session of a user without changing the account, and reports unknown users', async () => {
    const before = (await accounts.get({ username: 'ada' }))!
    const after = await accounts.endSessions({ username: 'Ada' })
    expect(after.sessionVersion).toBe(before.sessionVersion + 1)
    expect(after).toMatchObject({ username: 'ada', passwordHash: before.passwordHash, roles: before.roles, disabled: false })
    expect((await accounts.get({ username: 'ada' }))!.sessionVersion).toBe(after.sessionVersion)
    await expect(accounts.endSessions({ username: 'nobody' })).rejects.toBeInstanceOf(UserNotFoundError)
  })

  it('adds and removes roles, each one transaction without lost updates', async () => {
    await accounts.add({ username: 'linus', password: 'penguins everywhere', roles: ['User'] })
    // Twenty concurrent read-modify-write edits of one user: every added role survives.
    await Promise.all(Array.from({ length: 20 }, (_, i) => accounts.addRoles({ username: 'linus', roles: [`r${String(i).padStart(2, '0')}`] })))
    const user = (await accounts.get({ username: 'linus' }))!
    expect(user.roles).toHaveLength(21)
    const unchanged = await accounts.addRoles({ username: 'linus', roles: ['User'] })
    expect(unchanged.sessionVersion).toBe(user.sessionVersion) // nothing added, sessions kept
    const removed = await accounts.removeRoles({ username: 'linus', roles: ['User', 'r00', 'absent'] })
    expect(removed.roles).not.toContain('User')
    expect(removed.roles).toHaveLength(19)
    expect(removed.sessionVersion).toBeGreaterThan(user.sessionVersion)
    expect((await accounts.setRoles({ username: 'linus', roles: ['Administrator'] })).roles).toEqual(['Administrator'])
    await expect(accounts.addRoles({ username: 'nobody', roles: ['User'] })).rejects.toBeInstanceOf(UserNotFoundError)
  })

  it('disables, enables and deletes', async () => {
    expect((await accounts.setDisabled({ username: 'linus', disabled: true })).disabled).toBe(true)
    expect((await accounts.setDisabled({ username: 'linus', disabled: false })).disabled).toBe(false)
    await accounts.delete({ username: 'linus' })
    expect(await accounts.get({ username: 'linus' })).toBeNull()
    await expect(accounts.delete({ username: 'linus' })).rejects.toBeInstanceOf(UserNotFoundError)
  })

  it('counts and streams every account page by page in name order', async () => {
    const hasher = new Argon2Hasher(LIGHT_HASHER)
    const hash = await hasher.hash('shared test password')
    for (let i = 0; i < 23; i++) await sql.store.createUser({ username: `bulk-${String(i).padStart(2, '0')}`, passwordHash: hash })
    const total = await accounts.count()
    expect(total).toBe(25) // ada, grace and 23 bulk users
    const seen: string[] = []
    for await (const user of accounts.list({ pageSize: 4 })) seen.push(user.username)
    expect(seen).toHaveLength(total)
    expect(seen).toEqual([...seen].sort())
    expect(new Set(seen).size).toBe(total)
  })
})

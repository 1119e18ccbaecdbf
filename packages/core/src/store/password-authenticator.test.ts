import { createTestHasher } from '../testing.js'
import { describe, expect, it } from 'vitest'
import { AuthenticatorUnavailableError, StoreUnavailableError } from '../errors.js'
import type { PasswordHasher } from './user-store.js'
import { MemoryUserStore } from './memory-user-store.js'
import { PasswordAuthenticator } from './password-authenticator.js'

const request = new Request('http://app.test/auth/login', { method: 'POST' })

/** A hasher that counts its calls, around the test hasher. */
function countingHasher(inner: PasswordHasher) {
  const calls = { hash: 0, verify: 0 }
  const hasher: PasswordHasher = {
    hash: (password) => (calls.hash++, inner.hash(password)),
    verify: (args) => (calls.verify++, inner.verify(args)),
    needsRehash: (hash) => inner.needsRehash(hash),
  }
  return { hasher, calls }
}

describe('PasswordAuthenticator', () => {
  it('pays one verify for unknown, disabled and wrong-password users alike', async () => {
    const store = new MemoryUserStore()
    const { hasher, calls } = countingHasher(createTestHasher())
    const alice = await store.createUser({ username: 'alice', passwordHash: await hasher.hash('alice-password') })
    await store.createUser({ username: 'dis', passwordHash: await hasher.hash('dis-password'), disabled: true })
    const auth = new PasswordAuthenticator({ store, hasher })
    void alice
    for (const [credentials, outcome] of [
      [{ username: 'nobody', password: 'x' }, 'skipped'],
      [{ username: 'alice', password: 'wrong' }, 'rejected'],
      [{ username: 'dis', password: 'dis-password' }, 'rejected'],
    ] as const) {
      const before = calls.verify
      const result = await auth.authenticate({ credentials, request })
      expect(result.outcome).toBe(outcome)
      expect(calls.verify - before).toBe(1)
    }
  })

  it('rehashes on login when the parameters rose, and a racing set-password wins', async () => {
    const store = new MemoryUserStore()
    const weak = createTestHasher({ cost: 16 })
    const strong = createTestHasher({ cost: 32 })
    const user = await store.createUser({ username: 'alice', passwordHash: await weak.hash('alice-password') })
    const auth = new PasswordAuthenticator({ store, hasher: strong })
    expect((await auth.authenticate({ credentials: { username: 'alice', password: 'alice-password' }, request })).outcome).toBe('authenticated')
    const rehashed = (await store.getUserById({ id: user.id }))!
    expect(strong.needsRehash(rehashed.passwordHash!)).toBe(false)
    expect(rehashed.sessionVersion).toBe(user.sessionVersion)

    // Race: set-password lands between the login's read and its rehash write.
    const other = await store.createUser({ username: 'bob', passwordHash: await weak.hash('bob-password') })
    let rehashes = 0
    const racing: PasswordHasher = {
      ...strong,
      verify: strong.verify,
      needsRehash: strong.needsRehash,
      hash: async (password) => {
        // Only the rehash of bob's login races (the authenticator also hashes a dummy at startup).
        if (password === 'bob-password') {
          rehashes++
          await store.setPassword({ id: other.id, passwordHash: await strong.hash('admin-chose-this') })
        }
        return strong.hash(password)
      },
    }
    const racingAuth = new PasswordAuthenticator({ store, hasher: racing })
    const result = await racingAuth.authenticate({ credentials: { username: 'bob', password: 'bob-password' }, request })
    // The login itself succeeds (its password was right when it was checked) and did try to rehash...
    expect(result.outcome).toBe('authenticated')
    expect(rehashes).toBe(1)
    // ...but the administrator's new password wins: the old one no longer works.
    const bob = (await store.getUserById({ id: other.id }))!
    expect(await strong.verify({ hash: bob.passwordHash!, password: 'admin-chose-this' })).toBe(true)
    expect(await strong.verify({ hash: bob.passwordHash!, password: 'bob-password' })).toBe(false)
  })

  it('turns a store outage into AuthenticatorUnavailableError', async () => {
    const store = new MemoryUserStore()
    store.getUserByUsername = async () => {
      throw new StoreUnavailableError('down', { cause: new Error('ECONNREFUSED') })
    }
    const auth = new PasswordAuthenticator({ id: 'sql', store, hasher: createTestHasher() })
    await expect(auth.authenticate({ credentials: { username: 'a', password: 'b' }, request })).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
  })

  it('resumes only while the session version matches and the account is enabled', async () => {
    const store = new MemoryUserStore()
    const hasher = createTestHasher()
    const user = await store.createUser({ username: 'alice', passwordHash: await hasher.hash('pw-pw-pw-pw') })
    const auth = new PasswordAuthenticator({ id: 'sql', store, hasher })
    const principal = { source: 'sql', id: user.id, version: user.sessionVersion, user: { username: 'alice', roles: [] }, authenticatedAt: Date.now() }
    expect(await auth.resume({ principal })).toMatchObject({ id: user.id, source: 'sql' })
    await store.setRoles({ id: user.id, roles: ['User'] })
    expect(await auth.resume({ principal })).toBeNull()
  })
})

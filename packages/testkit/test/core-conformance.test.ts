// Core's own store and authenticator run the conformance suites here, so core does not depend on
// the testkit that depends on it.
import { MemoryRevocationList, MemoryUserStore, PasswordAuthenticator } from '@gatehouse/core'
import { createTestHasher } from '@gatehouse/core/testing'
import { describeAuthenticator, describeUserStore } from '../src/index.js'

describeUserStore('MemoryUserStore', async () => ({ store: new MemoryUserStore(), revocations: new MemoryRevocationList(), providerSessions: true, reportsChanges: true, close: async () => {} }))

describeAuthenticator('PasswordAuthenticator over MemoryUserStore', async () => {
  const store = new MemoryUserStore()
  const hasher = createTestHasher()
  await store.createUser({ username: 'alice', passwordHash: await hasher.hash('alice-password'), roles: ['User'] })
  return {
    authenticator: new PasswordAuthenticator({ id: 'sql', store, hasher }),
    valid: { username: 'Alice', password: 'alice-password', expectedRoles: ['User'] },
    unknownUsername: 'nobody',
    unknownUser: 'skipped',
    resumes: true,
    close: async () => {},
  }
})

import type { RevocationList, UserChange, UserStore } from '@gatehouse/core'
import { UserExistsError } from '@gatehouse/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

/** What a store's test file gives {@link describeUserStore}. */
export interface UserStoreFixture {
  readonly store: UserStore
  /** The store's revocation list (often the store itself), for the revocation cases. */
  readonly revocations?: RevocationList
  /**
   * Declares that `revocations` ends provider sessions (`revokeProviderSessions`). A store that
   * declares it runs those cases and fails when the method is missing; a store that does not
   * declare it fails when it has the method anyway, so no case passes without being run.
   */
  readonly providerSessions?: boolean
  /**
   * Declares that the store reports changes (`subscribe`). A store that declares it runs the
   * change cases and fails when `subscribe` is missing; a store that does not declare it fails
   * when it has `subscribe` anyway, so no case passes without being run.
   */
  readonly reportsChanges?: boolean
  /** Releases connections and files. */
  close(): Promise<void>
}

/**
 * The conformance suite every {@link UserStore} runs: the contract written on the interface.
 * `create` is called before every case and must return a new, empty store (a fresh file or
 * database, say); `close` is called after it. So no case sees another's users, and one failure
 * cannot make the next cases fail. Cases that do not apply to the fixture (no revocation list,
 * no provider sessions) are reported as skipped, not passed.
 *
 * @example
 * ```ts
 * describeUserStore('MemoryUserStore', async () => ({ store: new MemoryUserStore(), reportsChanges: true, close: async () => {} }))
 * ```
 */
export function describeUserStore(name: string, create: () => Promise<UserStoreFixture>): void {
  describe(`UserStore conformance: ${name}`, () => {
    let fixture: UserStoreFixture
    let store: UserStore
    let open: UserStoreFixture | undefined
    beforeEach(async () => {
      fixture = open = await create()
      store = fixture.store
    })
    afterEach(async () => {
      const closing = open
      open = undefined
      await closing?.close()
    })

    it('starts empty', async () => {
      expect(await store.listUsers({ limit: 10 })).toEqual([])
      expect(await store.getUserByUsername({ username: 'alice' })).toBeNull()
    })

    it('creates a user and finds it by id and by any spelling of its name', async () => {
      const created = await store.createUser({ username: 'Alice', passwordHash: 'h1', roles: ['User', 'Viewer'], displayName: 'Alice A.', email: 'alice@example.org' })
      expect(created.username).toBe('alice')
      expect(created.disabled).toBe(false)
      expect([...created.roles].sort()).toEqual(['User', 'Viewer'])
      expect(created.lastLoginAt).toBeNull()
      expect((await store.getUserById({ id: created.id }))?.username).toBe('alice')
      for (const spelling of ['alice', 'ALICE', 'ａｌｉｃｅ', ' Alice ']) {
        expect((await store.getUserByUsername({ username: spelling }))?.id).toBe(created.id)
      }
      expect((await store.getUserByUsername({ username: 'alice' }))?.displayName).toBe('Alice A.')
    })

    it('returns null for absent users, never throws', async () => {
      expect(await store.getUserByUsername({ username: 'nobody' })).toBeNull()
      expect(await store.getUserByUsername({ username: 'alice\u0000' })).toBeNull()
      expect(await store.getUserByUsername({ username: '\u001b[31malice' })).toBeNull()
      expect(await store.getUserById({ id: '00000000-0000-4000-8000-000000000000' })).toBeNull()
      expect(await store.setPassword({ id: '00000000-0000-4000-8000-000000000000', passwordHash: 'x' })).toBeNull()
      expect(await store.setRoles({ id: '00000000-0000-4000-8000-000000000000', roles: [] })).toBeNull()
      expect(await store.setDisabled({ id: '00000000-0000-4000-8000-000000000000', disabled: true })).toBeNull()
      expect(await store.endSessions({ id: '00000000-0000-4000-8000-000000000000' })).toBeNull()
      expect(await store.deleteUser({ id: '00000000-0000-4000-8000-000000000000' })).toBe(false)
    })

    it('refuses names with control characters', async () => {
      await expect(store.createUser({ username: 'mallory\u0000', passwordHash: 'h' })).rejects.toBeInstanceOf(TypeError)
      await expect(store.createUser({ username: 'mal\nlory', passwordHash: 'h' })).rejects.toBeInstanceOf(TypeError)
    })

    it('refuses a second user whose name normalizes to a taken one', async () => {
      await store.createUser({ username: 'bob', passwordHash: 'h' })
      await expect(store.createUser({ username: 'BOB', passwordHash: 'h' })).rejects.toBeInstanceOf(UserExistsError)
      await expect(store.createUser({ username: 'ｂｏｂ', passwordHash: 'h' })).rejects.toMatchObject({ code: 'ERR_USER_EXISTS' })
    })

    it('lets exactly one of several racing creates of one name win', async () => {
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.createUser({ username: i % 2 ? 'Racer' : 'racer', passwordHash: `h${i}` })))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UserExistsError)
    })

    it('bumps the session version on set-password, role change and disable, not on enable-less reads', async () => {
      const user = await store.createUser({ username: 'carol', passwordHash: 'old' })
      const v0 = user.sessionVersion
      const afterPassword = await store.setPassword({ id: user.id, passwordHash: 'new' })
      expect(afterPassword?.passwordHash).toBe('new')
      expect(afterPassword!.sessionVersion).toBeGreaterThan(v0)
      const afterRoles = await store.setRoles({ id: user.id, roles: ['Administrator'] })
      expect(afterRoles?.roles).toEqual(['Administrator'])
      expect(afterRoles!.sessionVersion).toBeGreaterThan(afterPassword!.sessionVersion)
      const afterDisable = await store.setDisabled({ id: user.id, disabled: true })
      expect(afterDisable?.disabled).toBe(true)
      expect(afterDisable!.sessionVersion).toBeGreaterThan(afterRoles!.sessionVersion)
      expect((await store.getUserById({ id: user.id }))?.sessionVersion).toBe(afterDisable!.sessionVersion)
      const enabled = await store.setDisabled({ id: user.id, disabled: false })
      expect(enabled?.disabled).toBe(false)
    })

    it('ends every session of a user with endSessions ("sign out everywhere"), changing nothing else', async () => {
      const user = await store.createUser({ username: 'hugo', passwordHash: 'h', roles: ['User'], displayName: 'Hugo H.' })
      const ended = await store.endSessions({ id: user.id })
      expect(ended).toMatchObject({ id: user.id, username: 'hugo', passwordHash: 'h', roles: ['User'], displayName: 'Hugo H.', disabled: false })
      expect(ended!.sessionVersion).toBeGreaterThan(user.sessionVersion)
      expect((await store.getUserById({ id: user.id }))?.sessionVersion).toBe(ended!.sessionVersion)
      // Two at once are two atomic bumps: neither is lost.
      const [first, second] = await Promise.all([store.endSessions({ id: user.id }), store.endSessions({ id: user.id })])
      expect(first!.sessionVersion).not.toBe(second!.sessionVersion)
      expect(Math.min(first!.sessionVersion, second!.sessionVersion)).toBeGreaterThan(ended!.sessionVersion)
      expect((await store.getUserById({ id: user.id }))?.sessionVersion).toBe(Math.max(first!.sessionVersion, second!.sessionVersion))
      expect(await store.endSessions({ id: '00000000-0000-4000-8000-000000000000' })).toBeNull()
    })

    it('replaces a hash only when it still holds the expected one, without ending sessions', async () => {
      const user = await store.createUser({ username: 'dave', passwordHash: 'weak' })
      expect(await store.replacePasswordHash({ id: user.id, expected: 'weak', passwordHash: 'strong' })).toBe(true)
      const after = await store.getUserById({ id: user.id })
      expect(after?.passwordHash).toBe('strong')
      expect(after?.sessionVersion).toBe(user.sessionVersion)
      // A set-password landed between read and rehash: the stale rehash must lose.
      await store.setPassword({ id: user.id, passwordHash: 'chosen-by-admin' })
      expect(await store.replacePasswordHash({ id: user.id, expected: 'strong', passwordHash: 'rehash-of-old' })).toBe(false)
      expect((await store.getUserById({ id: user.id }))?.passwordHash).toBe('chosen-by-admin')
    })

    it('records the last login', async () => {
      const user = await store.createUser({ username: 'erin', passwordHash: 'h' })
      const at = new Date(Math.floor(Date.now() / 1000) * 1000)
      await store.recordLogin({ id: user.id, at })
      expect((await store.getUserById({ id: user.id }))?.lastLoginAt?.getTime()).toBe(at.getTime())
    })

    it('deletes users and frees their name', async () => {
      const user = await store.createUser({ username: 'frank', passwordHash: 'h' })
      expect(await store.deleteUser({ id: user.id })).toBe(true)
      expect(await store.getUserById({ id: user.id })).toBeNull()
      expect(await store.getUserByUsername({ username: 'frank' })).toBeNull()
      expect(await store.deleteUser({ id: user.id })).toBe(false)
      const again = await store.createUser({ username: 'Frank', passwordHash: 'h' })
      expect(again.id).not.toBe(user.id)
    })

    it('lists users in pages, ordered by name, without gaps or repeats', async () => {
      for (const name of ['zed', 'Bob', 'yan', 'alice', 'xia', 'wim', 'ｃａｒｏｌ']) await store.createUser({ username: name, passwordHash: 'h' })
      const all: string[] = []
      let after: string | undefined
      for (;;) {
        const page = await store.listUsers({ after, limit: 3 })
        all.push(...page.map((user) => user.username))
        if (page.length < 3) break
        after = page.at(-1)!.username
      }
      expect(all).toEqual(['alice', 'bob', 'carol', 'wim', 'xia', 'yan', 'zed'])
      expect(await store.listUsers({ after: 'xia', limit: 10 })).toMatchObject([{ username: 'yan' }, { username: 'zed' }])
    })

    it('has subscribe exactly when the fixture declares reportsChanges', () => {
      if (fixture.reportsChanges === true) expect(typeof store.subscribe, 'the fixture declares reportsChanges but the store has no subscribe').toBe('function')
      else expect(store.subscribe, 'the store has subscribe: declare reportsChanges: true in the fixture').toBeUndefined()
    })

    it('reports changes that end sessions to subscribers', async ({ skip }) => {
      if (fixture.reportsChanges !== true) return skip('the fixture does not declare reportsChanges')
      const changes: UserChange[] = []
      const stop = store.subscribe!((change) => changes.push(change))
      const user = await store.createUser({ username: 'gina', passwordHash: 'h' })
      await store.endSessions({ id: user.id })
      await expect.poll(() => changes.some((c) => c.type === 'all' || (c.type === 'user' && c.id === user.id))).toBe(true)
      changes.length = 0
      await store.setPassword({ id: user.id, passwordHash: 'h2' })
      await store.deleteUser({ id: user.id })
      await expect.poll(() => changes.filter((c) => c.type === 'all' || (c.type === 'user' && c.id === user.id)).length).toBeGreaterThanOrEqual(2)
      stop()
    })

    describe('revocation list', () => {
      const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
      let list: RevocationList
      let revokeProviderSessions: NonNullable<RevocationList['revokeProviderSessions']>
      /**
       * Revocation cases need a list, provider cases a list that declares them (see
       * UserStoreFixture); the others are skipped, which the report shows.
       */
      const providerList = (skip: (note?: string) => never): void => {
        if (fixture.revocations === undefined) skip('the fixture has no revocation list')
        if (fixture.providerSessions !== true) skip('the fixture does not declare providerSessions')
        list = fixture.revocations
        revokeProviderSessions = list.revokeProviderSessions!.bind(list)
      }
      const later = () => new Date(Date.now() + 3_600_000)

      it('has revokeProviderSessions exactly when the fixture declares providerSessions', ({ skip }) => {
        if (fixture.revocations === undefined) return skip('the fixture has no revocation list')
        const method = fixture.revocations.revokeProviderSessions
        if (fixture.providerSessions === true) expect(typeof method, 'the fixture declares providerSessions but the list has no revokeProviderSessions').toBe('function')
        else expect(method, 'the list has revokeProviderSessions: declare providerSessions: true in the fixture').toBeUndefined()
      })

      it('ends one session by id, and only that one', async ({ skip }) => {
        if (fixture.revocations === undefined) return skip('the fixture has no revocation list')
        list = fixture.revocations
        await list.revoke({ sessionId: 'session-logged-out', expiresAt: later() })
        expect(await list.isRevoked({ sessionId: 'session-logged-out' })).toBe(true)
        expect(await list.isRevoked({ sessionId: 'session-still-open' })).toBe(false)
      })

      it('ends the sessions of a provider session issued before the revocation, not later ones, not other sessions or sources', async ({ skip }) => {
        providerList(skip)
        const before = new Date(Date.now() - 60_000)
        await revokeProviderSessions({ source: 'oidc', providerSessionId: 'sid-1', expiresAt: later() })
        const after = new Date(Date.now() + 60_000)
        expect(await list.isRevoked({ sessionId: 's1', source: 'oidc', providerSessionId: 'sid-1', subject: 'sub-1', issuedAt: before })).toBe(true)
        expect(await list.isRevoked({ sessionId: 's2', source: 'oidc', providerSessionId: 'sid-1', subject: 'sub-1', issuedAt: after })).toBe(false)
        expect(await list.isRevoked({ sessionId: 's3', source: 'oidc', providerSessionId: 'sid-2', subject: 'sub-1', issuedAt: before })).toBe(false)
        expect(await list.isRevoked({ sessionId: 's4', source: 'other-idp', providerSessionId: 'sid-1', issuedAt: before })).toBe(false)
        // The session id alone says nothing about the provider session.
        expect(await list.isRevoked({ sessionId: 's1' })).toBe(false)
        // A logout of the Gatehouse session still counts, whatever the provider says.
        await list.revoke({ sessionId: 's2', expiresAt: later() })
        expect(await list.isRevoked({ sessionId: 's2', source: 'oidc', providerSessionId: 'sid-1', issuedAt: after })).toBe(true)
      })

      it('ends every earlier session of a provider subject', async ({ skip }) => {
        providerList(skip)
        const before = new Date(Date.now() - 60_000)
        await revokeProviderSessions({ source: 'oidc', subject: 'sub-gone', expiresAt: later() })
        expect(await list.isRevoked({ sessionId: 's5', source: 'oidc', providerSessionId: 'sid-a', subject: 'sub-gone', issuedAt: before })).toBe(true)
        expect(await list.isRevoked({ sessionId: 's6', source: 'oidc', subject: 'sub-gone', issuedAt: before })).toBe(true)
        expect(await list.isRevoked({ sessionId: 's7', source: 'oidc', subject: 'sub-gone', issuedAt: new Date(Date.now() + 60_000) })).toBe(false)
        expect(await list.isRevoked({ sessionId: 's8', source: 'oidc', subject: 'sub-stays', issuedAt: before })).toBe(false)
      })

      it('moves the revocation forward when the same provider session is ended again', async ({ skip }) => {
        providerList(skip)
        await revokeProviderSessions({ source: 'oidc', providerSessionId: 'sid-again', expiresAt: later() })
        await sleep(10)
        const between = new Date()
        await sleep(10)
        expect(await list.isRevoked({ sessionId: 's9', source: 'oidc', providerSessionId: 'sid-again', issuedAt: between })).toBe(false)
        await revokeProviderSessions({ source: 'oidc', providerSessionId: 'sid-again', expiresAt: later() })
        expect(await list.isRevoked({ sessionId: 's9', source: 'oidc', providerSessionId: 'sid-again', issuedAt: between })).toBe(true)
      })

      it('reports a provider-session change to subscribers', async ({ skip }) => {
        providerList(skip)
        // A list without subscribers of its own (in memory) has nothing to report to other processes.
        if (list.subscribe === undefined) return skip('the revocation list has no subscribe')
        const changes: UserChange[] = []
        const stop = list.subscribe((change) => changes.push(change))
        await revokeProviderSessions({ source: 'oidc', providerSessionId: 'sid-told', subject: 'sub-told', expiresAt: later() })
        await expect
          .poll(() => changes.some((c) => c.type === 'all' || (c.type === 'provider-session' && c.source === 'oidc' && c.providerSessionId === 'sid-told' && c.subject === 'sub-told')))
          .toBe(true)
        stop()
      })
    })
  })
}

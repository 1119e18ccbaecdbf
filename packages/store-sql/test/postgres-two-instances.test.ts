import type { UserChange } from '@gatehouse/core'
import { createPostgresDatabase } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { SQLStore } from '../src/index.js'
import { ORIGIN, SECRET, createSQLApp, openTestStore, within } from './fixtures.js'

// A session cache TTL of a minute: a refusal within a second can only come from LISTEN/NOTIFY.
const session = { secret: SECRET, secure: false, cache: { ttlMs: 60_000 } }

describe('two app instances on one PostgreSQL', () => {
  let a: SQLStore
  let b: SQLStore
  let appA: ReturnType<typeof createSQLApp>
  let appB: ReturnType<typeof createSQLApp>
  beforeAll(async () => {
    const url = await createPostgresDatabase(inject('postgresUrl'))
    ;[a, b] = await Promise.all([openTestStore(url), openTestStore(url)])
    appA = createSQLApp(a, { session })
    appB = createSQLApp(b, { session })
  })
  afterAll(async () => {
    appA?.auth.close()
    appB?.auth.close()
    await Promise.all([a?.close(), b?.close()])
  })

  /** Logs in through app A and warms both apps' session caches with the cookie. */
  async function loggedIn(username: string, roles: string[] = ['User']): Promise<string> {
    await a.accounts.add({ username, password: `${username} passphrase`, roles })
    const { res, cookie } = await appA.login(username, `${username} passphrase`)
    expect(res.status).toBe(200)
    for (const app of [appA, appB]) expect((await app.get('/any', cookie)).status).toBe(200)
    return cookie!
  }

  it("refuses the old cookie in app B within a second of a set-password through app A's store", async () => {
    const cookie = await loggedIn('ursula')
    const start = performance.now()
    await a.accounts.setPassword({ username: 'ursula', password: 'a brand new passphrase' })
    const elapsed = await within(1000, async () => (await appB.get('/any', cookie)).status === 401, 10)
    expect(elapsed).toBeLessThan(1000)
    expect(performance.now() - start).toBeLessThan(1000)
    expect((await appA.get('/any', cookie)).status).toBe(401)
  })

  it('ends sessions everywhere on delete, disable and role change', async () => {
    const deleted = await loggedIn('walter')
    const disabled = await loggedIn('xena')
    const demoted = await loggedIn('yusuf', ['Administrator'])
    expect((await appB.get('/admin', demoted)).status).toBe(200)
    await a.accounts.delete({ username: 'walter' })
    await a.accounts.setDisabled({ username: 'xena', disabled: true })
    await a.accounts.removeRoles({ username: 'yusuf', roles: ['Administrator'] })
    await within(1000, async () => (await appB.get('/any', deleted)).status === 401)
    await within(1000, async () => (await appB.get('/any', disabled)).status === 401)
    // The session version moved: the demoted user's old cookie is refused outright.
    await within(1000, async () => (await appB.get('/admin', demoted)).status === 401)
  })

  it("announces a provider-session revocation in instance A to instance B's subscribers within a second, and B's list refuses the sessions", async () => {
    const seen: Array<{ change: UserChange; at: number }> = []
    const stop = b.store.subscribe((change) => seen.push({ change, at: performance.now() }))
    const issuedAt = new Date(Date.now() - 60_000)
    const handle = { sessionId: 'gatehouse-session-1', source: 'oidc', providerSessionId: 'kc-sid-42', subject: 'kc-sub-7', issuedAt }
    expect(await b.store.isRevoked(handle)).toBe(false)
    const start = performance.now()
    await a.store.revokeProviderSessions({ source: 'oidc', providerSessionId: 'kc-sid-42', expiresAt: new Date(Date.now() + 3_600_000) })
    await within(1000, async () => seen.length > 0, 5)
    stop()
    // The change itself travelled, not a "drop everything".
    expect(seen.map((entry) => entry.change)).toEqual([{ type: 'provider-session', source: 'oidc', providerSessionId: 'kc-sid-42' }])
    expect(seen[0]!.at - start).toBeLessThan(1000)
    expect(await b.store.isRevoked(handle)).toBe(true)
    // A NUL (which PostgreSQL refuses in text) in a handle is "not revoked", not a store error.
    expect(await b.store.isRevoked({ ...handle, providerSessionId: 'kc\u0000sid', subject: 'other' })).toBe(false)
  })

  it('shares logout: a cookie logged out in app A is refused by app B', async () => {
    const cookie = await loggedIn('zoe')
    const out = await appA.app.request(`${ORIGIN}/auth/logout`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/json' } })
    expect(out.status).toBe(204)
    await within(1000, async () => (await appB.get('/any', cookie)).status === 401)
    // Replayed against a fresh instance with an empty cache: refused from the table, not the cache.
    const fresh = createSQLApp(b, { session })
    expect((await fresh.get('/any', cookie)).status).toBe(401)
    fresh.auth.close()
  })
})

import { AuthenticatorUnavailableError } from '@gatehouse/core'
import type { SlapdServer } from '@gatehouse/testkit'
import { principalOf, startSlapd } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { LDAPAuthenticatorOptions } from '../src/index.js'
import { LDAPAuthenticator } from '../src/index.js'
import { closedPort, createChainApp, hungListener, login, recordingLogger, searchOptions, tcpProxy } from './helpers.js'

const ldap = inject('ldap')
const alice = ldap.users.alice!

async function expectUnavailableWithin(maxMs: number, attempt: () => Promise<unknown>) {
  const started = performance.now()
  const error = await attempt().then(
    () => null,
    (e: unknown) => e,
  )
  const elapsed = performance.now() - started
  expect(error).toBeInstanceOf(AuthenticatorUnavailableError)
  expect(elapsed).toBeLessThan(maxMs)
  return error as AuthenticatorUnavailableError
}

describe('LDAP server stopped', () => {
  // This suite stops its server: it runs its own, never the shared one.
  let slapd: SlapdServer
  let authenticator: LDAPAuthenticator
  beforeAll(async () => {
    slapd = await startSlapd()
    authenticator = new LDAPAuthenticator(searchOptions(slapd, { revalidateAfterSeconds: 0 }))
  })
  afterAll(async () => {
    await authenticator?.close()
    await slapd?.stop()
  })

  it('is unavailable while the server is down, and works again when it is back', async () => {
    const before = await login(authenticator, 'alice', slapd.users.alice!.password)
    expect(before.outcome).toBe('authenticated')
    if (before.outcome !== 'authenticated') return
    await slapd.halt()
    const error = await expectUnavailableWithin(2000, () => login(authenticator, 'alice', slapd.users.alice!.password))
    expect(error.authenticator).toBe('ldap')
    expect(error.cause).toBeDefined()
    // Sessions cannot be re-validated either: unavailable, not "user gone".
    await expectUnavailableWithin(2000, () => authenticator.resume({ principal: principalOf(before.user, Date.now() - 1000) }))
    await slapd.restart()
    expect((await login(authenticator, 'alice', slapd.users.alice!.password)).outcome).toBe('authenticated')
  })

  it('lets the next authenticator (SQL) log its users in; the LDAP user gets 503, and no failed attempt is counted', async () => {
    const stopped = await startSlapd()
    const down = new LDAPAuthenticator(searchOptions(stopped))
    await stopped.stop()
    const { postLogin, store, hasher, auth } = await createChainApp(down)
    await store.createUser({ username: 'sqluser', passwordHash: await hasher.hash('sql-password-1'), roles: ['User'] })
    try {
      const sql = await postLogin('sqluser', 'sql-password-1')
      expect(sql.res.status).toBe(200)
      expect(sql.body?.user).toMatchObject({ username: 'sqluser', source: 'sql' })
      for (let i = 0; i < 8; i++) {
        const ldapUser = await postLogin('alice', alice.password)
        expect(ldapUser.res.status).toBe(503)
        expect(ldapUser.body?.error?.code).toBe('ERR_AUTHENTICATOR_UNAVAILABLE')
      }
      // More than the free failures went by: had they counted, alice would now be throttled.
      expect(await auth.throttle.begin({ username: 'alice', address: undefined })).toEqual({ allowed: true })
      expect(auth.authenticators.unavailableCounts().get('ldap')).toBe(8)
    } finally {
      await down.close()
    }
  })
})

describe('LDAP server that never answers', () => {
  let hung: Awaited<ReturnType<typeof hungListener>>
  beforeAll(async () => {
    hung = await hungListener()
  })
  afterAll(() => hung?.close())
  const bounded = { timeoutMs: 300, connectTimeoutMs: 300 }

  it.each<[string, () => Partial<LDAPAuthenticatorOptions>]>([
    ['a plain bind', () => ({ url: `ldap://127.0.0.1:${hung.port}` })],
    ['an LDAPS handshake', () => ({ url: `ldaps://127.0.0.1:${hung.port}`, tls: { ca: ldap.caPEM } })],
    ['a StartTLS request', () => ({ url: `ldap://127.0.0.1:${hung.port}`, tls: { ca: ldap.caPEM, startTLS: true } })],
    ['a direct bind', () => ({ url: `ldap://127.0.0.1:${hung.port}`, bindDN: undefined, bindPassword: undefined, userDNTemplate: `uid={username},${ldap.peopleDN}` })],
  ])('ends %s as unavailable within the timeout bound', async (_, overrides) => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { ...bounded, ...overrides() }))
    try {
      const error = await expectUnavailableWithin(1500, () => login(authenticator, 'alice', alice.password))
      expect(error.message).toMatch(/timed out/)
    } finally {
      await authenticator.close()
    }
  })

  it('is bounded inside a real app too: 503 in bounded time while SQL users still log in', async () => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { ...bounded, url: `ldap://127.0.0.1:${hung.port}` }))
    const { postLogin, store, hasher } = await createChainApp(authenticator)
    await store.createUser({ username: 'sqluser', passwordHash: await hasher.hash('sql-password-1'), roles: ['User'] })
    try {
      const started = performance.now()
      const [ldapUser, sqlUser] = await Promise.all([postLogin('alice', alice.password), postLogin('sqluser', 'sql-password-1')])
      expect(ldapUser.res.status).toBe(503)
      expect(sqlUser.res.status).toBe(200)
      expect(performance.now() - started).toBeLessThan(1500)
    } finally {
      await authenticator.close()
    }
  })
})

describe('LDAP connection failures', () => {
  it('is unavailable at once when the connection is refused', async () => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { url: `ldap://127.0.0.1:${await closedPort()}` }))
    const error = await expectUnavailableWithin(1000, () => login(authenticator, 'alice', alice.password))
    expect(error.message).toMatch(/ECONNREFUSED/)
    await authenticator.close()
  })

  it('fails over to the next URL when one cannot be reached', async () => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { url: [`ldap://127.0.0.1:${await closedPort()}`, ldap.url] }))
    expect((await login(authenticator, 'alice', alice.password)).outcome).toBe('authenticated')
    await authenticator.close()
  })

  it('treats a refused service account as unavailable (never as a wrong password) and logs it', async () => {
    const { lines, logger } = recordingLogger()
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { bindPassword: 'not-the-service-password', logger }))
    await expectUnavailableWithin(2000, () => login(authenticator, 'alice', alice.password))
    expect(lines).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringMatching(/service account bind failed/) }))
    expect(JSON.stringify(lines)).not.toContain('not-the-service-password')
    await authenticator.close()
  })

  it('reuses its connections instead of one handshake per login', async () => {
    const proxy = await tcpProxy(ldap.port)
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { url: proxy.url }))
    try {
      for (let i = 0; i < 10; i++) expect((await login(authenticator, 'bob', ldap.users.bob!.password)).outcome).toBe('authenticated')
      // One service connection (searches) and one bind connection, both kept.
      expect(proxy.accepted).toBe(2)
      await Promise.all(Array.from({ length: 6 }, () => login(authenticator, 'bob', ldap.users.bob!.password)))
      const afterBurst = proxy.accepted
      expect(afterBurst).toBeLessThanOrEqual(2 + 6)
      for (let i = 0; i < 5; i++) await login(authenticator, 'bob', ldap.users.bob!.password)
      expect(proxy.accepted).toBe(afterBurst)
    } finally {
      await authenticator.close()
      await proxy.close()
    }
  })

  it('caps the bind connections open at once; further logins wait their turn', async () => {
    const proxy = await tcpProxy(ldap.port)
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { url: proxy.url, maxConnections: 2, maxIdleConnections: 2 }))
    try {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => login(authenticator, 'bob', i % 2 ? ldap.users.bob!.password : 'wrong')))
      expect(results.filter((r) => r.outcome === 'authenticated')).toHaveLength(6)
      expect(results.filter((r) => r.outcome === 'rejected')).toHaveLength(6)
      expect(proxy.accepted).toBeLessThanOrEqual(1 + 2)
    } finally {
      await authenticator.close()
      await proxy.close()
    }
  })

  it('replaces connections the server closed, without failing a login', async () => {
    const proxy = await tcpProxy(ldap.port)
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { url: proxy.url, tls: { ca: ldap.caPEM, startTLS: true } }))
    try {
      expect((await login(authenticator, 'alice', alice.password)).outcome).toBe('authenticated')
      proxy.cutAll()
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect((await login(authenticator, 'alice', alice.password)).outcome).toBe('authenticated')
      expect(await login(authenticator, 'alice', 'wrong')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
      expect(proxy.accepted).toBe(4)
      // Cut while the next login is already under way: the requests in flight are retried once.
      proxy.cutAll()
      expect((await login(authenticator, 'alice', alice.password)).outcome).toBe('authenticated')
      expect(proxy.accepted).toBe(6)
    } finally {
      await authenticator.close()
      await proxy.close()
    }
  })
})

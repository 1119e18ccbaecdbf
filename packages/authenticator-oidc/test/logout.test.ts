import type { JWTPayload } from 'jose'
import { SignJWT, generateKeyPair, importJWK } from 'jose'
import { MemoryRevocationList, NOOP_LOGGER, createAuth } from '@gatehouse/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { OIDCAuthenticator } from '../src/index.js'
import type { BrowserFixture } from './browser-helpers.js'
import { CookieJar, browserFixture, location, loginThroughProvider } from './browser-helpers.js'
import { accessClaims, bearer, sign } from './helpers.js'

let fixture: BrowserFixture
beforeAll(async () => {
  fixture = await browserFixture()
})
afterAll(() => fixture.close())

const EVENT = 'http://schemas.openid.net/event/backchannel-logout'

function logoutClaims(overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    iss: fixture.provider.issuer,
    aud: fixture.provider.clients.gatehouse.clientId,
    iat: Math.floor(Date.now() / 1000),
    jti: crypto.randomUUID(),
    sub: fixture.provider.users.carol.sub,
    events: { [EVENT]: {} },
    ...overrides,
  }
}

async function logoutToken(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const key = fixture.provider.signingKey
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: key.kid, ...header }).sign(await importJWK(key, 'RS256'))
}

const postLogout = (token: string, type = 'application/x-www-form-urlencoded') =>
  fetch(`${fixture.appURL}/auth/oidc/backchannel-logout`, { method: 'POST', headers: { 'content-type': type }, body: new URLSearchParams({ logout_token: token }).toString() })

async function carolSession({ afterLogout = false } = {}): Promise<CookieJar> {
  // Access tokens carry iat in whole seconds: one issued in the second of a subject-wide logout
  // counts as issued before it (refused). A new login right after one waits for the next second.
  if (afterLogout) await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5))
  const jar = new CookieJar()
  const { callback } = await loginThroughProvider(jar, fixture, { username: 'carol', password: fixture.provider.users.carol.password })
  expect(callback.status).toBe(303)
  expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(200)
  return jar
}

describe('back-channel logout', () => {
  test('RP-initiated logout at the provider ends the other sessions of that provider session (back-channel)', async () => {
    const providerJar = new CookieJar()
    const first = new CookieJar()
    const second = new CookieJar()
    for (const jar of [first, second]) {
      const { callback } = await loginThroughProvider(jar, fixture, { username: 'alice', password: fixture.provider.users.alice.password }, { providerJar })
      expect(callback.status).toBe(303)
      expect((await jar.fetch(`${fixture.appURL}/admin`)).status).toBe(200)
    }
    // The logout form of the first browser: local session ended, then off to the provider.
    const page = await (await first.fetch(`${fixture.appURL}/auth/login`)).text()
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!
    const logout = await first.fetch(`${fixture.appURL}/auth/logout`, { method: 'POST', headers: { origin: fixture.appURL }, body: new URLSearchParams({ csrf }) })
    expect(logout.status).toBe(303)
    const endSession = new URL(location(logout, fixture.appURL))
    expect(endSession.origin + endSession.pathname).toBe(`${fixture.provider.issuer}/protocol/openid-connect/logout`)
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${fixture.appURL}/bye`)
    expect((await first.fetch(`${fixture.appURL}/admin`)).status).toBe(401)
    // The second browser's session lives until the provider says its session ended.
    expect((await second.fetch(`${fixture.appURL}/admin`)).status).toBe(200)
    const confirm = await providerJar.fetch(endSession.href)
    const html = await confirm.text()
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!
    const before = fixture.provider.count('/protocol/openid-connect/logout/confirm')
    const done = await providerJar.fetch(new URL(action, endSession).href, { method: 'POST', body: new URLSearchParams({ xsrf, logout: 'yes' }) })
    expect(fixture.provider.count('/protocol/openid-connect/logout/confirm')).toBe(before + 1)
    expect(done.status).toBe(303)
    expect(location(done, endSession.href)).toBe(`${fixture.appURL}/bye`)
    expect(fixture.provider.backchannelLogouts.at(-1)).toMatchObject({ ok: true })
    expect(fixture.logs.some((line) => line.message === 'back-channel logout')).toBe(true)
    expect((await second.fetch(`${fixture.appURL}/admin`)).status).toBe(401)
    expect((await second.fetch(`${fixture.appURL}/auth/me`)).status).toBe(401)
  })

  test('after a restart, the first logout of an old session still goes to the provider', async () => {
    const fresh = new OIDCAuthenticator({
      issuer: fixture.provider.issuer,
      clientId: fixture.provider.clients.gatehouse.clientId,
      clientSecret: fixture.provider.clients.gatehouse.clientSecret,
      browserLogin: { redirectUri: `${fixture.appURL}/auth/oidc/callback`, secret: 'r'.repeat(40), postLogoutRedirectUri: `${fixture.appURL}/bye` },
      logger: NOOP_LOGGER,
    })
    const principal = { source: 'oidc', id: 'x', version: 0, user: { username: 'x', roles: [] }, authenticatedAt: Date.now(), provider: { sessionId: 'sid-1', subject: 'x' } }
    expect(fresh.logoutRedirect({ principal })).toBeNull()
    createAuth({ roles: [], authenticators: [fresh], session: { secret: 'q'.repeat(40), secure: false }, revocations: new MemoryRevocationList(), logger: NOOP_LOGGER }).routes()
    for (let i = 0; i < 100 && fresh.logoutRedirect({ principal }) === null; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(fresh.logoutRedirect({ principal })).toMatch(new RegExp(`^${fixture.provider.issuer}/protocol/openid-connect/logout\\?`))
  })

  test('a valid logout token (sub only) ends the subject’s sessions and refuses its cached bearer tokens', async () => {
    const jar = await carolSession()
    const token = await sign(accessClaims(fixture.provider, { sub: fixture.provider.users.carol.sub, sid: 'carol-api-session', iat: Math.floor(Date.now() / 1000) - 5 }), fixture.provider.signingKey)
    expect((await fixture.oidc.identify(bearer(token))).outcome).toBe('authenticated')
    const response = await postLogout(await logoutToken(logoutClaims()))
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toContain('no-store')
    expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(401)
    expect(await fixture.oidc.identify(bearer(token))).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    // A later login of the same subject is a new session and works.
    await carolSession({ afterLogout: true })
  })

  test('by sid: the bearer tokens of that provider session are refused, others of the subject are not', async () => {
    const now = Math.floor(Date.now() / 1000)
    const ended = await sign(accessClaims(fixture.provider, { sid: 'sid-ended' }), fixture.provider.signingKey)
    const other = await sign(accessClaims(fixture.provider, { sid: 'sid-other', iat: now - 1 }), fixture.provider.signingKey)
    expect((await fixture.oidc.identify(bearer(ended))).outcome).toBe('authenticated')
    expect((await postLogout(await logoutToken(logoutClaims({ sid: 'sid-ended', sub: undefined })))).status).toBe(200)
    expect((await fixture.oidc.identify(bearer(ended))).outcome).toBe('rejected')
    expect((await fixture.oidc.identify(bearer(other))).outcome).toBe('authenticated')
  })

  describe('refused with 400, revoking nothing', () => {
    const bad: Array<[string, () => Promise<string>]> = [
      ['a replayed jti', async () => 'replay'],
      ['no events', () => logoutToken(logoutClaims({ events: undefined }))],
      ['another event', () => logoutToken(logoutClaims({ events: { 'http://schemas.openid.net/event/other': {} } }))],
      ['an event that is not an object', () => logoutToken(logoutClaims({ events: { [EVENT]: 'yes' } }))],
      ['a nonce', () => logoutToken(logoutClaims({ nonce: 'n' }))],
      ['neither sid nor sub', () => logoutToken(logoutClaims({ sub: undefined }))],
      ['no jti', () => logoutToken(logoutClaims({ jti: undefined }))],
      ['no iat', () => logoutToken(logoutClaims({ iat: undefined }))],
      ['an old iat', () => logoutToken(logoutClaims({ iat: Math.floor(Date.now() / 1000) - 3600 }))],
      ['another audience', () => logoutToken(logoutClaims({ aud: 'other-app' }))],
      ['another issuer', () => logoutToken(logoutClaims({ iss: 'http://127.0.0.1:1/realms/x' }))],
      ['alg none', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(logoutClaims())).toString('base64url')}.`],
      [
        'a foreign key with the real kid',
        async () => {
          const { privateKey } = await generateKeyPair('RS256')
          return new SignJWT(logoutClaims()).setProtectedHeader({ alg: 'RS256', kid: fixture.provider.signingKey.kid }).sign(privateKey)
        },
      ],
    ]
    for (const [name, make] of bad) {
      test(name, async () => {
        const jar = await carolSession()
        let token = await make()
        if (token === 'replay') {
          token = await logoutToken(logoutClaims({ sub: 'someone-else' }))
          expect((await postLogout(token)).status).toBe(200)
          token = await logoutToken({ ...JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()), sub: fixture.provider.users.carol.sub })
          // same jti, now naming carol:
        }
        const response = await postLogout(token)
        expect(response.status).toBe(400)
        expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(200)
      })
    }

    test('not a form, or no logout_token', async () => {
      const jar = await carolSession()
      expect((await postLogout(await logoutToken(logoutClaims()), 'application/json')).status).toBe(400)
      const empty = await fetch(`${fixture.appURL}/auth/oidc/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' })
      expect(empty.status).toBe(400)
      // A chunked body (no Content-Length) larger than 16 KiB is cut off, not read whole.
      const big = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode(`logout_token=${'a'.repeat(1000)}&`))
          controller.close()
        },
      })
      const chunked = await fetch(`${fixture.appURL}/auth/oidc/backchannel-logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: big,
        duplex: 'half',
      } as RequestInit)
      expect(chunked.status).toBe(400)
      expect(fixture.logs.at(-1)?.fields).toMatchObject({ reason: 'too large' })
      expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(200)
    })
  })
})

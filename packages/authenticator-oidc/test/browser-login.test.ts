import { hkdfSync } from 'node:crypto'
import { EncryptJWT, jwtDecrypt } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { BrowserFixture } from './browser-helpers.js'
import { CookieJar, browserFixture, location, loginThroughProvider } from './browser-helpers.js'

let fixture: BrowserFixture
beforeAll(async () => {
  fixture = await browserFixture()
})
afterAll(() => fixture.close())

const alice = () => ({ username: 'alice', password: fixture.provider.users.alice.password })

describe('browser login (authorization code + PKCE)', () => {
  test('login → provider → callback → a session for /admin', async () => {
    const jar = new CookieJar()
    const start = await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/admin`)
    expect(start.status).toBe(302)
    const authorize = new URL(location(start, fixture.appURL))
    expect(authorize.origin + authorize.pathname).toBe(`${fixture.provider.issuer}/protocol/openid-connect/auth`)
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
    for (const name of ['state', 'nonce', 'code_challenge']) expect(authorize.searchParams.get(name)?.length).toBeGreaterThanOrEqual(22)
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${fixture.appURL}/auth/oidc/callback`)

    const { callback } = await loginThroughProvider(new CookieJar(), fixture, alice())
    expect(callback.status).toBe(303)
    expect(callback.headers.get('location')).toBe('/admin')
  })

  test('the session carries roles from the access token and the provider as source', async () => {
    const jar = new CookieJar()
    const { callback } = await loginThroughProvider(jar, fixture, alice())
    expect(callback.status).toBe(303)
    const admin = await jar.fetch(`${fixture.appURL}/admin`)
    expect(admin.status).toBe(200)
    expect(await admin.text()).toBe('hello alice (oidc)')
    const me = (await (await jar.fetch(`${fixture.appURL}/auth/me`)).json()) as { user: unknown }
    expect(me.user).toMatchObject({ username: 'alice', source: 'oidc' })
  })

  test('bob (admin only on another client) gets a session but not /admin', async () => {
    const jar = new CookieJar()
    await loginThroughProvider(jar, fixture, { username: 'bob', password: fixture.provider.users.bob.password })
    expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(200)
    expect((await jar.fetch(`${fixture.appURL}/admin`)).status).toBe(403)
  })

  test('next is sanitized: an absolute URL goes to the default page', async () => {
    const jar = new CookieJar()
    const { callback } = await loginThroughProvider(jar, fixture, alice(), { next: 'https://evil.example/' })
    expect(callback.status).toBe(303)
    expect(callback.headers.get('location')).toBe('/')
  })

  test('logins begun in two tabs both complete, in any order', async () => {
    const jar = new CookieJar()
    const providerJar = new CookieJar()
    const starts = [await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/one`), await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/two`)]
    const callbacks: string[] = []
    for (const start of starts) {
      let url = location(start, fixture.appURL)
      let response = await providerJar.fetch(url)
      while (!url.startsWith(`${fixture.appURL}/auth/oidc/callback`)) {
        if (response.status === 200) {
          const action = /<form method="post" action="([^"]+)"/.exec(await response.text())![1]!
          url = new URL(action, url).href
          response = await providerJar.fetch(url, { method: 'POST', body: new URLSearchParams(alice()) })
          continue
        }
        url = location(response, url)
        if (!url.startsWith(fixture.appURL)) response = await providerJar.fetch(url)
      }
      callbacks.push(url)
    }
    // The second tab's callback first, then the first tab's.
    const second = await jar.fetch(callbacks[1]!)
    expect(second.headers.get('location')).toBe('/two')
    const first = await jar.fetch(callbacks[0]!)
    expect(first.status).toBe(303)
    expect(first.headers.get('location')).toBe('/one')
  })

  test('the login page offers the provider', async () => {
    const html = await (await fetch(`${fixture.appURL}/auth/login`)).text()
    expect(html).toContain('Sign in with Test SSO')
    expect(html).toContain('/auth/oidc/login?next=')
  })

  describe('failures: a 303 to the login page, no session', () => {
    const expectFailed = async (jar: CookieJar, response: Response, reason: RegExp) => {
      expect(response.status).toBe(303)
      expect(response.headers.get('location')).toBe('/auth/login?error=signin-failed')
      expect(response.headers.getSetCookie().some((line) => line.startsWith(`${fixture.auth.sessions.cookieName}=`) && !/max-age=0/i.test(line))).toBe(false)
      expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(401)
      const logged = fixture.logs.filter((line) => line.message === 'sign-in failed').at(-1)
      expect((logged?.fields as { reason?: string } | undefined)?.reason).toMatch(reason)
    }

    test('a callback with no login in progress', async () => {
      const jar = new CookieJar()
      await expectFailed(jar, await jar.fetch(`${fixture.appURL}/auth/oidc/callback?code=abc&state=def`), /no login in progress/)
    })

    test('a replayed callback (same URL, same transaction cookie)', async () => {
      const jar = new CookieJar()
      const start = await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/admin`)
      expect(start.status).toBe(302)
      const transaction = jar.get(fixture.appURL, 'gatehouse-oidc-oidc')!
      // Complete this very login at the provider, then use the callback once...
      let url = location(start, fixture.appURL)
      const providerJar = new CookieJar()
      let response = await providerJar.fetch(url)
      while (!url.startsWith(`${fixture.appURL}/auth/oidc/callback`)) {
        if (response.status === 200) {
          const action = /<form method="post" action="([^"]+)"/.exec(await response.text())![1]!
          url = new URL(action, url).href
          response = await providerJar.fetch(url, { method: 'POST', body: new URLSearchParams(alice()) })
          continue
        }
        url = location(response, url)
        if (!url.startsWith(fixture.appURL)) response = await providerJar.fetch(url)
      }
      expect((await jar.fetch(url)).status).toBe(303)
      expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(200)
      // ...and again with a copy of its transaction cookie (an attacker who captured both):
      const replay = new CookieJar()
      replay.set(fixture.appURL, 'gatehouse-oidc-oidc', transaction)
      await expectFailed(replay, await replay.fetch(url), /replayed state/)
    })

    test('a state that does not match the transaction', async () => {
      const jar = new CookieJar()
      const start = await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/admin`)
      expect(start.status).toBe(302)
      await expectFailed(jar, await jar.fetch(`${fixture.appURL}/auth/oidc/callback?code=abc&state=${'x'.repeat(43)}`), /state mismatch/)
    })

    test('an error from the provider', async () => {
      const jar = new CookieJar()
      const start = await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/admin`)
      const state = new URL(location(start, fixture.appURL)).searchParams.get('state')!
      await expectFailed(
        jar,
        await jar.fetch(`${fixture.appURL}/auth/oidc/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(fixture.provider.issuer)}`),
        /provider error: access_denied/,
      )
    })

    test('a tampered transaction cookie', async () => {
      const jar = new CookieJar()
      const start = await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/admin`)
      const state = new URL(location(start, fixture.appURL)).searchParams.get('state')!
      const value = jar.get(fixture.appURL, 'gatehouse-oidc-oidc')!
      jar.set(fixture.appURL, 'gatehouse-oidc-oidc', value.slice(0, -4) + (value.endsWith('AAAA') ? 'BBBB' : 'AAAA'))
      await expectFailed(jar, await jar.fetch(`${fixture.appURL}/auth/oidc/callback?code=abc&state=${state}`), /expired or tampered/)
    })

    test('a wrong nonce (the ID token answers another login)', async () => {
      // Re-seal the transaction with another nonce, as only someone holding the secret could.
      const key = new Uint8Array(hkdfSync('sha256', 'transaction-secret-'.padEnd(40, 'x'), new Uint8Array(), 'gatehouse-oidc-transaction:oidc', 32))
      const jar = new CookieJar()
      const { callbackURL } = await loginThroughProvider(jar, fixture, alice(), {
        async beforeCallback() {
          const { payload } = await jwtDecrypt(jar.get(fixture.appURL, 'gatehouse-oidc-oidc')!, key)
          const tx = (payload.tx as Array<Record<string, unknown>>).map((item) => ({ ...item, nonce: 'n'.repeat(43) }))
          const resealed = await new EncryptJWT({ ...payload, tx }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key)
          jar.set(fixture.appURL, 'gatehouse-oidc-oidc', resealed)
        },
      })
      void callbackURL
      const logged = fixture.logs.filter((line) => line.message === 'sign-in failed').at(-1)
      expect((logged!.fields as { reason?: string }).reason).toMatch(/nonce/)
      expect((await jar.fetch(`${fixture.appURL}/auth/me`)).status).toBe(401)
    })

    test('logs never hold codes, tokens or the transaction cookie', async () => {
      const jar = new CookieJar()
      const { callback, callbackURL } = await loginThroughProvider(jar, fixture, alice())
      expect(callback.status).toBe(303)
      const code = new URL(callbackURL).searchParams.get('code')!
      // Replay the used code with a fresh transaction of the same state: refused at the token endpoint.
      const secrets = [code, jar.get(fixture.appURL, fixture.auth.sessions.cookieName)!]
      await jar.fetch(callbackURL)
      const logged = JSON.stringify(fixture.logs)
      for (const secret of secrets) expect(logged).not.toContain(secret)
      expect(logged).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}\./)
    })

    test('the redirect URI comes from the configuration, not the Host header', async () => {
      const jar = new CookieJar()
      const start = await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=/admin`, { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } })
      expect(new URL(location(start, fixture.appURL)).searchParams.get('redirect_uri')).toBe(`${fixture.appURL}/auth/oidc/callback`)
    })
  })
})

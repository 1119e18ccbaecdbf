import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { ORIGIN, createTestApp, sessionCookieOf } from '../../test/fixtures.js'
import type { Authenticator } from '../authenticators/authenticator.js'
import type { User } from '../model/user.js'
import type { Auth, AuthEnv } from './create-auth.js'
import { Protected } from './protected.js'

const alice: User = { id: 'sub-alice', username: 'alice', roles: ['Administrator'], source: 'idp' }

/** An identity provider's plugin in miniature: a callback route that signs a fixed user in. */
function provider(options: { sid?: string; expiresAt?: Date } = {}): Authenticator {
  return {
    id: 'idp',
    loginButton: { label: 'Example ID', path: 'idp/login' },
    routes: ({ auth }: { auth: Auth }) =>
      new Hono<AuthEnv>()
        .get('/idp/callback', (c) =>
          c.req.query('fail') !== undefined
            ? auth.signInFailed(c, { source: 'idp', reason: 'state mismatch' })
            : auth.signIn(c, alice, { next: c.req.query('next'), providerSession: { sessionId: options.sid, subject: alice.id, expiresAt: options.expiresAt } }),
        )
        .post('/idp/backchannel', async (c) => {
          await auth.revokeProviderSessions({ source: 'idp', providerSessionId: c.req.query('sid'), subject: c.req.query('sub') })
          return c.body(null, 200)
        }),
    logoutRedirect: ({ principal }) => `https://idp.example/logout?sub=${encodeURIComponent(principal.id)}`,
    health: async () => ({ ok: true, checks: [{ name: 'discovery', ok: true, durationMs: 1 }] }),
  }
}

async function setup(options: Parameters<typeof provider>[0] = {}) {
  const fixture = await createTestApp({ authenticators: [provider(options)] })
  const app = new Hono<AuthEnv>()
  app.use(fixture.auth.middleware())
  app.route('/auth', fixture.auth.routes())
  app.get('/admin', Protected(['Administrator']), (c) => c.text(`admin ${c.var.user.username}`))
  const callback = async (query = '') => {
    const res = await app.request(`${ORIGIN}/auth/idp/callback${query}`)
    return { res, cookie: sessionCookieOf(res) }
  }
  const admin = (cookie: string) => app.request(`${ORIGIN}/admin`, { headers: { cookie } })
  return { ...fixture, app, callback, admin }
}

describe('auth.signIn and the routes of authenticators', () => {
  it("mounts an authenticator's routes under the auth routes and starts a session with a 303 to next", async () => {
    const { callback, admin } = await setup()
    const { res, cookie } = await callback('?next=%2Fadmin%3Fx%3D1')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin?x=1')
    expect(await (await admin(cookie!)).text()).toBe('admin alice')
  })

  it('sanitizes next like the login form does', async () => {
    const { callback } = await setup()
    for (const next of ['//evil.example', '/.//evil.example', 'https://evil.example']) {
      const { res } = await callback(`?next=${encodeURIComponent(next)}`)
      expect(res.headers.get('location'), next).toBe('/')
    }
  })

  it('ends the session the browser carried before (no fixation)', async () => {
    const { app, callback, admin } = await setup()
    const first = (await callback()).cookie!
    const second = await app.request(`${ORIGIN}/auth/idp/callback`, { headers: { cookie: first } })
    expect(second.status).toBe(303)
    expect((await admin(first)).status).toBe(401)
    expect((await admin(sessionCookieOf(second)!)).status).toBe(200)
  })

  it('signInFailed sends the browser to the login page with a generic message and no session', async () => {
    const { app, callback } = await setup()
    const { res, cookie } = await callback('?fail')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/auth/login?error=signin-failed')
    expect(cookie).toBeUndefined()
    const page = await (await app.request(`${ORIGIN}/auth/login?error=signin-failed`)).text()
    expect(page).toContain('Sign-in did not complete')
    expect(page).not.toContain('state mismatch')
  })

  it("shows the authenticator's button on the login page, linking next to the mounted routes", async () => {
    const { app } = await setup()
    const page = await (await app.request(`${ORIGIN}/auth/login?next=%2Fadmin`)).text()
    expect(page).toContain('href="/auth/idp/login?next=%2Fadmin">Sign in with Example ID</a>')
  })

  it('ends sessions by provider session id or subject, not the ones issued after', async () => {
    const { app, callback, admin } = await setup({ sid: 'op-session-1' })
    const bySid = (await callback()).cookie!
    expect((await admin(bySid)).status).toBe(200)
    expect((await app.request(`${ORIGIN}/auth/idp/backchannel?sid=op-session-2`, { method: 'POST' })).status).toBe(200)
    expect((await admin(bySid)).status).toBe(200) // another provider session: untouched
    await app.request(`${ORIGIN}/auth/idp/backchannel?sid=op-session-1`, { method: 'POST' })
    expect((await admin(bySid)).status).toBe(401)
    await new Promise((resolve) => setTimeout(resolve, 2))
    const later = (await callback()).cookie!
    expect((await admin(later)).status).toBe(200) // a login after the provider's logout is a new session

    const bySub = (await callback()).cookie!
    await app.request(`${ORIGIN}/auth/idp/backchannel?sub=${alice.id}`, { method: 'POST' })
    expect((await admin(bySub)).status).toBe(401)
  })

  it("ends the session no later than the provider's session", async () => {
    const { callback, admin } = await setup({ expiresAt: new Date(Date.now() + 1500) })
    const { res, cookie } = await callback()
    expect(res.headers.getSetCookie().find((c) => c.startsWith('gatehouse='))).toMatch(/Max-Age=(1|2);/)
    expect((await admin(cookie!)).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1600))
    expect((await admin(cookie!)).status).toBe(401)
  })

  it("sends a form logout of a provider's session to the provider's logout page", async () => {
    const { app, callback } = await setup()
    const { cookie } = await callback()
    const form = await app.request(`${ORIGIN}/auth/login`, { headers: { cookie: cookie! } })
    const token = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!
    const csrf = form.headers
      .getSetCookie()
      .find((c) => c.startsWith('gatehouse-csrf='))!
      .split(';')[0]!
    const res = await app.request(`${ORIGIN}/auth/logout`, {
      method: 'POST',
      headers: { cookie: `${cookie}; ${csrf}`, 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
      body: new URLSearchParams({ csrf: token }).toString(),
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://idp.example/logout?sub=sub-alice')
  })

  it('reports the health of every authenticator that can tell', async () => {
    const { auth } = await setup()
    expect(await auth.health()).toEqual({ ok: true, authenticators: { idp: { ok: true, checks: [{ name: 'discovery', ok: true, durationMs: 1 }] } } })
  })
})

describe('auth.close()', () => {
  it('waits for logins in flight, then refuses new ones with 503', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const slow: Authenticator = {
      id: 'slow',
      async authenticate() {
        await gate
        return { outcome: 'authenticated', user: { id: 'u', username: 'u', roles: [], source: 'slow' } }
      },
    }
    const { auth, login } = await createTestApp({ authenticators: [slow] })
    const inFlight = login('u', 'some-password-1')
    await new Promise((resolve) => setTimeout(resolve, 20))
    let closed = false
    const closing = auth.close().then(() => (closed = true))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(closed).toBe(false) // still waiting for the login in flight
    expect((await login('u', 'some-password-1')).res.status).toBe(503)
    release()
    expect((await inFlight).res.status).toBe(200)
    await closing
    expect(closed).toBe(true)
  })

  it('gives up waiting after its timeout', async () => {
    const hung: Authenticator = { id: 'hung', authenticate: () => new Promise(() => {}) }
    const { auth, login } = await createTestApp({ authenticators: [hung] })
    void login('u', 'some-password-1')
    await new Promise((resolve) => setTimeout(resolve, 20))
    const started = Date.now()
    await auth.close({ timeoutMs: 100 })
    expect(Date.now() - started).toBeLessThan(1000)
  })
})

import { Context, Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { ORIGIN, createTestApp, errorCodeOf } from '../../test/fixtures.js'
import type { Authenticator } from '../authenticators/authenticator.js'
import type { AuthEnv } from './create-auth.js'
import { Protected } from './protected.js'

/** A bearer authenticator over a fixed table of tokens, as a resource server's would be. */
const bearer: Authenticator = {
  id: 'tokens',
  async identify({ request }) {
    const header = request.headers.get('authorization')
    if (header === null || !/^bearer /i.test(header)) return { outcome: 'skipped' }
    const token = header.slice(7)
    if (token === 'good') return { outcome: 'authenticated', user: { id: 'svc', username: 'svc', roles: ['Administrator'], source: 'tokens' }, scopes: ['entries:read'] }
    return { outcome: 'rejected', reason: 'invalid-credentials' }
  },
}

async function setup() {
  const fixture = await createTestApp()
  const { auth, store, hasher } = fixture
  const app = new Hono<AuthEnv>()
  let ran = 0
  app.use(auth.middleware())
  app.post('/entries', Protected(['Administrator']), (c) => (ran++, c.text('created', 201)))
  app.post('/open', Protected({ requiredRoles: ['Administrator'], csrf: false }), (c) => c.text('created', 201))
  app.get('/', (c) => c.text(`hello ${c.var.user.username}`))
  return { ...fixture, app, ran: () => ran, store, hasher }
}

describe('Protected on the fast path', () => {
  it("answers with the handler's own Response object, security headers included", async () => {
    const { auth, login } = await createTestApp()
    const app = new Hono<AuthEnv>()
    let own: Response | undefined
    app.use(auth.middleware())
    app.get('/own', Protected(['Administrator']), (c) => (own = c.text('mine')))
    const { cookie } = await login('admin', 'admin-password-1')
    const res = await app.request(`${ORIGIN}/own`, { headers: { cookie: cookie! } })
    // Not re-wrapped: the same object the handler returned, so node-server can stream it as is.
    expect(res).toBe(own)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('vary')).toBe('Cookie')
    expect(await res.text()).toBe('mine')
  })

  it("decides a cached session without a promise of its own: the middleware and the guard hand back next()'s", async () => {
    const { auth, login } = await createTestApp()
    const { cookie } = await login('admin', 'admin-password-1')
    const middleware = auth.middleware()
    const guard = Protected(['Administrator'])
    const request = () => new Context(new Request(`${ORIGIN}/own`, { headers: { cookie: cookie! } })) as Context<AuthEnv>
    const handled = Promise.resolve()
    const next = () => handled
    // The first request unseals the cookie and asks the store: that waits.
    const waited = middleware(request(), next)
    expect(waited).not.toBe(handled)
    await waited
    const warm = request()
    expect(middleware(warm, next)).toBe(handled)
    expect(warm.get('user').username).toBe('admin')
    expect(guard(warm, next)).toBe(handled)
    // No cookie, and no authenticator that identifies requests by themselves: nobody, at once.
    const anonymous = new Context(new Request(`${ORIGIN}/`)) as Context<AuthEnv>
    expect(middleware(anonymous, next)).toBe(handled)
    expect(anonymous.get('user').username).toBe('anonymous')
  })

  it('marks an answer no-store for a credential other than the cookie or a bearer token (an API key)', async () => {
    const apiKey: Authenticator = {
      id: 'keys',
      async identify({ request }) {
        if (request.headers.get('x-api-key') !== 'k-1') return { outcome: 'skipped' }
        return { outcome: 'authenticated', user: { id: 'svc', username: 'svc', roles: ['Administrator'], source: 'keys' } }
      },
    }
    const { auth } = await createTestApp({ authenticators: [apiKey] })
    const app = new Hono<AuthEnv>().use(auth.middleware()).get('/admin', Protected(['Administrator']), (c) => c.text('admin'))
    const res = await app.request(`${ORIGIN}/admin`, { headers: { 'x-api-key': 'k-1' } })
    expect(await res.text()).toBe('admin')
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('returns its 401 and 403 instead of throwing them', async () => {
    const { auth, login } = await createTestApp()
    const app = new Hono<AuthEnv>()
    const errors: unknown[] = []
    app.onError((error, c) => (errors.push(error), c.text('thrown', 500)))
    app.use(auth.middleware())
    app.get('/admin', Protected(['Administrator']), (c) => c.text('admin'))
    expect((await app.request(`${ORIGIN}/admin`)).status).toBe(401)
    const { cookie } = await login('viewer', 'viewer-password-1')
    expect((await app.request(`${ORIGIN}/admin`, { headers: { cookie: cookie! } })).status).toBe(403)
    expect(errors).toEqual([])
  })
})

describe('responses that depend on the session', () => {
  it('are no-store and vary on Cookie, also outside Protected', async () => {
    const { app, login } = await setup()
    const { cookie } = await login('admin', 'admin-password-1')
    const home = await app.request(`${ORIGIN}/`, { headers: { cookie: cookie! } })
    expect(await home.text()).toBe('hello admin')
    expect(home.headers.get('cache-control')).toBe('no-store')
    expect(home.headers.get('vary')).toBe('Cookie')
    const anonymous = await app.request(`${ORIGIN}/`)
    expect(anonymous.headers.get('cache-control')).toBeNull() // a public page stays cacheable
  })
})

describe("CSRF on the application's routes", () => {
  it('refuses a cross-site unsafe request with the session cookie, and the handler does not run', async () => {
    const { app, login, ran } = await setup()
    const { cookie } = await login('admin', 'admin-password-1')
    const crossSite: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', origin: 'http://sub.app.test' }]
    for (const headers of crossSite) {
      const res = await app.request(`${ORIGIN}/entries`, { method: 'POST', headers: { cookie: cookie!, 'content-type': 'text/plain', ...headers }, body: 'x' })
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect(await errorCodeOf(res)).toBe('ERR_CSRF')
    }
    expect(ran()).toBe(0)
  })

  it('lets same-origin requests, requests without either header, and allowed origins through', async () => {
    const { auth, app, login } = await setup()
    const { cookie } = await login('admin', 'admin-password-1')
    const post = (headers: Record<string, string>) => app.request(`${ORIGIN}/entries`, { method: 'POST', headers: { cookie: cookie!, ...headers } })
    expect((await post({ origin: ORIGIN })).status).toBe(201)
    expect((await post({ 'sec-fetch-site': 'same-origin' })).status).toBe(201)
    expect((await post({})).status).toBe(201)
    expect(auth.options.allowedOrigins).toEqual([])
    const allowed = await createTestApp({ allowedOrigins: ['https://admin.app.test'] })
    const other = new Hono<AuthEnv>().use(allowed.auth.middleware()).post('/entries', Protected(['Administrator']), (c) => c.text('created', 201))
    const admin = await allowed.login('admin', 'admin-password-1')
    expect((await other.request(`${ORIGIN}/entries`, { method: 'POST', headers: { cookie: admin.cookie!, origin: 'https://admin.app.test' } })).status).toBe(201)
  })

  it('exempts bearer-authenticated requests and routes that opt out', async () => {
    const tokens = await createTestApp({ authenticators: [bearer] })
    const api = new Hono<AuthEnv>().use(tokens.auth.middleware()).post('/entries', Protected(['Administrator']), (c) => c.text('created', 201))
    expect((await api.request(`${ORIGIN}/entries`, { method: 'POST', headers: { authorization: 'Bearer good', origin: 'https://evil.example' } })).status).toBe(201)
    const { app, login } = await setup()
    const { cookie } = await login('admin', 'admin-password-1')
    expect((await app.request(`${ORIGIN}/open`, { method: 'POST', headers: { cookie: cookie!, origin: 'https://evil.example' } })).status).toBe(201)
  })
})

describe('bearer tokens', () => {
  async function bearerApp() {
    const fixture = await createTestApp()
    const { PasswordAuthenticator } = await import('../store/password-authenticator.js')
    const sql = new PasswordAuthenticator({ id: 'sql', store: fixture.store, hasher: fixture.hasher })
    const { createAuth } = await import('./create-auth.js')
    const { NOOP_LOGGER } = await import('../internal/logger.js')
    const auth = createAuth({ roles: fixture.auth.roles, authenticators: [sql, bearer], store: fixture.store, session: { secret: 'b'.repeat(40), secure: false }, logger: NOOP_LOGGER })
    const app = new Hono<AuthEnv>()
    app.use(auth.middleware())
    app.route('/auth', auth.routes())
    app.get('/admin', Protected(['Administrator']), (c) => c.text(`admin ${c.var.user.username}`))
    app.get('/read', Protected({ requiredScopes: ['entries:read'] }), (c) => c.text('read'))
    app.get('/write', Protected({ requiredScopes: ['entries:write'] }), (c) => c.text('write'))
    const login = await app.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username: 'admin', password: 'admin-password-1' }),
    })
    const cookie = login.headers
      .getSetCookie()
      .find((c) => c.startsWith('gatehouse='))!
      .split(';')[0]!
    return { app, cookie }
  }

  it('accepts a good token with no-store and Vary: Authorization', async () => {
    const { app } = await bearerApp()
    const res = await app.request(`${ORIGIN}/admin`, { headers: { authorization: 'Bearer good' } })
    expect(await res.text()).toBe('admin svc')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('vary')).toBe('Authorization')
  })

  it('answers a refused token with 401 and WWW-Authenticate, never a redirect, never the session cookie', async () => {
    const { app, cookie } = await bearerApp()
    expect((await app.request(`${ORIGIN}/admin`, { headers: { cookie } })).status).toBe(200)
    const refused: Array<Record<string, string>> = [{ authorization: 'Bearer forged' }, { authorization: 'bearer forged', cookie }, { authorization: 'Bearer forged', cookie, accept: 'text/html' }]
    for (const headers of refused) {
      const res = await app.request(`${ORIGIN}/admin`, { headers })
      expect(res.status, JSON.stringify(headers)).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await errorCodeOf(res)).toBe('ERR_UNAUTHENTICATED')
    }
  })

  it('checks scopes of bearer tokens; a cookie session never satisfies requiredScopes', async () => {
    const { app, cookie } = await bearerApp()
    expect((await app.request(`${ORIGIN}/read`, { headers: { authorization: 'Bearer good' } })).status).toBe(200)
    expect((await app.request(`${ORIGIN}/write`, { headers: { authorization: 'Bearer good' } })).status).toBe(403)
    expect((await app.request(`${ORIGIN}/read`, { headers: { cookie } })).status).toBe(403)
  })

  it('validates requiredScopes when the app is built', () => {
    expect(() => Protected({ requiredScopes: [] })).toThrow(TypeError)
    expect(() => Protected({ optional: true, requiredScopes: ['a'] })).toThrow(/optional/)
    expect(() => Protected({ csrf: 'no' } as never)).toThrow(/csrf/)
  })
})

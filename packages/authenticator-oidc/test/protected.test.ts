import type { AuthEnv } from '@gatehouse/core'
import { Permission, Protected, Role, createAuth } from '@gatehouse/core'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { accessClaims, authenticatorFor, provider, sign } from './helpers.js'

let server: OIDCTestServer
beforeAll(async () => {
  server = await provider()
})
afterAll(() => server.stop())

const VIEW = new Permission({ name: 'view', description: 'read' })
const roles = ['Administrator', 'Viewer', 'Editor', 'Superuser', 'Staff'].map((name) => new Role({ name, permissions: name === 'Viewer' ? [VIEW] : [] }))

function app(authenticators = [authenticatorFor(server)]) {
  const auth = createAuth({ roles, authenticators, session: { secret: 'x'.repeat(40), secure: false }, logger: { debug() {}, info() {}, warn() {}, error() {} } })
  const hono = new Hono<AuthEnv>()
  hono.use(auth.middleware())
  hono.route('/auth', auth.routes())
  hono.get('/admin', Protected(['Administrator']), (c) => c.text(`hello ${c.var.user.username}`))
  hono.get('/entries', Protected({ requiredScopes: ['api:read'] }), (c) => c.json({ entries: [] }))
  hono.get('/write', Protected({ requiredScopes: ['api:read', 'api:write'], requireAll: true }), (c) => c.json({ ok: true }))
  hono.get('/view', Protected({ requiredPermissions: ['view'] }), (c) => c.text('ok'))
  return hono
}

const get = (hono: Hono<AuthEnv>, path: string, token?: string, headers: Record<string, string> = {}) =>
  hono.request(path, { headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...headers } })

describe('Protected with bearer tokens', () => {
  test('alice (realm admin) passes; bob, whose admin role is on another client, does not', async () => {
    const hono = app()
    const alice = await server.passwordGrant({ username: 'alice', password: server.users.alice.password })
    const bob = await server.passwordGrant({ username: 'bob', password: server.users.bob.password })
    const ok = await get(hono, '/admin', alice.access_token)
    expect(ok.status).toBe(200)
    expect(await ok.text()).toBe('hello alice')
    expect(ok.headers.get('cache-control')).toContain('no-store')
    expect(ok.headers.get('vary')).toContain('Authorization')
    // bob holds "admin" on other-app only (resource_access["other-app"]): it must not map.
    expect(server.users.bob.clientRoles['other-app']).toContain('admin')
    expect((await get(hono, '/admin', bob.access_token)).status).toBe(403)
    expect((await get(hono, '/view', bob.access_token)).status).toBe(200)
  })

  test('a refused token is a 401 with WWW-Authenticate, a generic body, never a redirect', async () => {
    const hono = app()
    const token = await sign(accessClaims(server, { aud: 'other-app' }), server.signingKey)
    const response = await get(hono, '/admin', token, { accept: 'text/html' })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    const body = await response.text()
    expect(body).toContain('ERR_UNAUTHENTICATED')
    expect(body).not.toMatch(/jwks|certs|aud|JWT|claim/i)
  })

  test('scopes: any by default, all with requireAll', async () => {
    const hono = app()
    const read = await server.passwordGrant({ username: 'bob', password: server.users.bob.password, scope: 'openid api:read' })
    const none = await server.passwordGrant({ username: 'bob', password: server.users.bob.password, scope: 'openid' })
    const both = await server.passwordGrant({ username: 'bob', password: server.users.bob.password, scope: 'openid api:read api:write' })
    expect((await get(hono, '/entries', read.access_token)).status).toBe(200)
    expect((await get(hono, '/entries', none.access_token)).status).toBe(403)
    expect((await get(hono, '/write', read.access_token)).status).toBe(403)
    expect((await get(hono, '/write', both.access_token)).status).toBe(200)
  })

  test('the provider down with no cached key: 503, not 401', async () => {
    const own = await provider()
    const hono = app([authenticatorFor(own, { timeoutMs: 500 })])
    const token = await sign(accessClaims(own), own.signingKey)
    await own.stop()
    expect((await get(hono, '/admin', token)).status).toBe(503)
  })

  test('two providers in one chain: each token reaches its own authenticator; each gets its own routes and button', async () => {
    const other = await provider({ realm: 'partners' })
    try {
      const corp = authenticatorFor(server, { id: 'corp', name: 'Corp SSO', browserLogin: { redirectUri: 'http://127.0.0.1:1/auth/oidc/corp/callback', secret: 'c'.repeat(40) } })
      const partners = authenticatorFor(other, { id: 'partners', name: 'Partner SSO', browserLogin: { redirectUri: 'http://127.0.0.1:1/auth/oidc/partners/callback', secret: 'p'.repeat(40) } })
      const hono = app([corp, partners])
      hono.get('/whoami', Protected(), (c) => c.json({ source: c.var.user.source, id: c.var.user.id }))
      const a = await server.passwordGrant({ username: 'alice', password: server.users.alice.password })
      const b = await other.passwordGrant({ username: 'alice', password: other.users.alice.password })
      expect(await (await get(hono, '/whoami', a.access_token)).json()).toEqual({ source: 'corp', id: server.users.alice.sub })
      expect(await (await get(hono, '/whoami', b.access_token)).json()).toEqual({ source: 'partners', id: other.users.alice.sub })
      const page = await (await hono.request('/auth/login')).text()
      expect(page).toContain('Sign in with Corp SSO')
      expect(page).toContain('/auth/oidc/corp/login?next=')
      expect(page).toContain('/auth/oidc/partners/login?next=')
      const start = await hono.request('/auth/oidc/partners/login?next=/')
      expect(start.status).toBe(302)
      expect(start.headers.get('location')).toContain(`${other.issuer}/protocol/openid-connect/auth?`)
    } finally {
      await other.stop()
    }
  })

  test('an https redirect URI puts the login in progress in a __Host- Secure cookie', async () => {
    const oidc = authenticatorFor(server, { browserLogin: { redirectUri: 'https://app.example.org/auth/oidc/callback', secret: 's'.repeat(40) } })
    const start = await app([oidc]).request('https://app.example.org/auth/oidc/login?next=/admin')
    expect(start.status).toBe(302)
    const cookie = start.headers.getSetCookie().find((line) => line.includes('gatehouse-oidc-oidc='))!
    expect(cookie).toMatch(/^__Host-gatehouse-oidc-oidc=/)
    expect(cookie).toMatch(/; Secure/i)
    expect(cookie).toMatch(/; HttpOnly/i)
    expect(cookie).toMatch(/; SameSite=Lax/i)
    expect(cookie).toMatch(/; Path=\//i)
    expect(new URL(start.headers.get('location')!).searchParams.get('redirect_uri')).toBe('https://app.example.org/auth/oidc/callback')
  })
})

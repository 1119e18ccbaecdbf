import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { ORIGIN, createTestApp, errorCodeOf } from '../../test/fixtures.js'
import type { AuthEnv } from './create-auth.js'
import { Protected } from './protected.js'

describe('Protected', () => {
  it('answers anonymous API clients with 401 JSON and browsers with a redirect to the login page', async () => {
    const { app } = await createTestApp()
    const api = await app.request(`${ORIGIN}/admin`, { headers: { accept: 'application/json' } })
    expect(api.status).toBe(401)
    expect(await api.json()).toEqual({ error: { code: 'ERR_UNAUTHENTICATED', message: 'Authentication required.' } })
    expect(api.headers.get('cache-control')).toBe('no-store')
    const browser = await app.request(`${ORIGIN}/admin?tab=2`, { headers: { accept: 'text/html' } })
    expect(browser.status).toBe(302)
    expect(browser.headers.get('location')).toBe('/auth/login?next=%2Fadmin%3Ftab%3D2')
  })

  it('answers an authenticated user without the role with 403, without echoing roles', async () => {
    const { app, login } = await createTestApp()
    const { cookie } = await login('viewer', 'viewer-password-1')
    const res = await app.request(`${ORIGIN}/admin`, { headers: { cookie: cookie! } })
    expect(res.status).toBe(403)
    const body = await res.text()
    expect(body).not.toContain('Viewer')
    expect(body).not.toContain('Administrator')
    expect(JSON.parse(body).error.code).toBe('ERR_FORBIDDEN')
    const page = await app.request(`${ORIGIN}/admin`, { headers: { cookie: cookie!, accept: 'text/html' } })
    expect(page.status).toBe(403)
    expect(await page.text()).toContain('Access denied')
  })

  it('checks permissions derived from roles', async () => {
    const { app, login } = await createTestApp()
    const viewer = await login('viewer', 'viewer-password-1')
    expect((await app.request(`${ORIGIN}/entries`, { method: 'DELETE', headers: { cookie: viewer.cookie! } })).status).toBe(403)
    const admin = await login('admin', 'admin-password-1')
    const res = await app.request(`${ORIGIN}/entries`, { method: 'DELETE', headers: { cookie: admin.cookie! } })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('supports any/all roles, permissions, custom checks and optional users', async () => {
    const { auth, store, hasher, login } = await createTestApp()
    await store.createUser({ username: 'both', passwordHash: await hasher.hash('both-password-1'), roles: ['User', 'Viewer'] })
    const app = new Hono<AuthEnv>()
    app.use(auth.middleware())
    app.get('/any', Protected({ requiredRoles: ['Administrator', 'User'] }), (c) => c.text('ok'))
    app.get('/all', Protected({ requiredRoles: ['User', 'Viewer'], requireAll: true }), (c) => c.text('ok'))
    app.get('/all-admin', Protected({ requiredRoles: ['User', 'Administrator'], requireAll: true }), (c) => c.text('ok'))
    app.get('/perm-all', Protected({ requiredPermissions: ['view', 'delete'], requireAll: true }), (c) => c.text('ok'))
    app.get('/check', Protected({ check: (user) => user.username.startsWith('b') }), (c) => c.text('ok'))
    app.get('/optional', Protected({ optional: true }), (c) => c.text(c.var.user.username))
    const both = (await login('both', 'both-password-1')).cookie!
    const viewer = (await login('viewer', 'viewer-password-1')).cookie!
    const status = async (path: string, cookie?: string) => (await app.request(`${ORIGIN}${path}`, cookie ? { headers: { cookie } } : {})).status
    expect(await status('/any', both)).toBe(200)
    expect(await status('/any', viewer)).toBe(403)
    expect(await status('/all', both)).toBe(200)
    expect(await status('/all', viewer)).toBe(403)
    expect(await status('/all-admin', both)).toBe(403)
    expect(await status('/perm-all', both)).toBe(403)
    expect(await status('/check', both)).toBe(200)
    expect(await status('/check', viewer)).toBe(403)
    const optional = await app.request(`${ORIGIN}/optional`)
    expect(optional.status).toBe(200)
    expect(await optional.text()).toBe('anonymous')
    expect(optional.headers.get('cache-control')).toBe('no-store')
    expect(await (await app.request(`${ORIGIN}/optional`, { headers: { cookie: both } })).text()).toBe('both')
  })

  it('denies with 500 when auth.middleware() is missing (deny by default)', async () => {
    const app = new Hono()
    app.get('/admin', Protected(['Administrator']) as never, (c) => c.text('secret'))
    const res = await app.request(`${ORIGIN}/admin`)
    expect(res.status).toBe(500)
    expect(await res.text()).not.toContain('secret')
  })

  it('denies with 500 for a role the registry does not know, even for a signed-in admin', async () => {
    const { auth, login } = await createTestApp()
    const app = new Hono<AuthEnv>()
    app.use(auth.middleware())
    app.get('/typo', Protected(['Adminstrator']), (c) => c.text('secret'))
    const { cookie } = await login('admin', 'admin-password-1')
    const res = await app.request(`${ORIGIN}/typo`, { headers: { cookie: cookie! } })
    expect(res.status).toBe(500)
    expect(await errorCodeOf(res)).toBe('ERR_MISCONFIGURED')
  })

  it('throws at startup on ambiguous or mistyped options', () => {
    expect(() => Protected([])).toThrow(TypeError)
    expect(() => Protected({ requiredRole: ['Administrator'] } as never)).toThrow(/unknown option "requiredRole"/)
    expect(() => Protected({ requiredRoles: [] })).toThrow(TypeError)
    expect(() => Protected({ requiredRoles: [''] })).toThrow(TypeError)
    expect(() => Protected({ optional: true, requiredRoles: ['User'] })).toThrow(/optional/)
    expect(() => Protected({ check: 'yes' } as never)).toThrow(TypeError)
  })

  it("is not loosened by later changes to the caller's options object", async () => {
    const { auth, login } = await createTestApp()
    const options = { requiredRoles: ['Administrator'] }
    const app = new Hono<AuthEnv>()
    app.use(auth.middleware())
    app.get('/x', Protected(options), (c) => c.text('ok'))
    options.requiredRoles.push('Viewer')
    const { cookie } = await login('viewer', 'viewer-password-1')
    expect((await app.request(`${ORIGIN}/x`, { headers: { cookie: cookie! } })).status).toBe(403)
  })

  it("answers 503 rather than 401 when the session's store is unavailable", async () => {
    const { app, store, login } = await createTestApp({ session: { secret: 'a-test-secret-that-is-long-enough-0123456789', secure: false, cache: false } })
    const { cookie } = await login('admin', 'admin-password-1')
    store.getUserById = async () => {
      const { StoreUnavailableError } = await import('../errors.js')
      throw new StoreUnavailableError()
    }
    const res = await app.request(`${ORIGIN}/admin`, { headers: { cookie: cookie! } })
    expect(res.status).toBe(503)
    // One code per cause: the store is down, not an authenticator.
    expect(await errorCodeOf(res)).toBe('ERR_STORE_UNAVAILABLE')
  })
})

describe('createAuth', () => {
  it('fails at startup on a missing or short secret, no authenticators, bad paths', async () => {
    const { createAuth } = await import('./create-auth.js')
    const base = { roles: [], authenticators: [{ id: 'x', identify: async () => ({ outcome: 'skipped' as const }) }] }
    expect(() => createAuth({ ...base, session: { secret: 'too-short' } })).toThrow(/32 characters/)
    expect(() => createAuth({ ...base, session: undefined as never })).toThrow(TypeError)
    expect(() => createAuth({ ...base, authenticators: [], session: { secret: 's'.repeat(32) } })).toThrow(/authenticator/)
    expect(() => createAuth({ ...base, session: { secret: 's'.repeat(32) }, loginPath: '//evil' })).toThrow(/loginPath/)
    expect(() => createAuth({ ...base, session: { secret: 's'.repeat(32) }, limits: { maxPasswordBytes: -1 } })).toThrow(/limits/)
  })

  it('identifies callers through identify() authenticators (e.g. API keys)', async () => {
    const { createAuth } = await import('./create-auth.js')
    const auth = createAuth({
      roles: [],
      authenticators: [
        {
          id: 'api-key',
          async identify({ request }) {
            const key = request.headers.get('x-api-key')
            if (key === null) return { outcome: 'skipped' }
            return key === 'k-123' ? { outcome: 'authenticated', user: { id: 'robot', username: 'robot', roles: [], source: 'api-key' } } : { outcome: 'rejected', reason: 'invalid-credentials' }
          },
        },
      ],
      session: { secret: 's'.repeat(32) },
    })
    const app = new Hono<AuthEnv>()
    app.use(auth.middleware())
    app.get('/who', Protected(), (c) => c.text(c.var.user.username))
    expect(await (await app.request(`${ORIGIN}/who`, { headers: { 'x-api-key': 'k-123' } })).text()).toBe('robot')
    expect((await app.request(`${ORIGIN}/who`, { headers: { 'x-api-key': 'nope' } })).status).toBe(401)
  })
})

describe('createAuth lifecycle', () => {
  it('close() closes every authenticator that can be closed', async () => {
    const { createAuth } = await import('./create-auth.js')
    let closed = 0
    const auth = createAuth({
      roles: [],
      authenticators: [
        { id: 'a', identify: async () => ({ outcome: 'skipped' as const }), close: async () => void closed++ },
        { id: 'b', identify: async () => ({ outcome: 'skipped' as const }) },
      ],
      session: { secret: 's'.repeat(32) },
    })
    await auth.close()
    expect(closed).toBe(1)
  })

  it('warns when a user logs in with roles the registry does not know', async () => {
    const warnings: unknown[] = []
    const logger = { debug() {}, info() {}, error() {}, warn: (fields: Record<string, unknown>) => void warnings.push(fields) }
    const { store, login } = await createTestApp({ logger })
    const admin = (await store.getUserByUsername({ username: 'admin' }))!
    await store.setRoles({ id: admin.id, roles: ['Administrator', 'Admins-typo'] })
    expect((await login('admin', 'admin-password-1')).res.status).toBe(200)
    expect(warnings).toEqual([expect.objectContaining({ roles: ['Admins-typo'] })])
  })
})

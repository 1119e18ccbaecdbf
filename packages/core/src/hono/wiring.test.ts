import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { ORIGIN, SECRET } from '../../test/fixtures.js'
import type { Authenticator } from '../authenticators/authenticator.js'
import { MemoryRevocationList } from '../store/memory-revocation-list.js'
import { MemoryLoginThrottle } from '../throttle/memory-login-throttle.js'
import type { CreateAuthOptions } from './create-auth.js'
import { createAuth } from './create-auth.js'
import { Protected } from './protected.js'

const nobody: Authenticator = { id: 'none', identify: async () => ({ outcome: 'skipped' }) }

function build(options: Partial<CreateAuthOptions> = {}) {
  const warnings: Array<Record<string, unknown>> = []
  const errors: Array<Record<string, unknown>> = []
  const logger = { debug() {}, info() {}, warn: (fields: Record<string, unknown>) => void warnings.push(fields), error: (fields: Record<string, unknown>) => void errors.push(fields) }
  const auth = createAuth({ roles: [], authenticators: [nobody], session: { secret: SECRET, secure: false }, logger, ...options })
  return { auth, warnings, errors }
}

describe('wiring that cannot be half-done', () => {
  it('warns at startup about each memory fallback it falls back to', () => {
    const { warnings } = build()
    expect(warnings.map((w) => w.option)).toEqual(['store', 'throttle'])
  })

  it('is silent when the memory fallbacks are chosen by name', () => {
    const { warnings } = build({ revocations: new MemoryRevocationList(), throttle: new MemoryLoginThrottle() })
    expect(warnings).toEqual([])
  })

  it('mounts the middleware and the routes at routesPath, and sends browsers to the login page there', async () => {
    const { auth, errors } = build({ routesPath: '/account', revocations: new MemoryRevocationList(), throttle: new MemoryLoginThrottle() })
    const app = auth.mount(new Hono())
    app.get('/private', Protected(), (c) => c.text('private'))
    const redirect = await app.request(`${ORIGIN}/private`, { headers: { accept: 'text/html' } })
    expect(redirect.headers.get('location')).toBe('/account/login?next=%2Fprivate')
    const page = await app.request(`${ORIGIN}/account/login`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<form method="post"')
    expect(errors).toEqual([])
  })

  it('logs an error when auth.routes() is mounted somewhere routesPath does not say', async () => {
    const { auth, errors } = build()
    const app = new Hono()
    app.use(auth.middleware())
    app.route('/login-here', auth.routes())
    expect((await app.request(`${ORIGIN}/login-here/login`)).status).toBe(200)
    expect(errors).toContainEqual(expect.objectContaining({ routesPath: '/auth', path: '/login-here/login' }))
  })

  it('refuses a routesPath that is not a path', () => {
    for (const routesPath of ['auth', '//evil', '/auth/', '/\\auth']) expect(() => build({ routesPath }), routesPath).toThrow(/routesPath/)
  })
})

describe("a login page of the app's own", () => {
  it('replaces the page and keeps the login route', async () => {
    const { createTestApp } = await import('../../test/fixtures.js')
    const { escapeHTML } = await import('./pages.js')
    const seen: unknown[] = []
    const { app } = await createTestApp({
      loginPage: (args) => {
        seen.push(args)
        return `<main class="brand"><form method="post"><input name="csrf" value="${escapeHTML(args.csrfToken)}"><input name="next" value="${escapeHTML(args.next)}"></form>${args.error ? `<p>${escapeHTML(args.error)}</p>` : ''}</main>`
      },
    })
    const page = await app.request(`${ORIGIN}/auth/login?next=%2Fadmin`)
    const body = await page.text()
    expect(body).toContain('<main class="brand">')
    const token = /name="csrf" value="([^"]+)"/.exec(body)![1]!
    const csrf = page.headers
      .getSetCookie()
      .find((c) => c.startsWith('gatehouse-csrf='))!
      .split(';')[0]!
    const res = await app.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { cookie: csrf, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: 'admin-password-1', csrf: token, next: '/admin' }).toString(),
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin')
    expect(seen[0]).toMatchObject({ next: '/admin', providers: [] })
    expect(() => build({ loginPage: '<html>' as never })).toThrow(/loginPage/)
  })
})

import { Hono } from 'hono'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { ORIGIN, SECRET } from '../../test/fixtures.js'
import { StoreUnavailableError, outageOf } from '../errors.js'
import { NOOP_LOGGER } from '../internal/logger.js'
import { Permission } from '../model/permission.js'
import { Role } from '../model/role.js'
import { MemoryUserStore } from '../store/memory-user-store.js'
import { PasswordAuthenticator } from '../store/password-authenticator.js'
import { createTestHasher } from '../testing.js'
import type { Auth, AuthEnv } from './create-auth.js'
import { createAuth } from './create-auth.js'

const VIEW = new Permission({ name: 'view' })
const DELETE = new Permission({ name: 'delete' })
const roles = [new Role({ name: 'Administrator', permissions: [VIEW, DELETE] }), new Role({ name: 'Viewer', permissions: [VIEW] })]

async function setup(routes: (app: Hono<AuthEnv>, auth: Auth<'Administrator' | 'Viewer', 'view' | 'delete'>) => void = () => {}) {
  const store = new MemoryUserStore()
  const hasher = createTestHasher()
  const auth = createAuth({ roles, authenticators: [new PasswordAuthenticator({ id: 'sql', store, hasher })], store, session: { secret: SECRET, secure: false }, logger: NOOP_LOGGER })
  await store.createUser({ username: 'admin', passwordHash: await hasher.hash('admin-password-1'), roles: ['Administrator'] })
  const app = new Hono<AuthEnv>()
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  routes(app, auth)
  const login = await app.request(`${ORIGIN}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ORIGIN },
    body: JSON.stringify({ username: 'admin', password: 'admin-password-1' }),
  })
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('gatehouse='))!
    .split(';')[0]!
  return { auth, app, store, cookie }
}

describe('auth.protect', () => {
  it('guards like Protected', async () => {
    const { app, cookie } = await setup((app, auth) => {
      app.get('/admin', auth.protect(['Administrator']), (c) => c.text('admin'))
      app.delete('/entries', auth.protect({ requiredPermissions: ['delete'] }), (c) => c.text('deleted'))
    })
    expect((await app.request(`${ORIGIN}/admin`, { headers: { cookie } })).status).toBe(200)
    expect((await app.request(`${ORIGIN}/admin`)).status).toBe(401)
    expect((await app.request(`${ORIGIN}/entries`, { method: 'DELETE', headers: { cookie } })).status).toBe(200)
  })

  it('throws when the app is built for a role or permission the registry does not know', async () => {
    const { auth } = await setup()
    // @ts-expect-error a misspelled role is a compile error
    expect(() => auth.protect(['Adminstrator'])).toThrow(/roles not in the role registry: Adminstrator/)
    // @ts-expect-error a permission no role grants is a compile error
    expect(() => auth.protect({ requiredPermissions: ['edit'] })).toThrow(/no registered role grants: edit/)
    // @ts-expect-error so is a misspelled role in the options form
    expect(() => auth.protect({ requiredRoles: ['Viewer', 'Vewer'] })).toThrow(TypeError)
    expect(() => auth.protect({ requiredRole: ['Viewer'] } as never)).toThrow(/unknown option/)
  })

  it('infers the registered names', async () => {
    const { auth } = await setup()
    expectTypeOf(auth).toEqualTypeOf<Auth<'Administrator' | 'Viewer', 'view' | 'delete'>>()
    expectTypeOf(auth.protect)
      .parameter(0)
      .toEqualTypeOf<readonly ('Administrator' | 'Viewer')[] | import('./protected.js').ProtectedOptions<'Administrator' | 'Viewer', 'view' | 'delete'> | undefined>()
    // An app's own environment composes with Gatehouse's without hand-written intersections.
    type Env = AuthEnv<{ Bindings: { DB: string }; Variables: { requestId: string } }>
    const app = new Hono<Env>()
    app.get('/', auth.protect(), (c) => {
      expectTypeOf(c.env.DB).toEqualTypeOf<string>()
      expectTypeOf(c.var.requestId).toEqualTypeOf<string>()
      expectTypeOf(c.var.user.username).toEqualTypeOf<string>()
      return c.text('ok')
    })
  })
})

describe('auth.getUser', () => {
  it('identifies a request outside the middleware chain, with the same revocation rules', async () => {
    const { auth, app, cookie } = await setup()
    const request = (headers: Record<string, string>) => new Request(`${ORIGIN}/ws`, { headers })
    expect((await auth.getUser(request({ cookie }))).username).toBe('admin')
    expect((await auth.getUser(request({}))).source).toBe('anonymous')
    expect((await auth.getUser(request({ cookie: `${cookie}x` }))).source).toBe('anonymous')
    await app.request(`${ORIGIN}/auth/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', origin: ORIGIN } })
    expect((await auth.getUser(request({ cookie }))).source).toBe('anonymous')
  })

  it('throws the outage when the store is down, instead of calling the caller anonymous', async () => {
    const { auth, store, cookie } = await setup()
    auth.sessions.invalidate({ type: 'all' })
    store.getUserById = async () => {
      throw new StoreUnavailableError()
    }
    const error = await auth.getUser(new Request(`${ORIGIN}/ws`, { headers: { cookie } })).catch((e: unknown) => e)
    expect(outageOf(error)).toBe('ERR_STORE_UNAVAILABLE')
  })
})

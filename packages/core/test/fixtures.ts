import { Hono } from 'hono'
import { createTestHasher } from '../src/testing.js'
import type { AuthEnv, CreateAuthOptions } from '../src/index.js'
import { MemoryLoginThrottle, MemoryRevocationList, MemoryUserStore, NOOP_LOGGER, PasswordAuthenticator, Permission, Protected, Role, createAuth } from '../src/index.js'

export const VIEW = new Permission({ name: 'view' })
export const EDIT = new Permission({ name: 'edit' })
export const DELETE = new Permission({ name: 'delete' })
export const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
export const ORIGIN = 'http://app.test'

/** A real Hono app wired with Gatehouse over a memory store, as a user's app would be. */
export async function createTestApp(overrides: Partial<CreateAuthOptions> = {}) {
  const store = new MemoryUserStore()
  const hasher = createTestHasher()
  const sql = new PasswordAuthenticator({ id: 'sql', store, hasher })
  const roles = [new Role({ name: 'Administrator', permissions: [VIEW, EDIT, DELETE] }), new Role({ name: 'User', permissions: [VIEW, EDIT] }), new Role({ name: 'Viewer', permissions: [VIEW] })]
  const auth = createAuth({
    roles,
    authenticators: [sql],
    session: { secret: SECRET, secure: false },
    store,
    revocations: new MemoryRevocationList(),
    throttle: new MemoryLoginThrottle(),
    logger: NOOP_LOGGER,
    ...overrides,
  })
  const app = new Hono<AuthEnv>()
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  app.get('/', (c) => c.text(`hello ${c.var.user.username}`))
  app.get('/admin', Protected(['Administrator']), (c) => c.text('admin area'))
  app.get('/any', Protected(), (c) => c.text(`any ${c.var.user.username}`))
  app.delete('/entries', Protected({ requiredPermissions: ['delete'] }), (c) => c.text('deleted'))
  await store.createUser({ username: 'admin', passwordHash: await hasher.hash('admin-password-1'), roles: ['Administrator'] })
  await store.createUser({ username: 'viewer', passwordHash: await hasher.hash('viewer-password-1'), roles: ['Viewer'] })

  /** JSON login; returns the response and the session cookie pair (`name=value`). */
  async function login(username: string, password: string, headers: Record<string, string> = {}) {
    const res = await app.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
      body: JSON.stringify({ username, password }),
    })
    return { res, cookie: sessionCookieOf(res) }
  }
  return { app, auth, store, hasher, login }
}

/** `name=value` of the session cookie a response sets, or undefined. */
export function sessionCookieOf(res: Response): string | undefined {
  const header = res.headers.getSetCookie().find((c) => c.startsWith('gatehouse='))
  return header?.split(';')[0]
}

/** The `error.code` of a Gatehouse JSON error response. */
export async function errorCodeOf(res: Response): Promise<string> {
  const body = (await res.json()) as { error?: { code?: string } }
  return body.error?.code ?? ''
}

/** Redirect targets that must never leave the site, each a way a browser could be sent off it. */
export const OFF_SITE_TARGETS = [
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '/.//evil.example',
  '/..//evil.example',
  '/a/..//evil.example',
  '/a/b/../..//evil.example',
  '/././/evil.example',
  '/%2e//evil.example',
  '/%2E%2E//evil.example',
  '/a/%2e%2e//evil.example',
  '/.%2e//evil.example',
  '/%2e/%2e//evil.example',
  '/.\\/evil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '\t//evil.example',
  ' //evil.example',
  '/%0d%0aSet-Cookie:x=1',
  'https://evil.example/',
  'http:evil.example',
  'javascript:alert(1)',
  'data:text/html,hi',
  'evil.example',
  './/evil.example',
  '',
]

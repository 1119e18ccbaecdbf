import type { AuthEnv } from '@gatehouse/core'
import { AuthenticatorUnavailableError, MemoryUserStore, PasswordAuthenticator, Role, createAuth } from '@gatehouse/core'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { createTestHasher } from '@gatehouse/testkit'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { authenticatorFor, provider } from './helpers.js'

const ORIGIN = 'http://app.test'
const TOKEN = '/protocol/openid-connect/token'
let server: OIDCTestServer
beforeAll(async () => {
  server = await provider()
})
afterAll(() => server.stop())

async function app() {
  const hasher = createTestHasher()
  const store = new MemoryUserStore()
  await store.createUser({ username: 'dave', passwordHash: await hasher.hash('dave-sql-password'), roles: ['Viewer'] })
  const oidc = authenticatorFor(server, { passwordGrant: true })
  const auth = createAuth({
    roles: ['Administrator', 'Viewer', 'Editor'].map((name) => new Role({ name })),
    authenticators: [new PasswordAuthenticator({ id: 'sql', store, hasher }), oidc],
    store,
    session: { secret: 'z'.repeat(40), secure: false },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })
  const hono = new Hono<AuthEnv>()
  hono.use(auth.middleware())
  hono.route('/auth', auth.routes())
  const login = (username: string, password: string) =>
    hono.request(`${ORIGIN}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify({ username, password }) })
  return { hono, login, oidc, auth }
}

describe('legacy password grant (opt-in)', () => {
  test('off by default: the authenticator has no authenticate', () => {
    expect(authenticatorFor(server).authenticate).toBeUndefined()
    expect(authenticatorFor(server, { passwordGrant: true }).authenticate).toBeTypeOf('function')
  })

  test('a provider user logs in with the login form; roles from the access token; session source oidc', async () => {
    const { login, auth } = await app()
    const response = await login('alice', server.users.alice.password)
    expect(response.status).toBe(200)
    const { user } = (await response.json()) as { user: { roles: string[] } }
    expect(user).toMatchObject({ username: 'alice', source: 'oidc' })
    expect([...user.roles].sort()).toEqual(['Administrator', 'Editor'])
    expect(response.headers.getSetCookie().some((line) => line.startsWith(`${auth.sessions.cookieName}=`))).toBe(true)
  })

  test('a wrong password is 401 like any other; the provider down is 503', async () => {
    const { login } = await app()
    expect((await login('alice', 'wrong-password')).status).toBe(401)
    const own = await provider()
    const oidc = authenticatorFor(own, { passwordGrant: true, timeoutMs: 500 })
    await own.stop()
    await expect(oidc.authenticate!({ credentials: { username: 'alice', password: 'x' }, request: new Request(ORIGIN) })).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
  })

  test('failures go through the throttle like SQL passwords', async () => {
    const { login } = await app()
    for (let i = 0; i < 6; i++) expect((await login('bob', `wrong-${i}`)).status).toBe(401)
    const throttled = await login('bob', server.users.bob.password)
    expect(throttled.status).toBe(429)
  })

  test('what the chain promises: every failed login costs the same backend calls (one token request), SQL user or not', async () => {
    const { login } = await app()
    const calls = async (username: string, password: string, status: number) => {
      const before = server.count(TOKEN)
      expect((await login(username, password)).status).toBe(status)
      return server.count(TOKEN) - before
    }
    // Unknown everywhere, an SQL user with a wrong password, a provider user with a wrong password:
    expect(await calls('nobody', 'x-password-1', 401)).toBe(1)
    expect(await calls('dave', 'x-password-1', 401)).toBe(1)
    expect(await calls('carol', 'x-password-1', 401)).toBe(1)
    // The residual: a correct SQL password never reaches the provider (the success itself is no secret).
    expect(await calls('dave', 'dave-sql-password', 200)).toBe(0)
  })
})

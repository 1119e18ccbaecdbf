import type { AuthEnv, Authenticator } from '@gatehouse/core'
import { NOOP_LOGGER, Permission, Protected, Role, createAuth } from '@gatehouse/core'
import { OpenAPIHono, createRoute } from '@hono/zod-openapi'
import { describe, expect, it } from 'vitest'
import { SECURITY_SCHEME_NAMES, gatehouseSecuritySchemes, openAPIGuards } from './openapi.js'

const VIEW = new Permission({ name: 'view' })
const roles = [new Role({ name: 'Administrator', permissions: [VIEW] }), new Role({ name: 'Viewer', permissions: [VIEW] })]
/** Bearer tokens `<role>:<scope>` for tests: a real authenticator in the chain, no mock of the guard. */
const tokens: Authenticator = {
  id: 'tokens',
  async identify({ request }) {
    const match = /^Bearer (\w*):(\S*)$/.exec(request.headers.get('authorization') ?? '')
    if (match === null) return { outcome: 'skipped' }
    return { outcome: 'authenticated', user: { id: 'robot', username: 'robot', roles: match[1] ? [match[1]] : [], source: 'tokens' }, scopes: match[2] ? match[2].split(',') : [] }
  },
}

function appWithGuards() {
  const auth = createAuth({ roles, authenticators: [tokens], session: { secret: 's'.repeat(40), secure: false }, logger: NOOP_LOGGER })
  const app = new OpenAPIHono<AuthEnv>()
  app.use(auth.middleware())
  const guarded = openAPIGuards({ protect: auth.protect, schemes: ['session', 'bearer', 'oidc'] })
  const routes = {
    '/admin': guarded(['Administrator']),
    '/both': guarded({ requiredRoles: ['Administrator', 'Viewer'], requireAll: true }),
    '/notes': guarded({ requiredPermissions: ['view'] }),
    '/scoped': guarded({ requiredScopes: ['notes:read'] }),
    '/anyone': guarded(),
    '/maybe': guarded({ optional: true }),
  }
  for (const [path, guard] of Object.entries(routes)) {
    app.openapi(createRoute({ method: 'get', path, ...guard.route, responses: { ...guard.responses, 200: { description: 'ok' } } }), (c) => c.text('ok'))
  }
  const document = app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '1' } })
  return { app, document: document as unknown as { paths: Record<string, { get: Record<string, unknown> }> } }
}

describe('openAPIGuards', () => {
  it('documents each route from the guard object it checks with', () => {
    const { document } = appWithGuards()
    const op = (path: string) => document.paths[path]!.get
    expect(op('/admin').security).toEqual([{ sessionCookie: ['Administrator'] }, { bearerJWT: ['Administrator'] }, { oidc: [] }])
    expect(op('/admin')['x-gatehouse-guard']).toMatchObject({ requiredRoles: ['Administrator'], requireAll: false })
    expect(op('/admin').description).toBe('Requires roles (any of): `Administrator`.')
    expect(op('/both').description).toBe('Requires roles (all of): `Administrator`, `Viewer`.')
    expect(op('/notes').description).toBe('Requires permissions (any of): `view`.')
    // A session never grants scopes: the cookie is not offered; the provider's flow asks for the scope.
    expect(op('/scoped').security).toEqual([{ bearerJWT: [] }, { oidc: ['notes:read'] }])
    expect(op('/anyone').description).toBe('Requires: any signed-in user.')
    expect(op('/maybe').security).toContainEqual({})
    expect(Object.keys(op('/admin').responses as object).sort()).toEqual(['200', '401', '403'])
    expect(Object.keys(op('/maybe').responses as object)).toEqual(['200'])
  })

  it('the middleware enforces exactly what the document says', async () => {
    const { app } = appWithGuards()
    const get = (path: string, token?: string) => app.request(`http://app.test${path}`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
    expect((await get('/admin')).status).toBe(401)
    expect((await get('/admin', 'Viewer:')).status).toBe(403)
    expect((await get('/admin', 'Administrator:')).status).toBe(200)
    expect((await get('/both', 'Administrator:')).status).toBe(403)
    expect((await get('/notes', 'Viewer:')).status).toBe(200)
    expect((await get('/scoped', 'Viewer:')).status).toBe(403)
    expect((await get('/scoped', 'Viewer:notes:read')).status).toBe(200)
    expect((await get('/maybe')).status).toBe(200)
  })

  it('throws when the app is built for a guard the registry refuses, before any document exists', () => {
    const auth = createAuth({ roles, authenticators: [tokens], session: { secret: 's'.repeat(40), secure: false }, logger: NOOP_LOGGER })
    const guarded = openAPIGuards({ protect: auth.protect })
    expect(() => guarded(['Nobody' as 'Administrator'])).toThrow(TypeError)
    expect(() => openAPIGuards({ protect: Protected, schemes: ['saml' as 'session'] })).toThrow(TypeError)
  })

  it('OpenAPI 3.0 keeps the role names out of non-OAuth requirements', () => {
    const guard = openAPIGuards({ openapi: '3.0' })(['Administrator'])
    expect(guard.route.security).toEqual([{ sessionCookie: [] }, { bearerJWT: [] }])
  })
})

describe('gatehouseSecuritySchemes', () => {
  it('declares the cookie, bearer JWT and the provider code flow', () => {
    const schemes = gatehouseSecuritySchemes({ sessionCookie: 'gatehouse', oidc: { authorizationUrl: 'https://sso.test/auth', tokenUrl: 'https://sso.test/token' } })
    expect(schemes[SECURITY_SCHEME_NAMES.session]).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'gatehouse' })
    expect(schemes[SECURITY_SCHEME_NAMES.bearer]).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    expect(schemes[SECURITY_SCHEME_NAMES.oidc]).toMatchObject({
      type: 'oauth2',
      flows: { authorizationCode: { authorizationUrl: 'https://sso.test/auth', tokenUrl: 'https://sso.test/token', scopes: { openid: expect.any(String) } } },
    })
    expect(() => gatehouseSecuritySchemes({ oidc: { authorizationUrl: 'javascript:alert(1)', tokenUrl: 'https://sso.test/token' } })).toThrow(TypeError)
  })
})

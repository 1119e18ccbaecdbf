import type { AuthEnv, Authenticator, Logger } from '@gatehouse/core'
import { MemoryLoginThrottle, MemoryRevocationList, Role, createAuth } from '@gatehouse/core'
import { Hono } from 'hono'

export const ORIGIN = 'http://app.test'

/** RBAC over route patterns (keyMatch2), the model most tests use. */
export const RBAC_MODEL = `
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && keyMatch2(r.obj, p.obj) && r.act == p.act
`

/**
 * Callers of the test apps say who they are in a header, `x-<source>-user: <id>;<Role>,<Role>`,
 * through one identify() authenticator per source: the principal is (source, id) as for any
 * Gatehouse authenticator, and no browser would attach the header (no CSRF check).
 */
export function headerAuthenticator(source: string): Authenticator {
  return {
    id: source,
    async identify({ request }) {
      const header = request.headers.get(`x-${source}-user`)
      if (header === null) return { outcome: 'skipped' }
      const [id = '', roles = ''] = header.split(';')
      const iss = request.headers.get(`x-${source}-iss`)
      return { outcome: 'authenticated', user: { id, username: id.split(',')[0]!.replace(/^uid=/, ''), roles: roles.split(',').filter(Boolean), source, ...(iss !== null && { claims: { iss } }) } }
    },
  }
}

export const ROLES = [new Role({ name: 'Administrator' }), new Role({ name: 'User' }), new Role({ name: 'Viewer' }), new Role({ name: 'Editor' })]

/** A logger that keeps every line. */
export function memoryLogger(): Logger & { lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = []
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message })
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** A real Gatehouse app with the `sql` and `ldap` header authenticators. */
export function createApp() {
  const logger = memoryLogger()
  const auth = createAuth({
    roles: ROLES,
    authenticators: [headerAuthenticator('sql'), headerAuthenticator('ldap'), headerAuthenticator('oidc')],
    session: { secret: 'a test secret that is long enough to seal cookies', secure: false },
    logger,
    revocations: new MemoryRevocationList(),
    throttle: new MemoryLoginThrottle(),
  })
  const app = new Hono<AuthEnv>()
  app.onError(auth.onError)
  auth.mount(app)
  const request = (path: string, init: { method?: string; sql?: string; ldap?: string; headers?: Record<string, string> } = {}) =>
    app.request(`${ORIGIN}${path}`, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...(init.sql && { 'x-sql-user': init.sql }), ...(init.ldap && { 'x-ldap-user': init.ldap }), ...init.headers },
    })
  return { app, auth, logger, request }
}

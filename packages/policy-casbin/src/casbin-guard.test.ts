import { newEnforcer, newModelFromString, StringAdapter } from 'casbin'
import { describe, expect, it } from 'vitest'
import { createApp } from '../test/fixtures.js'
import { casbinGuard, keycloakRealm } from './casbin-guard.js'
import { newCasbinEnforcer } from './casbin-enforcer.js'
import { RBAC_MODEL } from '../test/fixtures.js'

// RBAC over paths, with role inheritance: Administrator inherits User.
const RBAC_POLICY = `
p, User, /reports/:id, GET
p, Administrator, /reports/:id, DELETE
p, sql:alice, /alice-only, GET
g, Administrator, User
g, ldap:bob, Auditor
p, Auditor, /audit, GET
`

// The demo's rule: a User may edit or delete only their own entries, an Administrator any.
const OWNERSHIP_MODEL = `
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, act, rule
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.act == p.act && eval(p.rule)
`
const OWNERSHIP_POLICY = `
p, Administrator, edit, true
p, User, edit, r.obj.owner == r.sub.id
`

// RBAC with domains: roles granted per tenant.
const DOMAIN_MODEL = `
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && keyMatch2(r.obj, p.obj) && r.act == p.act
`

describe('casbinGuard', () => {
  it('names users by principal <source>:<id>: an LDAP alice and an SQL alice never share a rule', async () => {
    const enforcer = await newCasbinEnforcer({ model: RBAC_MODEL, policy: RBAC_POLICY })
    const { app, request } = createApp()
    app.get('/alice-only', casbinGuard(enforcer), (c) => c.text('hello alice'))
    expect((await request('/alice-only', { sql: 'alice' })).status).toBe(200)
    expect((await request('/alice-only', { ldap: 'alice' })).status).toBe(403)
    expect((await request('/alice-only', { ldap: 'sql:alice' })).status).toBe(403)
    // A role named like a principal (from a group or a claim the app never registered) is no way in.
    expect((await request('/alice-only', { ldap: 'mallory;sql:alice' })).status).toBe(403)
  })

  it("counts the user's Gatehouse roles as Casbin role memberships, without g lines, with inheritance", async () => {
    const enforcer = await newCasbinEnforcer({ model: RBAC_MODEL, policy: RBAC_POLICY })
    const { app, request } = createApp()
    app.on(['GET', 'DELETE'], '/reports/:id', casbinGuard(enforcer), (c) => c.text('report'))
    app.get('/audit', casbinGuard(enforcer), (c) => c.text('audit'))
    expect((await request('/reports/7', { sql: '42;User' })).status).toBe(200)
    expect((await request('/reports/7', { sql: '42;User', method: 'DELETE' })).status).toBe(403)
    expect((await request('/reports/7', { sql: '42;Viewer' })).status).toBe(403)
    // Administrator inherits User (g, Administrator, User) and has DELETE itself.
    expect((await request('/reports/7', { sql: '1;Administrator' })).status).toBe(200)
    expect((await request('/reports/7', { sql: '1;Administrator', method: 'DELETE' })).status).toBe(200)
    // A g line of the policy still counts, for the principal it names only.
    expect((await request('/audit', { ldap: 'bob' })).status).toBe(200)
    expect((await request('/audit', { sql: 'bob' })).status).toBe(403)
    // A role the app never registered (a stray group or claim) is no membership.
    expect((await request('/audit', { sql: 'eve;Auditor' })).status).toBe(403)
    // One user's roles never leak into the next check: the enforcer keeps no g line for them.
    expect(await enforcer.getRolesForUser('sql:1')).toEqual([])
    expect((await request('/reports/7', { sql: '1', method: 'DELETE' })).status).toBe(403)
  })

  it("accepts an enforcer built with casbin's own newEnforcer (installs the role manager, keeps its g lines)", async () => {
    const enforcer = await newEnforcer(newModelFromString(RBAC_MODEL), new StringAdapter(RBAC_POLICY))
    const { app, request } = createApp()
    app.get('/audit', casbinGuard(enforcer), (c) => c.text('audit'))
    app.get('/reports/:id', casbinGuard(enforcer), (c) => c.text('report'))
    expect((await request('/audit', { ldap: 'bob' })).status).toBe(200)
    expect((await request('/reports/1', { sql: '9;Administrator' })).status).toBe(200)
  })

  it('decides an ownership rule on an ABAC object: a User edits only their own entries, an Administrator any', async () => {
    const enforcer = await newCasbinEnforcer({ model: OWNERSHIP_MODEL, policy: OWNERSHIP_POLICY })
    const entries = new Map([
      ['1', { owner: 'sql:42' }],
      ['2', { owner: 'ldap:42' }],
    ])
    const { app, request } = createApp()
    app.put('/entries/:id', casbinGuard(enforcer, { object: (c) => entries.get(c.req.param('id') ?? ''), action: 'edit' }), (c) => c.text('edited'))
    expect((await request('/entries/1', { method: 'PUT', sql: '42;User' })).status).toBe(200)
    // Same id, other source: not the owner.
    expect((await request('/entries/2', { method: 'PUT', sql: '42;User' })).status).toBe(403)
    expect((await request('/entries/2', { method: 'PUT', ldap: '42;User' })).status).toBe(200)
    expect((await request('/entries/1', { method: 'PUT', ldap: 'root;Administrator' })).status).toBe(200)
    expect((await request('/entries/1', { method: 'PUT', sql: '43;Viewer' })).status).toBe(403)
  })

  it("takes the domain from the request: roles from g lines hold in their tenant only, Gatehouse roles in the request's", async () => {
    const enforcer = await newCasbinEnforcer({
      model: DOMAIN_MODEL,
      policy: `
p, Editor, acme, /docs/:id, GET
p, Editor, globex, /docs/:id, GET
g, sql:7, Editor, acme
`,
    })
    const { app, request } = createApp()
    app.get('/t/:tenant/docs/:id', casbinGuard(enforcer, { domain: (c) => c.req.param('tenant'), object: (c) => `/docs/${c.req.param('id')}` }), (c) => c.text('doc'))
    expect((await request('/t/acme/docs/1', { sql: '7' })).status).toBe(200)
    expect((await request('/t/globex/docs/1', { sql: '7' })).status).toBe(403)
    expect((await request('/t/globex/docs/1', { sql: '8;Editor' })).status).toBe(200)
  })

  it("takes the domain from the token's Keycloak realm with keycloakRealm", async () => {
    const enforcer = await newCasbinEnforcer({ model: DOMAIN_MODEL, policy: 'p, Editor, acme, /docs/:id, GET' })
    const { app, request } = createApp()
    app.get('/docs/:id', casbinGuard(enforcer, { domain: keycloakRealm }), (c) => c.text('doc'))
    const as = (iss?: string) => request('/docs/1', { headers: { 'x-oidc-user': 'f81d4fae;Editor', ...(iss && { 'x-oidc-iss': iss }) } })
    expect((await as('https://sso.example.org/realms/acme')).status).toBe(200)
    expect((await as('https://sso.example.org/realms/globex')).status).toBe(403)
    expect((await as('https://sso.example.org/')).status).toBe(403)
    expect((await as()).status).toBe(403)
  })

  it('denies when enforcement was switched off on the enforcer (Casbin would allow everything)', async () => {
    const enforcer = await newCasbinEnforcer({ model: RBAC_MODEL, policy: RBAC_POLICY })
    const { app, request, logger } = createApp()
    app.get('/reports/:id', casbinGuard(enforcer), (c) => c.text('report'))
    enforcer.enableEnforce(false)
    expect((await request('/reports/1', { sql: '1;Viewer' })).status).toBe(403)
    expect((await request('/reports/1', { sql: '1;User' })).status).toBe(403)
    expect(logger.lines.some((l) => String(l.fields.err).includes('enableEnforce(false)'))).toBe(true)
  })

  it('answers anonymous callers like Protected (401 JSON, a redirect for browsers), with Cache-Control: no-store', async () => {
    const enforcer = await newCasbinEnforcer({ model: RBAC_MODEL, policy: RBAC_POLICY })
    const { app, request } = createApp()
    app.get('/reports/:id', casbinGuard(enforcer), (c) => c.text('report'))
    const api = await request('/reports/1')
    expect(api.status).toBe(401)
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('ERR_UNAUTHENTICATED')
    expect(api.headers.get('cache-control')).toBe('no-store')
    const browser = await request('/reports/1', { headers: { accept: 'text/html' } })
    expect(browser.status).toBe(302)
    const denied = await request('/reports/1', { method: 'GET', sql: '1' })
    expect(denied.status).toBe(403)
    expect(denied.headers.get('cache-control')).toBe('no-store')
    const allowed = await request('/reports/1', { sql: '1;User' })
    expect(allowed.headers.get('cache-control')).toBe('no-store')
  })

  it('denies with 403 and logs the reason when the matcher throws; the body says nothing of the policy', async () => {
    const broken = RBAC_MODEL.replace('keyMatch2(r.obj, p.obj)', 'noSuchFunction(r.obj, p.obj)')
    const enforcer = await newCasbinEnforcer({ model: broken, policy: RBAC_POLICY })
    const { app, request, logger } = createApp()
    app.get('/reports/:id', casbinGuard(enforcer), (c) => c.text('report'))
    const res = await request('/reports/1', { sql: '1;Administrator' })
    expect(res.status).toBe(403)
    const body = await res.text()
    expect(JSON.parse(body)).toEqual({ error: { code: 'ERR_FORBIDDEN', message: 'You are not allowed to do this.' } })
    expect(body).not.toMatch(/noSuchFunction|keyMatch|Administrator|reports/)
    const line = logger.lines.find((l) => l.message.startsWith('casbinGuard: the policy check failed'))
    expect(line?.level).toBe('error')
    expect(line?.fields).toMatchObject({ path: '/reports/1', method: 'GET', principal: 'sql:1' })
    expect(String(line?.fields.err)).toMatch(/matcher|noSuchFunction/)
  })

  it('denies with 403 and logs when an object function throws, or a domain is missing', async () => {
    const enforcer = await newCasbinEnforcer({ model: OWNERSHIP_MODEL, policy: OWNERSHIP_POLICY })
    const domains = await newCasbinEnforcer({ model: DOMAIN_MODEL, policy: 'p, Editor, acme, /x, GET' })
    const { app, request, logger } = createApp()
    app.put(
      '/entries/:id',
      casbinGuard(enforcer, {
        object: () => {
          throw new Error('entry store down')
        },
        action: 'edit',
      }),
      (c) => c.text('edited'),
    )
    app.get('/x', casbinGuard(domains, { domain: (c) => c.req.header('x-tenant') }), (c) => c.text('x'))
    expect((await request('/entries/1', { method: 'PUT', sql: '1;Administrator' })).status).toBe(403)
    expect(logger.lines.some((l) => l.level === 'error' && String(l.fields.err).includes('entry store down'))).toBe(true)
    expect((await request('/x', { sql: '1;Editor' })).status).toBe(403)
    expect((await request('/x', { sql: '1;Editor', headers: { 'x-tenant': 'acme' } })).status).toBe(200)
    expect(logger.lines.some((l) => l.message.includes('no domain'))).toBe(true)
  })

  it('denies (never allows) when a policy rule is an expression that does not evaluate', async () => {
    const enforcer = await newCasbinEnforcer({ model: OWNERSHIP_MODEL, policy: 'p, User, edit, r.obj.owner.missing.deeper == r.sub.id' })
    const { app, request, logger } = createApp()
    app.put('/entries/:id', casbinGuard(enforcer, { object: () => ({}), action: 'edit' }), (c) => c.text('edited'))
    expect((await request('/entries/1', { method: 'PUT', sql: '1;User' })).status).toBe(403)
    expect(logger.lines.some((l) => l.level === 'error')).toBe(true)
  })

  it('throws TypeError when the app is built for a misconfiguration', async () => {
    const rbac = await newCasbinEnforcer({ model: RBAC_MODEL, policy: RBAC_POLICY })
    const domains = await newCasbinEnforcer({ model: DOMAIN_MODEL })
    expect(() => casbinGuard({} as never)).toThrow(TypeError)
    expect(() => casbinGuard(rbac, { objekt: '/x' } as never)).toThrow(/unknown option "objekt"/)
    expect(() => casbinGuard(rbac, { action: 42 } as never)).toThrow(TypeError)
    expect(() => casbinGuard(rbac, { domain: 'acme' })).toThrow(/request has 3 fields/)
    expect(() => casbinGuard(domains)).toThrow(/request has 4 fields/)
    expect(() => casbinGuard(rbac, { csrf: 'no' } as never)).toThrow(TypeError)
    // A model without matcher or effect fails at startup too: in Casbin while building, or here.
    await expect(newCasbinEnforcer({ model: '[request_definition]\nr = sub, obj, act\n' }).then((e) => casbinGuard(e))).rejects.toThrow()
  })

  it('reads the model and policy from files', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-casbin-'))
    writeFileSync(join(dir, 'model.conf'), RBAC_MODEL)
    writeFileSync(join(dir, 'policy.csv'), RBAC_POLICY)
    const enforcer = await newCasbinEnforcer({ model: { file: join(dir, 'model.conf') }, policy: { file: join(dir, 'policy.csv') } })
    const { app, request } = createApp()
    app.get('/reports/:id', casbinGuard(enforcer), (c) => c.text('report'))
    expect((await request('/reports/1', { sql: '1;User' })).status).toBe(200)
    await expect(newCasbinEnforcer({ model: { file: join(dir, 'missing.conf') } })).rejects.toThrow(/ENOENT/)
  })
})

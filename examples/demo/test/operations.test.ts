import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from '@gatehouse/core'
import type { SQLStore } from '@gatehouse/store-sql'
import { openSQLStore } from '@gatehouse/store-sql'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { startOIDCProvider } from '@gatehouse/testkit'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createDemoApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { ldapAuthenticator } from '../src/ldap.js'
import { oidcAuthenticator } from '../src/oidc.js'
import { HEALTH_DEADLINE_MS } from '../src/operations.js'

const ldap = inject('ldap')
const ORIGIN = 'http://demo.test'
const METRICS_TOKEN = 'operator-token-0123456789abcdef'
const PASSWORDS = { admin: 'admin passphrase 1', viewer: 'viewer passphrase 1' }

let provider: OIDCTestServer
let dir: string
const stores: SQLStore[] = []
const closers: Array<() => Promise<void>> = []
beforeAll(async () => {
  provider = await startOIDCProvider()
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-ops-'))
  writeFileSync(join(dir, 'ca.pem'), ldap.caPEM)
})
afterAll(async () => {
  for (const close of closers) await close()
  for (const sql of stores) await sql.close()
  await provider.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** pino writing JSON lines into memory: what the demo's logger writes, read back. */
function capturedLogger() {
  const raw: string[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void raw.push(line) })
  return { raw, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>), logger: logger as unknown as Logger }
}

/** The demo over SQLite, LDAP (slapd) and OIDC (the test provider), wired as server.ts does. */
async function demo(options: { metricsToken?: string; ldapURL?: string } = {}) {
  const sql = await openSQLStore({ uri: join(dir, `${stores.length}.db`) })
  stores.push(sql)
  await sql.accounts.add({ username: 'admin', password: PASSWORDS.admin, roles: ['Administrator'] })
  await sql.accounts.add({ username: 'viewer', password: PASSWORDS.viewer, roles: ['Viewer'] })
  const config = loadConfig({
    LDAP_URL: options.ldapURL ?? ldap.url,
    LDAP_BIND_DN: ldap.serviceDN,
    LDAP_BIND_PASSWORD: ldap.servicePassword,
    LDAP_SEARCH_BASE: ldap.peopleDN,
    LDAP_GROUP_ROLES: 'admins=Administrator,staff=User',
    OIDC_ISSUER: provider.issuer,
    OIDC_CLIENT_ID: provider.clients.gatehouse.clientId,
    OIDC_CLIENT_SECRET: provider.clients.gatehouse.clientSecret,
    OIDC_ROLE_MAP: 'admin=Administrator,user=Viewer',
    ...(options.metricsToken !== undefined && { METRICS_TOKEN: options.metricsToken }),
  })
  const log = capturedLogger()
  const secret = 'd'.repeat(40)
  const authenticators = [ldapAuthenticator(config.ldap!, log.logger), oidcAuthenticator(config.oidc!, { sessionSecret: secret, logger: log.logger })]
  const { app, auth } = createDemoApp({
    sql,
    authenticators,
    secret,
    secureCookies: false,
    logger: log.logger,
    metricsToken: config.metricsToken,
    docsOIDC: { clientId: config.oidc!.docsClientId, origin: ORIGIN },
  })
  closers.push(() => auth.close())
  const login = async (username: string, password: string) => {
    const res = await app.request(`${ORIGIN}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify({ username, password }) })
    return { status: res.status, cookie: res.headers.getSetCookie()[0]?.split(';')[0] }
  }
  const get = (path: string, headers: Record<string, string> = {}) => app.request(`${ORIGIN}${path}`, { headers })
  const scrape = async () => {
    const res = await get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })
    expect(res.status).toBe(200)
    return res.text()
  }
  return { app, auth, sql, log, login, get, scrape }
}

/** The value of one sample of the exposition text (`undefined` when absent). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3])
  }
  return undefined
}

function labelValues(text: string): Set<string> {
  return new Set([...text.matchAll(/(\w+)="([^"]*)"/g)].filter((m) => m[1] !== 'le').map((m) => m[2]!))
}

async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('/metrics', () => {
  it('is a 404 without METRICS_TOKEN, a 401 with a wrong or missing token, 200 with it', async () => {
    const closed = await demo()
    expect((await closed.get('/metrics')).status).toBe(404)
    expect((await closed.get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })).status).toBe(404)
    const open = await demo({ metricsToken: METRICS_TOKEN })
    expect((await open.get('/metrics')).status).toBe(401)
    expect((await open.get('/metrics', { authorization: 'Bearer operator-token-0123456789abcdeF' })).status).toBe(401)
    expect((await open.get('/metrics', { authorization: `Basic ${METRICS_TOKEN}` })).status).toBe(401)
    const ok = await open.get('/metrics', { authorization: `Bearer ${METRICS_TOKEN}` })
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/)
  })

  it('a JWT-looking METRICS_TOKEN never reaches the OpenID authenticator', async () => {
    // A real access token of the provider: the chain would accept it, so any leak would show.
    const { access_token: jwt } = await provider.passwordGrant({ username: 'alice', password: provider.users.alice.password })
    const app = await demo({ metricsToken: jwt })
    const before = provider.count('/protocol/openid-connect/certs')
    const res = await app.get('/metrics', { authorization: `Bearer ${jwt}` })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(value(text, 'gatehouse_token_validations_total')).toBeUndefined()
    expect(value(text, 'gatehouse_provider_fetches_total')).toBeUndefined()
    expect(provider.count('/protocol/openid-connect/certs')).toBe(before)
    // The same token on an API route does go to the chain (and is counted).
    await app.get('/api/entries', { authorization: `Bearer ${jwt}` })
    expect(value(await (await app.get('/metrics', { authorization: `Bearer ${jwt}` })).text(), 'gatehouse_token_validations_total', { authenticator: 'oidc', outcome: 'valid', cached: 'false' })).toBe(
      1,
    )
  })

  it('counts real logins, token checks, a throttled burst and LDAP binds, by how much; no username, address or token in a label', async () => {
    const app = await demo({ metricsToken: METRICS_TOKEN })
    expect((await app.login('admin', PASSWORDS.admin)).status).toBe(200)
    expect((await app.login('viewer', PASSWORDS.viewer)).status).toBe(200)
    expect((await app.login('alice', ldap.users.alice!.password)).status).toBe(200)
    expect((await app.login('alice', 'wrong password')).status).toBe(401)

    const { access_token } = await provider.passwordGrant({ username: 'alice', password: provider.users.alice.password })
    expect((await app.get('/api/entries', { authorization: `Bearer ${access_token}` })).status).toBe(200)
    expect((await app.get('/api/entries', { authorization: `Bearer ${access_token}` })).status).toBe(200)
    expect((await app.get('/api/entries', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' })).status).toBe(401)

    let failures = 0
    let throttled = 0
    for (let i = 0; i < 30 && throttled < 2; i++) {
      const { status } = await app.login('viewer', `wrong ${i}`)
      if (status === 429) throttled++
      else failures++
    }
    expect(throttled).toBe(2)

    const text = await app.scrape()
    expect(value(text, 'gatehouse_login_attempts_total', { authenticator: 'sql', outcome: 'succeeded' })).toBe(2)
    expect(value(text, 'gatehouse_login_attempts_total', { authenticator: 'ldap', outcome: 'succeeded' })).toBe(1)
    expect(value(text, 'gatehouse_login_attempts_total', { authenticator: 'none', outcome: 'failed' })).toBe(1 + failures)
    expect(value(text, 'gatehouse_login_attempts_total', { authenticator: 'none', outcome: 'throttled' })).toBe(2)
    expect(value(text, 'gatehouse_logins_throttled_total')).toBe(2)
    expect(value(text, 'gatehouse_audit_events_total', { event: 'login.throttled' })).toBe(2)
    expect(value(text, 'gatehouse_directory_binds_total', { authenticator: 'ldap', outcome: 'ok' })).toBe(1)
    // alice's wrong password, and the dummy bind of every unknown-to-LDAP failure (same time as a real one).
    expect(value(text, 'gatehouse_directory_binds_total', { authenticator: 'ldap', outcome: 'refused' })).toBe(1 + failures)
    expect(value(text, 'gatehouse_directory_bind_seconds_count', { authenticator: 'ldap', outcome: 'ok' })).toBe(1)
    expect(value(text, 'gatehouse_token_validations_total', { authenticator: 'oidc', outcome: 'valid', cached: 'false' })).toBe(1)
    expect(value(text, 'gatehouse_token_validations_total', { authenticator: 'oidc', outcome: 'valid', cached: 'true' })).toBe(1)
    expect(value(text, 'gatehouse_token_validation_seconds_count', { authenticator: 'oidc', outcome: 'valid', cached: 'true' })).toBe(1)
    expect(value(text, 'gatehouse_provider_fetches_total', { authenticator: 'oidc', endpoint: 'discovery', outcome: 'ok' })).toBe(1)
    expect(value(text, 'gatehouse_provider_fetches_total', { authenticator: 'oidc', endpoint: 'jwks', outcome: 'ok' })).toBe(1)
    // Every password the SQL authenticator checked went through the argon2 queue (the throttled ones did not).
    expect(value(text, 'gatehouse_hasher_queue_wait_seconds_count')).toBeGreaterThanOrEqual(2 + 1 + failures)

    const labels = labelValues(text)
    for (const secret of ['admin', 'viewer', 'alice', '127.0.0.1', 'unknown', access_token, access_token.slice(0, 20), PASSWORDS.admin, METRICS_TOKEN]) {
      for (const label of labels) expect(label.includes(secret), `label "${label}" contains "${secret.slice(0, 20)}"`).toBe(false)
    }
  })

  it('counts an LDAP outage as an unavailable authenticator and an error bind', async () => {
    const app = await demo({ metricsToken: METRICS_TOKEN, ldapURL: `ldap://127.0.0.1:${await closedPort()}` })
    expect((await app.login('alice', ldap.users.alice!.password)).status).toBe(503)
    const text = await app.scrape()
    expect(value(text, 'gatehouse_authenticator_unavailable_total', { authenticator: 'ldap' })).toBe(1)
    expect(value(text, 'gatehouse_login_attempts_total', { authenticator: 'none', outcome: 'unavailable' })).toBe(1)
  })
})

describe('revocations', () => {
  it('a revocation is one info event, counted by kind and origin; the revoked cookie is refused', async () => {
    const app = await demo({ metricsToken: METRICS_TOKEN })
    const { cookie } = await app.login('viewer', PASSWORDS.viewer)
    expect((await app.get('/api/entries', { cookie: cookie! })).status).toBe(200)
    await app.sql.accounts.endSessions({ username: 'viewer' })
    // The store announces the change; the session cache hears it on its next read at the latest.
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect((await app.get('/api/entries', { cookie: cookie! })).status).toBe(401)
    const text = await app.scrape()
    const revoked = [...text.matchAll(/^gatehouse_revocations_total\{kind="([^"]+)",origin="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], m[2], Number(m[3])])
    expect(revoked.length).toBeGreaterThan(0)
    expect(value(text, 'gatehouse_audit_events_total', { event: 'session.revoked' })).toBeGreaterThan(0)
    expect(value(text, 'gatehouse_session_resumes_total', { result: 'revoked' })).toBe(1)
    const event = app.log.lines().find((line) => line.event === 'session.revoked')
    expect(event).toMatchObject({ level: 30, kind: expect.any(String) })
  })
})

describe('logs', () => {
  it('one structured event per login success and failure, logout and throttle decision, at its level; no secrets; CR/LF escaped', async () => {
    const app = await demo()
    const { cookie } = await app.login('admin', PASSWORDS.admin)
    await app.login('admin', 'not the password')
    await app.login('eve\r\n{"level":50,"event":"forged"}', 'whatever')
    const logout = await app.app.request(`${ORIGIN}/auth/logout`, { method: 'POST', headers: { cookie: cookie!, 'content-type': 'application/json', origin: ORIGIN } })
    expect(logout.status).toBe(204)
    for (let i = 0; i < 30; i++) if ((await app.login('viewer', `wrong ${i}`)).status === 429) break
    const { access_token } = await provider.passwordGrant({ username: 'alice', password: provider.users.alice.password })
    await app.get('/api/entries', { authorization: `Bearer ${access_token}x` })

    const events = app.log.lines().filter((line) => typeof line.event === 'string')
    const levelOf = (event: string) => events.find((line) => line.event === event)?.level
    expect(events.find((line) => line.event === 'login.succeeded')).toMatchObject({ level: 30, username: 'admin', source: 'sql' })
    expect(events.find((line) => line.event === 'login.failed')).toMatchObject({ level: 30, username: 'admin' })
    expect(levelOf('logout')).toBe(30)
    expect(levelOf('login.throttled')).toBe(40)
    expect(levelOf('token.refused')).toBe(40)
    // The forged username stays one field of one line.
    expect(events.filter((line) => line.event === 'forged')).toEqual([])
    expect(events.find((line) => String(line.username).startsWith('eve'))!.username).toBe('eve\\u000d\\u000a{"level":50,"event":"forged"}')
    const all = app.log.raw.join('')
    for (const secret of [PASSWORDS.admin, 'not the password', cookie!.split('=')[1]!, access_token]) expect(all).not.toContain(secret)
    for (const line of app.log.raw) expect(line.slice(0, -1)).not.toMatch(/[\r\n]/)
  })
})

describe('/docs', () => {
  it('serves the OpenAPI document: Gatehouse schemes, each guarded route with its scheme and roles/permissions from its guard', async () => {
    const app = await demo()
    const res = await app.get('/docs/openapi.json')
    expect(res.status).toBe(200)
    const document = (await res.json()) as {
      components: { securitySchemes: Record<string, Record<string, unknown>> }
      paths: Record<string, Record<string, { security?: unknown[]; description?: string; 'x-gatehouse-guard'?: { requiredRoles: string[]; requiredPermissions: string[] } }>>
    }
    const schemes = document.components.securitySchemes
    expect(schemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: app.auth.sessions.cookieName })
    expect(schemes.bearerJWT).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    expect(schemes.oidc).toMatchObject({
      type: 'oauth2',
      flows: { authorizationCode: { authorizationUrl: `${provider.issuer}/protocol/openid-connect/auth`, tokenUrl: `${provider.issuer}/protocol/openid-connect/token` } },
    })
    expect(document.paths['/admin']!.get).toMatchObject({
      security: [{ sessionCookie: ['Administrator'] }, { bearerJWT: ['Administrator'] }, { oidc: [] }],
      'x-gatehouse-guard': { requiredRoles: ['Administrator'] },
    })
    expect(document.paths['/api/entries']!.get!.description).toContain('`view`')
    expect(document.paths['/api/entries']!.post!['x-gatehouse-guard']!.requiredPermissions).toEqual(['edit'])
    expect(document.paths['/api/entries/{id}']!.delete!.description).toMatch(/Casbin/)

    // The document and the check agree: the viewer lacks what the document says /admin and POST need.
    const { cookie } = await app.login('viewer', PASSWORDS.viewer)
    expect((await app.get('/admin', { cookie: cookie! })).status).toBe(403)
    expect((await app.app.request(`${ORIGIN}/api/entries`, { method: 'POST', headers: { cookie: cookie!, 'content-type': 'application/json' }, body: '{"text":"x"}' })).status).toBe(403)
    expect((await app.get('/api/entries', { cookie: cookie! })).status).toBe(200)
  })

  it('serves Swagger UI with its own scripts and styles (no CDN) and the provider login with PKCE', async () => {
    const app = await demo()
    const page = await app.get('/docs')
    expect(page.status).toBe(200)
    const text = await page.text()
    expect(text).toContain('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js')
    expect(text).toContain('/docs/openapi.json')
    expect(text).toContain('"usePkceWithAuthorizationCodeGrant":true')
    expect(text).toContain(`${ORIGIN}/docs/oauth2-redirect.html`)
    expect(text).not.toMatch(/https?:\/\/(?!demo\.test)/)
    const script = await app.get('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js')
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    expect((await app.get('/docs/assets/swagger-ui-dist/swagger-ui.css')).status).toBe(200)
    expect((await app.get('/docs/oauth2-redirect.html')).status).toBe(200)
    expect((await app.get('/docs/assets/swagger-ui-dist/package.json')).status).toBe(404)
  })
})

describe('/health', () => {
  it('200 with the status alone; with the operator token the database and every backend, timed', async () => {
    const app = await demo({ metricsToken: METRICS_TOKEN })
    const bare = await app.get('/health')
    expect(bare.status).toBe(200)
    expect(await bare.json()).toEqual({ status: 'ok' })
    const wrong = await app.get('/health', { authorization: 'Bearer nope' })
    expect(await wrong.json()).toEqual({ status: 'ok' })
    const detailed = await app.get('/health', { authorization: `Bearer ${METRICS_TOKEN}` })
    expect(detailed.status).toBe(200)
    const body = (await detailed.json()) as {
      status: string
      database: { ok: boolean; durationMs: number }
      authenticators: Record<string, { ok: boolean; checks: Array<{ name: string; ok: boolean; durationMs: number }> }>
    }
    expect(body.status).toBe('ok')
    expect(body.database).toMatchObject({ ok: true, durationMs: expect.any(Number) })
    expect(body.authenticators.ldap!.checks.map((c) => [c.name, c.ok])).toEqual([
      ['connect', true],
      ['service bind', true],
    ])
    expect(body.authenticators.oidc).toMatchObject({ ok: true })
    expect(body.authenticators.oidc!.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['discovery', 'jwks']))
  })

  it('a backend down: still 200 (the store answers), status degraded, the failing check named', async () => {
    const app = await demo({ metricsToken: METRICS_TOKEN, ldapURL: `ldap://127.0.0.1:${await closedPort()}` })
    const res = await app.get('/health', { authorization: `Bearer ${METRICS_TOKEN}` })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { status: string; authenticators: Record<string, { ok: boolean; checks: Array<{ name: string; ok: boolean }> }> }
    expect(body.status).toBe('degraded')
    expect(body.authenticators.ldap).toMatchObject({ ok: false, checks: [{ name: 'connect', ok: false }] })
    expect(body.authenticators.oidc!.ok).toBe(true)
  })

  it('the database gone: 503 within the deadline', async () => {
    const app = await demo({ metricsToken: METRICS_TOKEN })
    await app.sql.close()
    const started = performance.now()
    const res = await app.get('/health', { authorization: `Bearer ${METRICS_TOKEN}` })
    expect(performance.now() - started).toBeLessThan(HEALTH_DEADLINE_MS + 500)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'database-unavailable', database: { ok: false } })
    expect((await app.get('/health')).status).toBe(503)
  })
})

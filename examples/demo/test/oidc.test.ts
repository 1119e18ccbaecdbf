import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NOOP_LOGGER } from '@gatehouse/core'
import type { SQLStore } from '@gatehouse/store-sql'
import { openSQLStore } from '@gatehouse/store-sql'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { startOIDCProvider } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { oidcAuthenticator } from '../src/oidc.js'

const ROOT = join(import.meta.dirname, '../../..')
const TSX = join(ROOT, 'node_modules/.bin/tsx')
const SERVER = join(ROOT, 'examples/demo/src/server.ts')
const ORIGIN = 'http://demo.test'

let provider: OIDCTestServer
let dir: string
let sql: SQLStore
beforeAll(async () => {
  provider = await startOIDCProvider()
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-oidc-'))
  sql = await openSQLStore({ uri: join(dir, 'demo.db') })
})
afterAll(async () => {
  await sql.close()
  await provider.stop()
  rmSync(dir, { recursive: true, force: true })
})

const env = () => ({
  OIDC_ISSUER: provider.issuer,
  OIDC_CLIENT_ID: provider.clients.gatehouse.clientId,
  OIDC_CLIENT_SECRET: provider.clients.gatehouse.clientSecret,
  OIDC_ROLE_MAP: 'admin=Administrator,user=Viewer,editor=User',
  OIDC_NAME: 'Test Keycloak',
})

describe('OIDC_* settings', () => {
  it('reads them with defaults', () => {
    const { oidc } = loadConfig({ ...env(), PORT: '8123' })
    expect(oidc).toMatchObject({
      issuer: provider.issuer,
      clientId: 'gatehouse',
      audience: 'gatehouse',
      roleMap: { admin: ['Administrator'], user: ['Viewer'], editor: ['User'] },
      redirectUri: 'http://127.0.0.1:8123/auth/oidc/callback',
      postLogoutRedirectUri: undefined,
      name: 'Test Keycloak',
    })
    expect(loadConfig({ ...env(), OIDC_AUDIENCE: 'api', OIDC_REDIRECT_URI: 'https://app.example.org/auth/oidc/callback' }).oidc).toMatchObject({
      audience: 'api',
      redirectUri: 'https://app.example.org/auth/oidc/callback',
    })
    expect(loadConfig({}).oidc).toBeUndefined()
  })

  it('refuses wrong values with a message naming the variable', () => {
    expect(() => loadConfig({ OIDC_CLIENT_ID: 'x' })).toThrow(new ConfigError('OIDC_CLIENT_ID set but OIDC_ISSUER is not: set OIDC_ISSUER to switch OpenID Connect on'))
    expect(() => loadConfig({ OIDC_ISSUER: provider.issuer })).toThrow(/OIDC_CLIENT_ID is required/)
    expect(() => loadConfig({ ...env(), OIDC_ISSUER: 'sso.example.org' })).toThrow(/OIDC_ISSUER must be the issuer URL/)
    expect(() => loadConfig({ ...env(), OIDC_ROLE_MAP: 'admin' })).toThrow(/OIDC_ROLE_MAP entries look like role=Role/)
    expect(() => loadConfig({ ...env(), OIDC_REDIRECT_URI: '/callback' })).toThrow(/OIDC_REDIRECT_URI/)
    // Plain http to a non-loopback provider is refused by the authenticator at startup:
    const config = loadConfig({ ...env(), OIDC_ISSUER: 'http://sso.example.org/realms/acme' })
    expect(() => oidcAuthenticator(config.oidc!, { sessionSecret: 's'.repeat(40), logger: NOOP_LOGGER })).toThrow(/issuer: must be https/)
  })
})

describe('the demo with OIDC switched on', () => {
  function demo(extra: Record<string, string> = {}) {
    const config = loadConfig({ ...env(), ...extra })
    const oidc = oidcAuthenticator(config.oidc!, { sessionSecret: 'd'.repeat(40), logger: NOOP_LOGGER })
    return createDemoApp({ sql, authenticators: [oidc], secret: 'd'.repeat(40), secureCookies: false, logger: NOOP_LOGGER }).app
  }
  const get = (app: ReturnType<typeof demo>, path: string, token?: string) => app.request(`${ORIGIN}${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })

  it('/admin and /api/entries accept bearer tokens of that issuer, roles mapped', async () => {
    const app = demo()
    const alice = await provider.passwordGrant({ username: 'alice', password: provider.users.alice.password })
    const bob = await provider.passwordGrant({ username: 'bob', password: provider.users.bob.password })
    const carol = await provider.passwordGrant({ username: 'carol', password: provider.users.carol.password })
    expect((await get(app, '/admin', alice.access_token)).status).toBe(200)
    expect((await get(app, '/api/entries', alice.access_token)).status).toBe(200)
    // bob: realm "user" → Viewer; his "admin" is on another client and does not count.
    expect((await get(app, '/admin', bob.access_token)).status).toBe(403)
    expect((await get(app, '/api/entries', bob.access_token)).status).toBe(200)
    expect((await get(app, '/api/entries', carol.access_token)).status).toBe(403)
    const [header, payload, signature] = alice.access_token.split('.')
    const flipped = `${signature!.slice(0, 10)}${signature![10] === 'A' ? 'B' : 'A'}${signature!.slice(11)}`
    const refused = await get(app, '/api/entries', `${header}.${payload}.${flipped}`)
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
  })

  it('the login page offers the provider (with a client secret)', async () => {
    const html = await (await demo().request(`${ORIGIN}/auth/login`)).text()
    expect(html).toContain('Sign in with Test Keycloak')
    const bearerOnly = await (await demo({ OIDC_CLIENT_SECRET: '' }).request(`${ORIGIN}/auth/login`)).text()
    expect(bearerOnly).not.toContain('Sign in with')
  })
})

describe('the demo server process', () => {
  function run(extra: Record<string, string>, cwd = dir): { child: ChildProcess; done: Promise<{ code: number | null; output: string }>; listening: Promise<string> } {
    const { AUTH_SECRET: _secret, AUTH_DB_URI: _db, ...inherited } = process.env
    const child = spawn(TSX, ['--conditions=gatehouse-source', SERVER], {
      cwd,
      env: { ...inherited, PORT: '0', LOG_LEVEL: 'silent', AUTH_SECRET: 'p'.repeat(40), AUTH_DB_URI: join(dir, 'server.db'), ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    let onListen: (base: string) => void = () => {}
    const listening = new Promise<string>((resolve) => (onListen = resolve))
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk
      const port = /on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1]
      if (port) onListen(`http://127.0.0.1:${port}`)
    })
    child.stderr!.on('data', (chunk: Buffer) => void (output += chunk))
    const done = new Promise<{ code: number | null; output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })))
    return { child, done, listening }
  }

  it('a wrong OIDC value stops the demo with one line, before anything is written', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-demo-oidc-bad-'))
    const { done } = run({ ...env(), OIDC_ISSUER: 'http://sso.example.org/realms/acme', AUTH_SECRET: '', AUTH_DB_URI: '' }, cwd)
    const { code, output } = await done
    expect(code).toBe(1)
    const lines = output.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^gatehouse demo: OIDCAuthenticator: invalid options: issuer: must be https/)
    expect(readdirSync(cwd)).toEqual([])
    rmSync(cwd, { recursive: true, force: true })
  })

  it('with OIDC_* set, the running demo answers bearer tokens from the provider', async () => {
    const { child, listening, done } = run(env())
    try {
      const base = await Promise.race([listening, done.then(({ output }) => Promise.reject(new Error(output)))])
      const { access_token } = await provider.passwordGrant({ username: 'alice', password: provider.users.alice.password })
      const response = await fetch(`${base}/api/entries`, { headers: { authorization: `Bearer ${access_token}` } })
      expect(response.status).toBe(200)
      expect((await fetch(`${base}/api/entries`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401)
    } finally {
      child.kill('SIGTERM')
      await done
    }
  })
})

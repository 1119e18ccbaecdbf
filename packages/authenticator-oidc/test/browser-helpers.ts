import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Auth, AuthEnv } from '@gatehouse/core'
import { MemoryRevocationList, Protected, Role, createAuth } from '@gatehouse/core'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { startOIDCProvider } from '@gatehouse/testkit'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { OIDCAuthenticatorOptions } from '../src/index.js'
import { OIDCAuthenticator } from '../src/index.js'
import { ROLE_MAP } from './helpers.js'

/** Cookies per origin (enough for two loopback servers on different ports). */
export class CookieJar {
  readonly #cookies = new Map<string, Map<string, string>>()

  header(url: string): string {
    return [...(this.#cookies.get(new URL(url).host) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  get(url: string, name: string): string | undefined {
    return this.#cookies.get(new URL(url).host)?.get(name)
  }

  set(url: string, name: string, value: string): void {
    const host = new URL(url).host
    if (!this.#cookies.has(host)) this.#cookies.set(host, new Map())
    this.#cookies.get(host)!.set(name, value)
  }

  store(url: string, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at).trim()
      const value = pair!.slice(at + 1).trim()
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute) || (/^\s*expires=/i.test(attribute) && new Date(attribute.split('=')[1]!).getTime() < Date.now()))
      if (expired || value === '') this.#cookies.get(new URL(url).host)?.delete(name)
      else this.set(url, name, value)
    }
  }

  /** One request with this jar's cookies; redirects are not followed. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = this.header(url)
    if (cookie !== '') headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.store(url, response)
    return response
  }
}

/** The Location of a redirect, absolute. */
export function location(response: Response, base: string): string {
  const value = response.headers.get('location')
  if (value === null) throw new Error(`no Location (HTTP ${response.status})`)
  return new URL(value, base).href
}

/** An app with the OIDC authenticator behind the auth routes, on a real loopback port, and its provider. */
export interface BrowserFixture {
  readonly appURL: string
  readonly provider: OIDCTestServer
  readonly oidc: OIDCAuthenticator
  readonly auth: Auth
  readonly revocations: MemoryRevocationList
  readonly logs: Array<{ level: string; fields: unknown; message: string }>
  close(): Promise<void>
}

export async function browserFixture(options: Partial<OIDCAuthenticatorOptions> = {}): Promise<BrowserFixture> {
  let handler: ((request: Request) => Response | Promise<Response>) | undefined
  const http = serve({ fetch: (request) => handler!(request), port: 0, hostname: '127.0.0.1' }) as Server
  await new Promise<void>((resolve) => (http.listening ? resolve() : http.once('listening', () => resolve())))
  const appURL = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const provider = await startOIDCProvider({
    redirectUris: [`${appURL}/auth/oidc/callback`],
    backchannelLogoutUri: `${appURL}/auth/oidc/backchannel-logout`,
    postLogoutRedirectUris: [`${appURL}/bye`],
  })
  const oidc = new OIDCAuthenticator({
    issuer: provider.issuer,
    clientId: provider.clients.gatehouse.clientId,
    clientSecret: provider.clients.gatehouse.clientSecret,
    name: 'Test SSO',
    roles: { map: ROLE_MAP },
    browserLogin: { redirectUri: `${appURL}/auth/oidc/callback`, secret: 'transaction-secret-'.padEnd(40, 'x'), postLogoutRedirectUri: `${appURL}/bye` },
    timeoutMs: 3000,
    ...options,
  })
  const logs: BrowserFixture['logs'] = []
  const log = (level: string) => (fields: unknown, message?: string) => void logs.push({ level, fields, message: message ?? '' })
  const revocations = new MemoryRevocationList()
  const auth = createAuth({
    roles: ['Administrator', 'Viewer', 'Editor', 'Superuser', 'Staff'].map((name) => new Role({ name })),
    authenticators: [oidc],
    session: { secret: 'session-secret-'.padEnd(40, 'y'), secure: false },
    revocations,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  })
  const app = new Hono<AuthEnv>()
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  app.get('/admin', Protected(['Administrator']), (c) => c.text(`hello ${c.var.user.username} (${c.var.user.source})`))
  app.get('/bye', (c) => c.text('bye'))
  handler = (request) => app.fetch(request)
  return {
    appURL,
    provider,
    oidc,
    auth,
    revocations,
    logs,
    async close() {
      await provider.stop()
      http.closeAllConnections()
      await new Promise((resolve) => http.close(resolve))
    },
  }
}

/**
 * Logs in through the browser flow with fetch: app login → provider → login form → provider →
 * stops at the app callback and returns its response (not followed).
 */
export async function loginThroughProvider(
  jar: CookieJar,
  fixture: BrowserFixture,
  user: { username: string; password: string },
  { next = '/admin', providerJar = jar, beforeCallback }: { next?: string; providerJar?: CookieJar; beforeCallback?: () => Promise<void> } = {},
): Promise<{ callback: Response; callbackURL: string }> {
  const start = await jar.fetch(`${fixture.appURL}/auth/oidc/login?next=${encodeURIComponent(next)}`)
  if (start.status !== 302) throw new Error(`login: HTTP ${start.status}`)
  let url = location(start, fixture.appURL)
  let response = await providerJar.fetch(url)
  for (let hops = 0; hops < 10; hops++) {
    if (url.startsWith(`${fixture.appURL}/auth/oidc/callback`)) break
    if (response.status === 200 && (response.headers.get('content-type') ?? '').includes('text/html')) {
      const html = await response.text()
      const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]
      if (action === undefined) throw new Error(`no login form at ${url}: ${html.slice(0, 200)}`)
      url = new URL(action, url).href
      response = await providerJar.fetch(url, { method: 'POST', body: new URLSearchParams(user) })
      continue
    }
    if (response.status < 300 || response.status >= 400) throw new Error(`unexpected HTTP ${response.status} at ${url}: ${(await response.text()).slice(0, 300)}`)
    url = location(response, url)
    if (url.startsWith(`${fixture.appURL}/auth/oidc/callback`)) break
    response = await providerJar.fetch(url)
  }
  if (!url.startsWith(`${fixture.appURL}/auth/oidc/callback`)) throw new Error(`never reached the callback (last ${url})`)
  await beforeCallback?.()
  return { callback: await jar.fetch(url), callbackURL: url }
}

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerType } from '@hono/node-server'
import type { Hono } from 'hono'
import { NOOP_LOGGER } from '@gatehouse/core'
import type { AuthEnv } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import type { SQLStore } from '@gatehouse/store-sql'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { startOIDCProvider } from '@gatehouse/testkit'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { oidcAuthenticator } from '../src/oidc.js'
import { SCREENSHOTS, launchChromium, serveOnLoopback } from './real-browser.js'

describe('the OpenID Connect login in a real browser', () => {
  let dir: string
  let sql: SQLStore
  let server: ServerType
  let provider: OIDCTestServer
  let browser: Browser
  let base: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-oidc-browser-'))
    sql = await openSQLStore({ uri: join(dir, 'demo.db') })
    // The demo's port first: the provider must know the redirect and logout URIs.
    let app: Hono<AuthEnv> | undefined
    const served = await serveOnLoopback((request) => app!.fetch(request))
    server = served.server
    base = served.base
    provider = await startOIDCProvider({
      redirectUris: [`${base}/auth/oidc/callback`],
      backchannelLogoutUri: `${base}/auth/oidc/backchannel-logout`,
      postLogoutRedirectUris: [`${base}/`],
    })
    const config = loadConfig({
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: provider.clients.gatehouse.clientId,
      OIDC_CLIENT_SECRET: provider.clients.gatehouse.clientSecret,
      OIDC_ROLE_MAP: 'admin=Administrator,user=Viewer',
      OIDC_REDIRECT_URI: `${base}/auth/oidc/callback`,
      OIDC_POST_LOGOUT_REDIRECT_URI: `${base}/`,
      OIDC_NAME: 'Test Keycloak',
    })
    const oidc = oidcAuthenticator(config.oidc!, { sessionSecret: 'o'.repeat(40), logger: NOOP_LOGGER })
    app = createDemoApp({ sql, authenticators: [oidc], secret: 'o'.repeat(40), secureCookies: false, logger: NOOP_LOGGER }).app
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
    await provider?.stop()
    await sql?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('signs in with the provider, reaches /admin, and signs out there too', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${base}/admin`)
    expect(new URL(page.url()).pathname).toBe('/auth/login')
    await Promise.all([page.waitForURL(`${provider.issuer}/interaction/**`), page.click('text=Sign in with Test Keycloak')])
    await page.screenshot({ path: join(SCREENSHOTS, 'oidc-provider-login.png') })
    await page.fill('#username', 'alice')
    await page.fill('#password', provider.users.alice.password)
    await Promise.all([page.waitForURL(`${base}/admin`), page.click('#kc-login')])
    expect(await page.textContent('h1')).toBe('Admin area')
    await page.screenshot({ path: join(SCREENSHOTS, 'oidc-admin.png') })
    const me = (await page.evaluate(async () => (await fetch('/auth/me')).json())) as { user: unknown }
    expect(me.user).toMatchObject({ username: 'alice', source: 'oidc', roles: ['Administrator'] })

    // Sign out: the local session ends, then the provider's (RP-initiated logout).
    await Promise.all([page.waitForURL(`${provider.issuer}/protocol/openid-connect/logout**`), page.click('text=Sign out')])
    await Promise.all([page.waitForURL(`${base}/`), page.click('text=Yes, sign me out')])
    expect(provider.backchannelLogouts.at(-1)).toMatchObject({ ok: true })
    const response = await page.goto(`${base}/admin`)
    expect(new URL(page.url()).pathname).toBe('/auth/login')
    expect(response?.status()).toBe(200)
    // Signing in again asks the provider for the password again (its session ended too).
    await Promise.all([page.waitForURL(`${provider.issuer}/interaction/**`), page.click('text=Sign in with Test Keycloak')])
    expect(await page.isVisible('#kc-login')).toBe(true)
  })
})

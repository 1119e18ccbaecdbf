import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerType } from '@hono/node-server'
import { NOOP_LOGGER } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import type { SQLStore } from '@gatehouse/store-sql'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { startOIDCProvider } from '@gatehouse/testkit'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { oidcAuthenticator } from '../src/oidc.js'
import { SCREENSHOTS, launchChromium, serveOnLoopback } from './real-browser.js'

describe('Swagger UI at /docs in a real browser', () => {
  let dir: string
  let sql: SQLStore
  let provider: OIDCTestServer
  let server: ServerType
  let browser: Browser
  let base: string
  let close: () => Promise<void>

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-docs-browser-'))
    provider = await startOIDCProvider()
    sql = await openSQLStore({ uri: join(dir, 'demo.db') })
    const config = loadConfig({ OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: provider.clients.gatehouse.clientId, OIDC_ROLE_MAP: 'admin=Administrator,user=Viewer' })
    const secret = 'c'.repeat(40)
    const { app, auth } = createDemoApp({
      sql,
      secret,
      secureCookies: false,
      logger: NOOP_LOGGER,
      authenticators: [oidcAuthenticator(config.oidc!, { sessionSecret: secret, logger: NOOP_LOGGER })],
      docsOIDC: { clientId: config.oidc!.docsClientId, origin: 'http://127.0.0.1' },
    })
    close = () => auth.close()
    const served = await serveOnLoopback(app.fetch)
    server = served.server
    base = served.base
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
    await close?.()
    await sql?.close()
    await provider?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  async function execute(page: Page): Promise<string> {
    const operation = page.locator('#operations-default-get_api_entries')
    if ((await operation.locator('.try-out__btn').count()) === 0) await operation.locator('.opblock-summary').click()
    const tryOut = operation.locator('.try-out__btn')
    if ((await tryOut.textContent())?.trim() === 'Try it out') await tryOut.click()
    await operation.locator('button.execute').click()
    const status = operation.locator('.live-responses-table .response .response-col_status').first()
    await status.waitFor()
    const code = (await status.textContent())!.trim()
    // Clear, so that the next execution's answer is the one read.
    await operation.locator('button.btn-clear').click()
    return code
  }

  it('authorizes with a bearer token and calls a protected route: 401 without, 200 with', async () => {
    const page = await (await browser.newContext()).newPage()
    const requests: string[] = []
    page.on('request', (request) => void requests.push(request.url()))
    await page.goto(`${base}/docs`)
    await page.locator('.swagger-ui .info .title').waitFor()
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('Gatehouse demo')
    expect(await page.locator('#operations-default-get_admin').textContent()).toContain('/admin')

    expect(await execute(page)).toBe('401')

    const { access_token } = await provider.passwordGrant({ username: 'alice', password: provider.users.alice.password })
    await page.locator('button.authorize').first().click()
    const modal = page.locator('.modal-ux')
    await modal.waitFor()
    await page.screenshot({ path: join(SCREENSHOTS, 'docs-authorize.png') })
    const bearer = modal.locator('.auth-container').filter({ hasText: 'bearerJWT' })
    await bearer.locator('input').fill(access_token)
    await bearer.locator('button.authorize').click()
    await modal.locator('button.btn-done').first().click()

    expect(await execute(page)).toBe('200')
    await page.screenshot({ path: join(SCREENSHOTS, 'docs.png'), fullPage: true })
    // Scripts, styles and the document came from the app itself; the provider was asked by the app, not the page.
    expect(requests.filter((url) => !url.startsWith(base))).toEqual([])
  }, 60_000)

  it("offers the provider's login: Authorize opens its authorization endpoint with PKCE (S256) and the docs' redirect URI", async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${base}/docs`)
    await page.locator('button.authorize').first().click()
    const oauth = page.locator('.modal-ux .auth-container').filter({ hasText: 'authorizationCode' })
    await oauth.waitFor()
    // Not prefilled by hand: initOAuth put the configured client id there.
    expect(await oauth.locator('input#client_id_authorizationCode').inputValue()).toBe(provider.clients.gatehouse.clientId)
    const [popup] = await Promise.all([context.waitForEvent('page'), oauth.locator('button.authorize').click()])
    const url = new URL(popup.url())
    expect(`${url.origin}${url.pathname}`).toBe(`${provider.issuer}/protocol/openid-connect/auth`)
    expect(url.searchParams.get('response_type')).toBe('code')
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(url.searchParams.get('redirect_uri')).toBe('http://127.0.0.1/docs/oauth2-redirect.html')
    await context.close()
  }, 60_000)
})

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerType } from '@hono/node-server'
import { NOOP_LOGGER } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import type { SQLStore } from '@gatehouse/store-sql'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../src/app.js'
import { SCREENSHOTS, launchChromium, serveOnLoopback } from './real-browser.js'

// Debian's Chromium, headless, with the flags this machine's closed network needs.

describe('the demo in a real browser', () => {
  let dir: string
  let sql: SQLStore
  let server: ServerType
  let browser: Browser
  let base: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'))
    sql = await openSQLStore({ uri: join(dir, 'demo.db') })
    await sql.accounts.add({ username: 'admin', password: 'correct horse battery', roles: ['Administrator'] })
    await sql.accounts.add({ username: 'viewer', password: 'viewer passphrase 1', roles: ['Viewer'] })
    const { app } = createDemoApp({ sql, secret: 'b'.repeat(40), secureCookies: false, logger: NOOP_LOGGER })
    const served = await serveOnLoopback(app.fetch)
    server = served.server
    base = served.base
    browser = await launchChromium()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await new Promise((resolve) => server?.close(resolve))
    await sql?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.fill('#username', username)
    await page.fill('#password', password)
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')])
  }

  it('redirects to the login form, logs in, shows the admin page, logs out', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${base}/admin`)
    expect(new URL(page.url()).pathname).toBe('/auth/login')
    expect(new URL(page.url()).searchParams.get('next')).toBe('/admin')
    await page.screenshot({ path: join(SCREENSHOTS, 'login.png') })

    await signIn(page, 'admin', 'correct horse battery')
    expect(new URL(page.url()).pathname).toBe('/admin')
    expect(await page.textContent('h1')).toBe('Admin area')
    await page.screenshot({ path: join(SCREENSHOTS, 'admin.png') })

    await Promise.all([page.waitForURL(`${base}/auth/login`), page.click('text=Sign out')])
    await page.goto(`${base}/admin`)
    expect(new URL(page.url()).pathname).toBe('/auth/login')
  })

  it('shows a Viewer the 403 page', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${base}/auth/login`)
    await signIn(page, 'viewer', 'viewer passphrase 1')
    const response = await page.goto(`${base}/admin`)
    expect(response?.status()).toBe(403)
    expect(await page.textContent('h1')).toBe('Access denied')
    await page.screenshot({ path: join(SCREENSHOTS, 'forbidden.png') })
  })

  it('shows a generic message for a wrong password', async () => {
    const page = await (await browser.newContext()).newPage()
    await page.goto(`${base}/auth/login`)
    await signIn(page, 'admin', 'not the password')
    expect(await page.textContent('.error')).toBe('Invalid username or password.')
    expect(new URL(page.url()).pathname).toBe('/auth/login')
    await page.screenshot({ path: join(SCREENSHOTS, 'wrong-password.png') })
  })
})

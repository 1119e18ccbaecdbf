import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NOOP_LOGGER } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import { afterAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../src/app.js'

const ORIGIN = 'http://demo.test'

describe('the demo app', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-app-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('guards the entries API by permission and answers 503 when the database goes away', async () => {
    const sql = await openSQLStore({ uri: join(dir, 'demo.db') })
    await sql.accounts.add({ username: 'admin', password: 'admin passphrase 1', roles: ['Administrator'] })
    await sql.accounts.add({ username: 'viewer', password: 'viewer passphrase 1', roles: ['Viewer'] })
    const { app } = createDemoApp({ sql, secret: 'e'.repeat(40), secureCookies: false, logger: NOOP_LOGGER })
    const login = async (username: string, password: string) => {
      const res = await app.request(`${ORIGIN}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify({ username, password }) })
      return res.headers.getSetCookie()[0]!.split(';')[0]!
    }
    const admin = await login('admin', 'admin passphrase 1')
    const viewer = await login('viewer', 'viewer passphrase 1')
    const call = (method: string, path: string, cookie: string, body?: unknown) =>
      app.request(`${ORIGIN}${path}`, { method, headers: { cookie, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

    expect((await call('GET', '/api/entries', viewer)).status).toBe(200)
    expect((await call('POST', '/api/entries', viewer, { text: 'hi' })).status).toBe(403)
    const created = await call('POST', '/api/entries', admin, { text: 'hello' })
    expect(created.status).toBe(201)
    const { entry } = (await created.json()) as { entry: { id: number } }
    expect((await call('POST', '/api/entries', admin, { text: '' })).status).toBe(400)
    expect((await call('DELETE', `/api/entries/${entry.id}`, viewer)).status).toBe(403)
    expect((await call('DELETE', `/api/entries/${entry.id}`, admin)).status).toBe(204)
    expect((await call('DELETE', `/api/entries/${entry.id}`, admin)).status).toBe(404)

    await sql.close()
    // The admin's session is still in the cache; the page's account count needs the database.
    const res = await call('GET', '/admin', admin)
    expect(res.status).toBe(503)
    expect((await app.request(`${ORIGIN}/health`)).status).toBe(503)
  })

  it("refuses cross-site writes with the admin's cookie and keeps the signed-in home page out of caches", async () => {
    const sql = await openSQLStore({ uri: join(dir, 'csrf.db') })
    await sql.accounts.add({ username: 'admin', password: 'admin passphrase 1', roles: ['Administrator'] })
    const { app } = createDemoApp({ sql, secret: 'e'.repeat(40), secureCookies: false, logger: NOOP_LOGGER })
    const res = await app.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username: 'admin', password: 'admin passphrase 1' }),
    })
    const admin = res.headers.getSetCookie()[0]!.split(';')[0]!
    const before = ((await (await app.request(`${ORIGIN}/api/entries`, { headers: { cookie: admin } })).json()) as { entries: unknown[] }).entries.length
    const crossSite = { cookie: admin, 'content-type': 'text/plain', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }
    expect((await app.request(`${ORIGIN}/api/entries`, { method: 'POST', headers: crossSite, body: '{"text":"pwned"}' })).status).toBe(403)
    expect((await app.request(`${ORIGIN}/api/entries/1`, { method: 'DELETE', headers: crossSite })).status).toBe(403)
    const after = ((await (await app.request(`${ORIGIN}/api/entries`, { headers: { cookie: admin } })).json()) as { entries: unknown[] }).entries.length
    expect(after).toBe(before)
    const home = await app.request(`${ORIGIN}/`, { headers: { cookie: admin } })
    expect(await home.text()).toContain('Signed in as')
    expect(home.headers.get('cache-control')).toBe('no-store')
    expect(home.headers.get('vary')).toBe('Cookie')
    await sql.close()
  })

  it('believes X-Forwarded-For only from TRUSTED_PROXIES, and lets ALLOWED_ORIGINS post', async () => {
    const sql = await openSQLStore({ uri: join(dir, 'proxy.db') })
    await sql.accounts.add({ username: 'admin', password: 'admin passphrase 1', roles: ['Administrator'] })
    const proxy = '10.0.0.1'
    const make = (trustedProxies: string[]) => createDemoApp({ sql, secret: 'e'.repeat(40), secureCookies: false, logger: NOOP_LOGGER, trustedProxies, allowedOrigins: ['https://front.example'] }).app
    // Through the proxy, each client has its own address: 60 guesses spread over 60 clients stay under
    // the per-address limit (50), while the same guesses from one untrusted peer are throttled.
    const guess = (app: ReturnType<typeof make>, client: number) =>
      app.request(
        `${ORIGIN}/auth/login`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: ORIGIN, 'x-forwarded-for': `203.0.113.${client}` },
          body: JSON.stringify({ username: `nobody${client}`, password: 'wrong passphrase 1' }),
        },
        { incoming: { socket: { remoteAddress: proxy } } },
      )
    const behindProxy = make([proxy])
    const direct = make([])
    const statuses = async (app: ReturnType<typeof make>) => {
      const seen = new Set<number>()
      for (let client = 0; client < 60; client++) seen.add((await guess(app, client)).status)
      return seen
    }
    expect(await statuses(behindProxy)).toEqual(new Set([401]))
    expect(await statuses(direct)).toContain(429)

    const login = await behindProxy.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username: 'admin', password: 'admin passphrase 1' }),
    })
    const admin = login.headers.getSetCookie()[0]!.split(';')[0]!
    const post = (origin: string) =>
      behindProxy.request(`${ORIGIN}/api/entries`, { method: 'POST', headers: { cookie: admin, origin, 'content-type': 'application/json' }, body: '{"text":"from the front end"}' })
    expect((await post('https://front.example')).status).toBe(201)
    expect((await post('https://evil.example')).status).toBe(403)
    await sql.close()
  })
})

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { Hono } from 'hono'
import { Protected, createAuth } from '@gatehouse/core'
import type { AuthEnv } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import { afterAll, describe, expect, it } from 'vitest'
import { APIKeyAuthenticator } from '../src/readme/api-key-authenticator.js'

const ROOT = join(import.meta.dirname, '../../..')
const SNIPPETS = join(import.meta.dirname, '../src/readme')

describe('README', () => {
  it('shows only TypeScript that lives in compiled, tested files', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1])
    const files = readdirSync(SNIPPETS).map((name) => readFileSync(join(SNIPPETS, name), 'utf8'))
    expect(blocks.length).toBeGreaterThanOrEqual(2)
    for (const block of blocks) expect(files).toContain(block)
  })

  it('custom authenticator: the API-key example lets a key in and keeps others out', async () => {
    const keySHA256 = createHash('sha256').update('k-secret-123').digest('hex')
    const auth = createAuth({
      roles: [],
      authenticators: [new APIKeyAuthenticator({ reporter: { keySHA256, roles: [] } })],
      session: { secret: 's'.repeat(32) },
    })
    const app = new Hono<AuthEnv>()
    app.use(auth.middleware())
    app.get('/report', Protected(), (c) => c.text(`for ${c.var.user.username} via ${c.var.user.source}`))
    expect(await (await app.request('/report', { headers: { 'x-api-key': 'k-secret-123' } })).text()).toBe('for reporter via api-key')
    expect((await app.request('/report', { headers: { 'x-api-key': 'k-wrong' } })).status).toBe(401)
    expect((await app.request('/report')).status).toBe(401)
  })

  describe('quick start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-readme-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('protects /admin and lets an Administrator in', async () => {
      process.env.AUTH_DB_URI = join(dir, 'quick.db')
      process.env.AUTH_SECRET = 'q'.repeat(40)
      const { app } = await import('../src/readme/quick-start.js')
      const sql = await openSQLStore({ uri: process.env.AUTH_DB_URI })
      await sql.accounts.add({ username: 'root', password: 'a long enough passphrase', roles: ['Administrator'] })
      await sql.accounts.add({ username: 'reader', password: 'another long passphrase', roles: ['Viewer'] })
      await sql.close()
      const origin = 'https://app.example'
      const login = async (username: string, password: string) => {
        const res = await app.request(`${origin}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ username, password }) })
        expect(res.status).toBe(200)
        return res.headers.getSetCookie()[0]!.split(';')[0]!
      }
      expect((await app.request(`${origin}/admin`)).status).toBe(401)
      const root = await login('root', 'a long enough passphrase')
      expect(await (await app.request(`${origin}/admin`, { headers: { cookie: root } })).text()).toBe('Hello root')
      const reader = await login('reader', 'another long passphrase')
      expect((await app.request(`${origin}/admin`, { headers: { cookie: reader } })).status).toBe(403)
      expect((await app.request(`${origin}/notes`, { headers: { cookie: reader } })).status).toBe(200)
    })
  })
})

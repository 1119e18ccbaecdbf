import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuthEnv, Authenticator } from '@gatehouse/core'
import { MemoryLoginThrottle, MemoryRevocationList, NOOP_LOGGER, Role, createAuth } from '@gatehouse/core'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { ENTRIES_MODEL, ENTRIES_POLICY } from '../src/policy.js'
import { addNotes } from '../src/readme/casbin-notes.js'

const ROOT = join(import.meta.dirname, '../../..')

/** Callers say who they are in `x-<source>-user: <id>;<Role>`: one principal per (source, id). */
function headerAuthenticator(source: string): Authenticator {
  return {
    id: source,
    async identify({ request }) {
      const header = request.headers.get(`x-${source}-user`)
      if (header === null) return { outcome: 'skipped' }
      const [id = '', role] = header.split(';')
      return { outcome: 'authenticated', user: { id, username: id, roles: role ? [role] : [], source } }
    },
  }
}

describe('README: policies with Casbin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-readme-casbin-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('### Policies with Casbin'))
  const model = /```ini\n([\s\S]*?)```/.exec(section)![1]!
  const policy = /```csv\n([\s\S]*?)```/.exec(section)![1]!

  it("shows the demo's model and policy as they are", () => {
    expect(model.trim()).toBe(ENTRIES_MODEL.trim())
    expect(policy.trim()).toBe(ENTRIES_POLICY.trim())
  })

  it('the notes example: a User changes only their own notes (by principal), an Administrator any', async () => {
    writeFileSync(join(dir, 'model.conf'), model)
    writeFileSync(join(dir, 'policy.csv'), policy)
    const auth = createAuth({
      roles: [new Role({ name: 'Administrator' }), new Role({ name: 'User' })],
      authenticators: [headerAuthenticator('sql'), headerAuthenticator('ldap')],
      session: { secret: 'c'.repeat(40), secure: false },
      revocations: new MemoryRevocationList(),
      throttle: new MemoryLoginThrottle(),
      logger: NOOP_LOGGER,
    })
    const app = new Hono<AuthEnv>()
    auth.mount(app)
    await addNotes(app, auth, dir)
    const call = (method: string, path: string, who: Record<string, string>) => app.request(path, { method, headers: who, body: 'text' })
    const sqlAlice = { 'x-sql-user': 'alice;User' }
    const ldapAlice = { 'x-ldap-user': 'alice;User' }
    expect((await call('POST', '/notes/1', sqlAlice)).status).toBe(201)
    expect((await call('PUT', '/notes/1', sqlAlice)).status).toBe(204)
    expect((await call('PUT', '/notes/1', ldapAlice)).status).toBe(403)
    expect((await call('PUT', '/notes/1', { 'x-sql-user': 'bob;User' })).status).toBe(403)
    expect((await call('PUT', '/notes/1', { 'x-ldap-user': 'root;Administrator' })).status).toBe(204)
    expect((await call('PUT', '/notes/2', { 'x-ldap-user': 'root;Administrator' })).status).toBe(404)
    expect((await call('PUT', '/notes/1', {})).status).toBe(401)
  })
})

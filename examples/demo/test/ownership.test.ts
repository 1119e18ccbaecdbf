import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NOOP_LOGGER } from '@gatehouse/core'
import type { SQLStore } from '@gatehouse/store-sql'
import { openSQLStore } from '@gatehouse/store-sql'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createDemoApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { ldapAuthenticator } from '../src/ldap.js'

const ldap = inject('ldap')
const ORIGIN = 'http://demo.test'

describe("the demo's ownership rule (Casbin): a User edits or deletes only their own entries, an Administrator any", () => {
  let dir: string
  let sql: SQLStore
  let demo: ReturnType<typeof createDemoApp>

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-ownership-'))
    writeFileSync(join(dir, 'ca.pem'), ldap.caPEM)
    sql = await openSQLStore({ uri: join(dir, 'demo.db') })
    await sql.accounts.add({ username: 'admin', password: 'local admin passphrase', roles: ['Administrator'] })
    // An SQL bob next to the directory's bob (staff → User): same username, two principals.
    await sql.accounts.add({ username: 'bob', password: 'the sql bob passphrase', roles: ['User'] })
    await sql.accounts.add({ username: 'carol', password: 'the sql carol passphrase', roles: ['User'] })
    await sql.accounts.add({ username: 'victor', password: 'the sql victor passphrase', roles: ['Viewer'] })
    const config = loadConfig({
      LDAP_URL: ldap.url,
      LDAP_BIND_DN: ldap.serviceDN,
      LDAP_BIND_PASSWORD: ldap.servicePassword,
      LDAP_SEARCH_BASE: ldap.peopleDN,
      LDAP_GROUP_ROLES: 'admins=Administrator,staff=User',
      LDAP_CA_FILE: join(dir, 'ca.pem'),
    })
    demo = createDemoApp({ sql, authenticators: [ldapAuthenticator(config.ldap!, NOOP_LOGGER)], secret: 'o'.repeat(40), secureCookies: false, logger: NOOP_LOGGER })
  })
  afterAll(async () => {
    await demo?.auth.close()
    await sql?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  async function login(username: string, password: string): Promise<string> {
    const res = await demo.app.request(`${ORIGIN}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify({ username, password }) })
    expect(res.status).toBe(200)
    return res.headers.getSetCookie()[0]!.split(';')[0]!
  }
  const call = (method: string, path: string, cookie: string, body?: unknown) =>
    demo.app.request(`${ORIGIN}${path}`, { method, headers: { cookie, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

  it('records the author as the principal (source, id) and lets only them, or an Administrator, change the entry', async () => {
    const sqlBob = await login('bob', 'the sql bob passphrase')
    const ldapBob = await login('bob', ldap.users.bob!.password)
    const carol = await login('carol', 'the sql carol passphrase')
    const victor = await login('victor', 'the sql victor passphrase')
    const admin = await login('admin', 'local admin passphrase')
    const me = (await (await call('GET', '/auth/me', ldapBob)).json()) as { user: { source: string; roles: string[] } }
    expect(me.user).toMatchObject({ source: 'ldap', roles: ['User'] })

    const created = await call('POST', '/api/entries', sqlBob, { text: 'by the SQL bob' })
    expect(created.status).toBe(201)
    const { entry } = (await created.json()) as { entry: { id: number; author: { source: string; id: string; username: string } } }
    const account = await sql.store.getUserByUsername({ username: 'bob' })
    expect(entry.author).toEqual({ source: 'sql', id: account!.id, username: 'bob' })

    // The LDAP bob has the same username and the same role, and is not the author.
    expect((await call('PUT', `/api/entries/${entry.id}`, ldapBob, { text: 'hijacked' })).status).toBe(403)
    expect((await call('DELETE', `/api/entries/${entry.id}`, ldapBob)).status).toBe(403)
    expect((await call('PUT', `/api/entries/${entry.id}`, carol, { text: 'hijacked' })).status).toBe(403)
    expect((await call('DELETE', `/api/entries/${entry.id}`, victor)).status).toBe(403)
    const edited = await call('PUT', `/api/entries/${entry.id}`, sqlBob, { text: 'edited by the SQL bob' })
    expect(edited.status).toBe(200)
    expect(edited.headers.get('cache-control')).toBe('no-store')

    const ldapEntry = ((await (await call('POST', '/api/entries', ldapBob, { text: 'by the LDAP bob' })).json()) as { entry: { id: number } }).entry
    expect((await call('DELETE', `/api/entries/${ldapEntry.id}`, sqlBob)).status).toBe(403)
    expect((await call('PUT', `/api/entries/${ldapEntry.id}`, ldapBob, { text: 'mine' })).status).toBe(200)
    expect((await call('DELETE', `/api/entries/${ldapEntry.id}`, ldapBob)).status).toBe(204)

    // An Administrator may change any entry, the welcome entry (no author) included.
    expect((await call('PUT', `/api/entries/${entry.id}`, admin, { text: 'moderated' })).status).toBe(200)
    expect((await call('PUT', '/api/entries/1', sqlBob, { text: 'x' })).status).toBe(403)
    expect((await call('PUT', '/api/entries/1', admin, { text: 'Welcome!' })).status).toBe(200)
    expect((await call('DELETE', `/api/entries/${entry.id}`, sqlBob)).status).toBe(204)
    expect((await call('DELETE', `/api/entries/${entry.id}`, admin)).status).toBe(404)
    const list = (await (await call('GET', '/api/entries', victor)).json()) as { entries: Array<{ id: number; text: string }> }
    expect(list.entries).toEqual([{ id: 1, text: 'Welcome!', author: null }])
  })
})

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

describe('the demo with LDAP switched on by environment variables', () => {
  let dir: string
  let sql: SQLStore
  const closers: Array<() => Promise<void>> = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-ldap-'))
    writeFileSync(join(dir, 'ca.pem'), ldap.caPEM)
    sql = await openSQLStore({ uri: join(dir, 'demo.db') })
    await sql.accounts.add({ username: 'admin', password: 'local admin passphrase', roles: ['Administrator'] })
  })
  afterAll(async () => {
    for (const close of closers) await close()
    await sql.close()
    rmSync(dir, { recursive: true, force: true })
  })

  function demoWith(env: Record<string, string>) {
    const config = loadConfig({
      LDAP_URL: ldap.url,
      LDAP_BIND_DN: ldap.serviceDN,
      LDAP_BIND_PASSWORD: ldap.servicePassword,
      LDAP_SEARCH_BASE: ldap.peopleDN,
      LDAP_GROUP_ROLES: 'admins=Administrator,staff=User',
      LDAP_CA_FILE: join(dir, 'ca.pem'),
      ...env,
    })
    const authenticator = ldapAuthenticator(config.ldap!, NOOP_LOGGER)
    const { app, auth } = createDemoApp({ sql, authenticators: [authenticator], secret: 'd'.repeat(40), secureCookies: false, logger: NOOP_LOGGER })
    closers.push(() => auth.close())
    const login = async (username: string, password: string) => {
      const res = await app.request(`${ORIGIN}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify({ username, password }) })
      return { status: res.status, cookie: res.headers.getSetCookie()[0]?.split(';')[0] }
    }
    const get = (path: string, cookie: string) => app.request(`${ORIGIN}${path}`, { headers: { cookie } })
    return { login, get }
  }

  it('logs directory users in over StartTLS with the CA file, groups mapped to roles; SQL users still log in', async () => {
    const demo = demoWith({})
    const alice = await demo.login('alice', ldap.users.alice!.password)
    expect(alice.status).toBe(200)
    const me = (await (await demo.get('/auth/me', alice.cookie!)).json()) as { user: { source: string; roles: string[] } }
    expect(me.user.source).toBe('ldap')
    expect([...me.user.roles].sort()).toEqual(['Administrator', 'User'])
    expect((await demo.get('/admin', alice.cookie!)).status).toBe(200)

    const bob = await demo.login('bob', ldap.users.bob!.password)
    expect((await demo.get('/admin', bob.cookie!)).status).toBe(403)
    expect((await demo.get('/api/entries', bob.cookie!)).status).toBe(200)

    expect((await demo.login('admin', 'local admin passphrase')).status).toBe(200)
    expect((await demo.login('alice', 'not her password')).status).toBe(401)
  })

  it('reads groups by a member search under LDAP_GROUP_BASE', async () => {
    const demo = demoWith({ LDAP_GROUP_BASE: ldap.groupsDN })
    const alice = await demo.login('alice', ldap.users.alice!.password)
    expect((await demo.get('/admin', alice.cookie!)).status).toBe(200)
  })
})

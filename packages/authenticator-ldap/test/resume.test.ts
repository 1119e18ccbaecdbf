import type { User } from '@gatehouse/core'
import { ldapmodify, principalOf } from '@gatehouse/testkit'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { LDAPAuthenticator } from '../src/index.js'
import { addPerson, createChainApp, ldapModifyGroup, login, searchOptions } from './helpers.js'

const ldap = inject('ldap')
const MINUTE = 60_000

async function loggedIn(authenticator: LDAPAuthenticator, uid: string, password: string): Promise<User> {
  const result = await login(authenticator, uid, password)
  if (result.outcome !== 'authenticated') throw new Error(`${uid} did not log in`)
  return result.user
}

const deleteEntry = (dn: string) => ldapmodify(ldap, `dn: ${dn}\nchangetype: delete\n`)

describe('resuming sessions of LDAP users', () => {
  const authenticators: LDAPAuthenticator[] = []
  afterAll(() => Promise.all(authenticators.map((a) => a.close())))
  const make = (overrides: Parameters<typeof searchOptions>[1] = {}) => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, overrides))
    authenticators.push(authenticator)
    return authenticator
  }

  it('trusts the login snapshot when revalidation is off', async () => {
    const authenticator = make()
    const person = await addPerson(ldap, { groups: ['admins'] })
    const user = await loggedIn(authenticator, person.uid, person.password)
    await deleteEntry(person.dn)
    const resumed = await authenticator.resume({ principal: principalOf(user, Date.now() - 600 * MINUTE) })
    expect(resumed).toMatchObject({ id: user.id, source: 'ldap', username: person.uid, roles: ['Administrator'] })
  })

  it('trusts the session until revalidateAfterSeconds, then re-reads groups and existence', async () => {
    const authenticator = make({ revalidateAfterSeconds: 60 })
    const person = await addPerson(ldap, { groups: ['admins', 'staff'] })
    const user = await loggedIn(authenticator, person.uid, person.password)
    expect([...user.roles].sort()).toEqual(['Administrator', 'User'])
    await ldapModifyGroup(ldap, 'admins', 'delete', person.dn)

    // A session from a minute ago is still within the interval of the login check made just now.
    const recent = await authenticator.resume({ principal: principalOf(user, Date.now() - 1000) })
    expect([...recent!.roles].sort()).toEqual(['Administrator', 'User'])

    // An old session: this process last checked the user at the login above, which is recent, so
    // the answer of that check holds.
    expect([...(await authenticator.resume({ principal: principalOf(user, Date.now() - 10 * MINUTE) }))!.roles].sort()).toEqual(['Administrator', 'User'])

    // Another process (a fresh authenticator, no checks made) re-reads: the admin role is gone.
    const other = make({ revalidateAfterSeconds: 60 })
    const reread = await other.resume({ principal: principalOf(user, Date.now() - 10 * MINUTE) })
    expect(reread).toMatchObject({ id: user.id, source: 'ldap', username: person.uid, roles: ['User'] })

    // Deleted: the session is refused once the interval since the last check has passed.
    await deleteEntry(person.dn)
    const third = make({ revalidateAfterSeconds: 60 })
    expect(await third.resume({ principal: principalOf(user, Date.now() - 10 * MINUTE) })).toBeNull()
    // That answer is remembered for every session of the user, until the next interval.
    expect(await third.resume({ principal: principalOf(user, Date.now() - 5 * MINUTE) })).toBeNull()
  })

  it('re-validates again once the interval since its last check has passed', async () => {
    const authenticator = make({ revalidateAfterSeconds: 0.2 })
    const person = await addPerson(ldap, { groups: ['admins'] })
    const user = await loggedIn(authenticator, person.uid, person.password)
    const principal = principalOf(user, Date.now() - MINUTE)
    const pause = () => new Promise((resolve) => setTimeout(resolve, 250))
    await ldapModifyGroup(ldap, 'admins', 'delete', person.dn)
    // Within the interval of the check the login made: the roles seen at login.
    expect((await authenticator.resume({ principal }))!.roles).toEqual(['Administrator'])
    await pause()
    expect((await authenticator.resume({ principal }))!.roles).toEqual([])
    await ldapModifyGroup(ldap, 'admins', 'add', person.dn)
    // Within the interval of that check: its answer holds.
    expect((await authenticator.resume({ principal }))!.roles).toEqual([])
    await pause()
    expect((await authenticator.resume({ principal }))!.roles).toEqual(['Administrator'])
  })

  it('re-reads entries whose DNs carry escaped characters, by their canonical id', async () => {
    const authenticator = make({ revalidateAfterSeconds: 0 })
    for (const fixture of [ldap.users.comma!, ldap.users.quote!, ldap.users.plus!, ldap.users.backslash!, ldap.users.unicode!]) {
      const user = await loggedIn(authenticator, fixture.uid, fixture.password)
      const resumed = await authenticator.resume({ principal: principalOf(user, Date.now() - MINUTE) })
      expect(resumed, fixture.dn).toMatchObject({ id: user.id, username: fixture.uid, roles: user.roles })
    }
  })

  it('refuses principals of another source', async () => {
    const authenticator = make({ revalidateAfterSeconds: 0 })
    const user = await loggedIn(authenticator, 'alice', ldap.users.alice!.password)
    expect(await authenticator.resume({ principal: { ...principalOf(user), source: 'sql' } })).toBeNull()
  })

  it('ends sessions in a real app: role removed ⇒ 403, account deleted ⇒ 401', async () => {
    const authenticator = make({ revalidateAfterSeconds: 0 })
    const { postLogin, get } = await createChainApp(authenticator)
    const person = await addPerson(ldap, { groups: ['admins'] })
    const { res, cookie } = await postLogin(person.uid, person.password)
    expect(res.status).toBe(200)
    expect((await get('/admin', cookie)).status).toBe(200)
    await ldapModifyGroup(ldap, 'admins', 'delete', person.dn)
    expect((await get('/admin', cookie)).status).toBe(403)
    expect((await get('/auth/me', cookie)).status).toBe(200)
    await deleteEntry(person.dn)
    expect((await get('/auth/me', cookie)).status).toBe(401)
  })
})

describe('one username, two directories', () => {
  it('keeps an LDAP alice and a SQL alice as two principals', async () => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap))
    const { postLogin, get, store, hasher } = await createChainApp(authenticator)
    await store.createUser({ username: 'alice', passwordHash: await hasher.hash('sql-alice-password'), roles: ['Viewer'] })
    try {
      const sql = await postLogin('alice', 'sql-alice-password')
      const directory = await postLogin('alice', ldap.users.alice!.password)
      expect(sql.body?.user).toMatchObject({ username: 'alice', source: 'sql', roles: ['Viewer'] })
      expect(directory.body?.user).toMatchObject({ username: 'alice', source: 'ldap', id: `uid=alice,${ldap.peopleDN}` })
      expect(sql.body?.user?.id).not.toBe(directory.body?.user?.id)
      // Each session resumes to its own principal, with its own roles.
      const sqlMe = (await (await get('/auth/me', sql.cookie)).json()) as { user: { source: string; roles: string[] } }
      const ldapMe = (await (await get('/auth/me', directory.cookie)).json()) as { user: { source: string; roles: string[] } }
      expect(sqlMe.user).toMatchObject({ source: 'sql', roles: ['Viewer'] })
      expect(ldapMe.user.source).toBe('ldap')
      expect([...ldapMe.user.roles].sort()).toEqual(['Administrator', 'User'])
      expect((await get('/admin', sql.cookie)).status).toBe(403)
      expect((await get('/admin', directory.cookie)).status).toBe(200)
      // The SQL password does not open the LDAP account, nor the other way round.
      expect((await postLogin('alice', 'wrong-for-both')).res.status).toBe(401)
    } finally {
      await authenticator.close()
    }
  })
})

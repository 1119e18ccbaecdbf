import { AuthenticatorUnavailableError } from '@gatehouse/core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { LDAPAuthenticator, normalizeDN } from '../src/index.js'
import { hungListener, login, searchOptions } from './helpers.js'

const ldap = inject('ldap')
const users = ldap.users

describe('LDAP login (search, then bind)', () => {
  let authenticator: LDAPAuthenticator
  beforeAll(() => {
    authenticator = new LDAPAuthenticator(searchOptions(ldap))
  })
  afterAll(() => authenticator.close())

  it.each(Object.entries(users).filter(([key]) => key !== 'twin'))('logs in %s with the right password', async (_, user) => {
    const result = await login(authenticator, user.uid, user.password)
    expect(result.outcome).toBe('authenticated')
    if (result.outcome !== 'authenticated') return
    expect(result.user).toMatchObject({ id: normalizeDN(user.dn), username: user.uid, source: 'ldap', displayName: user.cn, email: user.mail })
  })

  it('gives DNs with escaped characters one canonical id, whatever the server spelling', async () => {
    // The server answers "cn=Smith\2C John,..."; the id is the canonical spelling.
    const result = await login(authenticator, 'jsmith', users.comma!.password)
    expect(result.outcome === 'authenticated' && result.user.id).toBe(`cn=Smith\\, John,${ldap.peopleDN}`)
    const eve = await login(authenticator, 'eve', users.quote!.password)
    expect(eve.outcome === 'authenticated' && eve.user.id).toBe(`cn=Eve \\"Q\\" Doe+uid=eve,${ldap.peopleDN}`)
  })

  it('rejects a wrong password as a value', async () => {
    expect(await login(authenticator, 'alice', 'not-the-password')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    expect(await login(authenticator, 'alice', `${users.alice!.password} `)).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })

  it('rejects an unknown user', async () => {
    expect(await login(authenticator, 'nobody', 'whatever-password')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })

  it('rejects a username that matches several entries, even with a right password', async () => {
    expect(await login(authenticator, 'twin', users.twin!.password)).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })

  it('rejects an empty password before anything reaches a server', async () => {
    // Against a server that never answers, any network step would end in "unavailable".
    const hung = await hungListener()
    const offline = new LDAPAuthenticator(searchOptions(ldap, { url: `ldap://127.0.0.1:${hung.port}`, timeoutMs: 200, connectTimeoutMs: 200 }))
    try {
      expect(await login(offline, 'alice', '')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
      expect(await login(offline, '   ', 'password')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
      expect(hung.connections).toBe(0)
      await expect(login(offline, 'alice', 'x')).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
    } finally {
      await offline.close()
      await hung.close()
    }
    expect(await login(authenticator, users.alice!.uid, '')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })

  // Each of these would log in as alice (or break the filter) if the username were spliced into
  // "(uid={username})" as text: "ali*" would match alice alone and her password would bind.
  it.each(['*', 'ali*', '*lice', 'a*e', 'alice)(uid=*', '*)(|(uid=*', 'alice)(|(objectClass=*)', '(uid=alice)', 'alice\0', 'alice\0)(uid=*', 'alice\\', 'al\\69ce', 'alic\\2a'])(
    'treats %j as a literal username (no filter injection)',
    async (username) => {
      expect(await login(authenticator, username, users.alice!.password)).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    },
  )

  it('normalizes usernames like the rest of Gatehouse (case, width, Unicode)', async () => {
    for (const typed of ['ALICE', 'Alice', 'ａｌｉｃｅ', ' alice ']) {
      const result = await login(authenticator, typed, users.alice!.password)
      expect(result.outcome === 'authenticated' && result.user.username).toBe('alice')
    }
    const zoe = await login(authenticator, 'ZOË', users.unicode!.password)
    expect(zoe.outcome === 'authenticated' && zoe.user.username).toBe('zoë')
    // The decomposed spelling (e + combining diaeresis) is the same name after NFKC.
    const decomposed = await login(authenticator, 'zoe\u0308', users.unicode!.password)
    expect(decomposed.outcome === 'authenticated' && decomposed.user.username).toBe('zoë')
  })

  it('keeps concurrent logins apart: each bind gets its own answer', async () => {
    const attempts = Array.from({ length: 40 }, (_, i) => {
      const user = [users.alice!, users.bob!, users.carol!, users.comma!, users.unicode!][i % 5]!
      const right = i % 3 !== 0
      return { user, right, promise: login(authenticator, user.uid, right ? user.password : `${user.password}-wrong`) }
    })
    for (const { user, right, promise } of attempts) {
      const result = await promise
      if (right) expect(result.outcome === 'authenticated' && result.user.id).toBe(normalizeDN(user.dn))
      else expect(result).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    }
  })
})

describe('LDAP group → role mapping', () => {
  const cases = [
    ['alice', ['Administrator', 'User']],
    ['bob', ['User']],
    ['carol', []],
    ['jsmith', ['User']],
    ['eve', ['Administrator']],
    ['dplus', ['User']],
    ['backslash', ['User']],
    ['zoë', ['User']],
  ] as const
  const passwordOf = (uid: string) => Object.values(users).find((user) => user.uid === uid)!.password
  const authenticators: LDAPAuthenticator[] = []
  const make = (overrides: Parameters<typeof searchOptions>[1]) => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, overrides))
    authenticators.push(authenticator)
    return authenticator
  }
  afterAll(() => Promise.all(authenticators.map((a) => a.close())))

  async function rolesOf(authenticator: LDAPAuthenticator, uid: string) {
    const result = await login(authenticator, uid, passwordOf(uid))
    if (result.outcome !== 'authenticated') throw new Error(`${uid} did not log in`)
    return [...result.user.roles].sort()
  }

  it.each([
    ['memberOf', {}],
    ['a (member={dn}) search', { groups: { strategy: 'search', base: ldap.groupsDN } }],
  ] as const)('maps groups found by %s', async (_, overrides) => {
    const authenticator = make(overrides)
    for (const [uid, roles] of cases) expect(await rolesOf(authenticator, uid), uid).toEqual([...roles].sort())
  })

  it('matches full group DNs whatever their spelling, and adds default roles', async () => {
    const authenticator = make({
      groupRoles: { 'CN=Admins, OU=Groups, DC=Example, DC=ORG': ['Administrator', 'Auditor'] },
      defaultRoles: ['Viewer'],
    })
    expect(await rolesOf(authenticator, 'alice')).toEqual(['Administrator', 'Auditor', 'Viewer'])
    expect(await rolesOf(authenticator, 'eve')).toEqual(['Administrator', 'Auditor', 'Viewer'])
    expect(await rolesOf(authenticator, 'bob')).toEqual(['Viewer'])
  })

  it('grants nothing for groups that are not mapped', async () => {
    const authenticator = make({ groupRoles: {} })
    expect(await rolesOf(authenticator, 'alice')).toEqual([])
  })

  it('uses a custom username attribute and filter', async () => {
    const authenticator = make({ searchFilter: '(&(objectClass=inetOrgPerson)(mail={username}))', usernameAttribute: 'mail' })
    const result = await login(authenticator, 'John.Smith@example.org', users.comma!.password)
    expect(result.outcome === 'authenticated' && result.user).toMatchObject({ username: 'john.smith@example.org', roles: ['User'] })
    expect(await login(authenticator, '*@example.org', users.comma!.password)).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })
})

describe('LDAP login (direct bind with userDNTemplate)', () => {
  const authenticators: LDAPAuthenticator[] = []
  afterAll(() => Promise.all(authenticators.map((a) => a.close())))
  const make = (overrides: Parameters<typeof searchOptions>[1]) => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, { bindDN: undefined, bindPassword: undefined, searchBase: undefined, ...overrides }))
    authenticators.push(authenticator)
    return authenticator
  }

  it('binds the templated DN and reads the entry and groups as the user', async () => {
    const authenticator = make({ userDNTemplate: `uid={username},${ldap.peopleDN}` })
    const result = await login(authenticator, 'Alice', users.alice!.password)
    expect(result.outcome === 'authenticated' && result.user).toMatchObject({
      id: normalizeDN(users.alice!.dn),
      username: 'alice',
      displayName: 'Alice Liddell',
      roles: ['Administrator', 'User'],
    })
    expect(await login(authenticator, 'alice', 'wrong')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    expect(await login(authenticator, 'nobody', 'wrong')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    const zoe = await login(authenticator, 'zoë', users.unicode!.password)
    expect(zoe.outcome).toBe('authenticated')
  })

  it('escapes the username into the DN (commas, plus signs, quotes, backslashes)', async () => {
    const authenticator = make({ userDNTemplate: `cn={username},${ldap.peopleDN}`, groups: { strategy: 'search', base: ldap.groupsDN } })
    for (const user of [users.comma!, users.plus!, users.backslash!]) {
      const result = await login(authenticator, user.cn, user.password)
      expect(result.outcome === 'authenticated' && result.user, user.cn).toMatchObject({ id: normalizeDN(user.dn), username: user.uid, roles: ['User'] })
    }
    // Without escaping, "alice,ou=people" would try to add an RDN of its own.
    expect(await login(authenticator, `Alice Liddell,ou=people`, users.alice!.password)).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })

  it.each(['alice,ou=people', 'alice+cn=x', '*', 'alice\0', '#alice', ' alice\\'])('rejects %j without reaching another entry', async (username) => {
    const authenticator = make({ userDNTemplate: `uid={username},${ldap.peopleDN}` })
    expect(await login(authenticator, username, users.alice!.password)).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })

  it('reads through the service account when one is configured', async () => {
    const authenticator = make({ userDNTemplate: `uid={username},${ldap.peopleDN}`, bindDN: ldap.serviceDN, bindPassword: ldap.servicePassword })
    const result = await login(authenticator, 'bob', users.bob!.password)
    expect(result.outcome === 'authenticated' && result.user.roles).toEqual(['User'])
  })
})

import { describeAuthenticator } from '@gatehouse/testkit'
import { inject } from 'vitest'
import { LDAPAuthenticator } from '../src/index.js'
import { searchOptions } from './helpers.js'

const ldap = inject('ldap')

describeAuthenticator('LDAPAuthenticator (search, then bind)', async () => {
  const authenticator = new LDAPAuthenticator(searchOptions(ldap, { revalidateAfterSeconds: 0 }))
  return {
    authenticator,
    valid: { username: 'alice', password: ldap.users.alice!.password, expectedRoles: ['Administrator', 'User'] },
    unknownUsername: 'nobody',
    unknownUser: 'rejected',
    resumes: true,
    close: () => authenticator.close(),
  }
})

describeAuthenticator('LDAPAuthenticator (direct bind, StartTLS)', async () => {
  const authenticator = new LDAPAuthenticator({
    url: ldap.url,
    userDNTemplate: `uid={username},${ldap.peopleDN}`,
    groups: { strategy: 'search', base: ldap.groupsDN },
    groupRoles: { admins: 'Administrator', staff: 'User' },
    tls: { ca: ldap.caPEM, startTLS: true },
  })
  return {
    authenticator,
    valid: { username: 'zoë', password: ldap.users.unicode!.password, expectedRoles: ['User'] },
    unknownUsername: 'nobody',
    unknownUser: 'rejected',
    resumes: true,
    close: () => authenticator.close(),
  }
})

// The README's environment-variable snippet, verbatim, tested against the test directory.
import { readFileSync } from 'node:fs'
import { LDAPAuthenticator } from '../src/index.js'
import type { Logger } from '@gatehouse/core'

/** The LDAP authenticator configured by LDAP_* variables, or null when LDAP_URL is unset. */
export function ldapFromEnv(env: NodeJS.ProcessEnv, logger?: Logger): LDAPAuthenticator | null {
  if (!env.LDAP_URL) return null
  const urls = env.LDAP_URL.split(/[\s,]+/).filter(Boolean)
  return new LDAPAuthenticator({
    url: urls,
    bindDN: env.LDAP_BIND_DN || undefined,
    bindPassword: env.LDAP_BIND_PASSWORD || undefined,
    searchBase: env.LDAP_SEARCH_BASE || undefined,
    searchFilter: env.LDAP_SEARCH_FILTER || undefined, // default '(uid={username})'
    // LDAP_GROUP_BASE set: search groupOfNames with (member=<user DN>); unset: read memberOf.
    groups: env.LDAP_GROUP_BASE ? { strategy: 'search', base: env.LDAP_GROUP_BASE } : { strategy: 'memberOf' },
    groupRoles: parseGroupRoles(env.LDAP_GROUP_ROLES),
    // A CA file means TLS: ldaps:// as given, ldap:// upgraded with StartTLS (never plaintext).
    tls: env.LDAP_CA_FILE ? { ca: readFileSync(env.LDAP_CA_FILE), startTLS: urls.every((url) => url.startsWith('ldap://')) } : undefined,
    revalidateAfterSeconds: env.LDAP_BIND_DN ? 300 : undefined,
    logger,
  })
}

/** 'admins=Administrator,staff=User' → { admins: ['Administrator'], staff: ['User'] }; repeat a group for several roles. */
function parseGroupRoles(spec = ''): Record<string, string[]> {
  const map: Record<string, string[]> = Object.create(null)
  for (const pair of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new TypeError(`LDAP_GROUP_ROLES: "${pair}" is not group=Role`)
    const group = pair.slice(0, at).trim()
    ;(map[group] ??= []).push(pair.slice(at + 1).trim())
  }
  return map
}

import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, inject, it } from 'vitest'
import { login } from './helpers.js'

const ldap = inject('ldap')

describe('the README snippet: LDAP_* variables → options', () => {
  it('is off without LDAP_URL', () => {
    expect(ldapFromEnv({})).toBeNull()
  })

  it('logs in over StartTLS with a CA file, mapping groups to roles', async () => {
    const caFile = join(await mkdtemp(join(tmpdir(), 'gatehouse-ldap-ca-')), 'ca.pem')
    await writeFile(caFile, ldap.caPEM)
    const authenticator = ldapFromEnv({
      LDAP_URL: ldap.url,
      LDAP_BIND_DN: ldap.serviceDN,
      LDAP_BIND_PASSWORD: ldap.servicePassword,
      LDAP_SEARCH_BASE: ldap.peopleDN,
      LDAP_GROUP_BASE: ldap.groupsDN,
      LDAP_GROUP_ROLES: 'admins=Administrator, staff=User, admins=Auditor',
      LDAP_CA_FILE: caFile,
    })!
    try {
      const result = await login(authenticator, 'alice', ldap.users.alice!.password)
      expect(result.outcome === 'authenticated' && [...result.user.roles].sort()).toEqual(['Administrator', 'Auditor', 'User'])
    } finally {
      await authenticator.close()
    }
  })

  it('refuses a malformed LDAP_GROUP_ROLES at startup', () => {
    expect(() => ldapFromEnv({ LDAP_URL: ldap.url, LDAP_BIND_DN: ldap.serviceDN, LDAP_BIND_PASSWORD: 'x', LDAP_SEARCH_BASE: ldap.peopleDN, LDAP_GROUP_ROLES: 'admins' })).toThrow(/LDAP_GROUP_ROLES/)
  })
})

import { NOOP_LOGGER } from '@gatehouse/core'
import { describe, expect, it } from 'vitest'
import type { LDAPAuthenticatorOptions } from './ldap-options.js'
import { isLoopback, ldapOptionsSchema, resolveLDAPOptions } from './ldap-options.js'

const SEARCH: LDAPAuthenticatorOptions = {
  url: 'ldap://127.0.0.1:3890',
  bindDN: 'cn=gatehouse,ou=services,dc=example,dc=org',
  bindPassword: 'service-secret-value',
  searchBase: 'ou=people,dc=example,dc=org',
}

describe('resolveLDAPOptions', () => {
  it('applies the documented defaults', () => {
    const options = resolveLDAPOptions(SEARCH)
    expect(options).toMatchObject({
      id: 'ldap',
      endpoints: [{ url: 'ldap://127.0.0.1:3890', host: '127.0.0.1', port: 3890, secure: false }],
      service: { dn: SEARCH.bindDN, password: SEARCH.bindPassword },
      userDNTemplate: null,
      usernameAttribute: 'uid',
      displayNameAttribute: 'cn',
      emailAttribute: 'mail',
      groups: { strategy: 'memberOf', attribute: 'memberOf' },
      defaultRoles: [],
      tls: { ca: undefined, rejectUnauthorized: true, startTLS: false },
      connectTimeoutMs: 5000,
      timeoutMs: 5000,
      revalidateAfterMs: null,
      maxIdleConnections: 4,
      maxConnections: 10,
      logger: NOOP_LOGGER,
    })
    expect(options.searchFilter.source).toBe('(uid={username})')
  })

  it('fills in default ports and the group search defaults', () => {
    const options = resolveLDAPOptions({ ...SEARCH, url: ['ldaps://ldap.example.org', 'ldaps://[::1]'], groups: { strategy: 'search', base: 'ou=groups,dc=example,dc=org' } })
    expect(options.endpoints.map(({ host, port, secure }) => ({ host, port, secure }))).toEqual([
      { host: 'ldap.example.org', port: 636, secure: true },
      { host: '::1', port: 636, secure: true },
    ])
    expect(options.groups).toMatchObject({ strategy: 'search', nameAttribute: 'cn' })
    expect(options.groups.strategy === 'search' && options.groups.filter.source).toBe('(member={dn})')
  })

  it('keys group DNs canonically and group names case-insensitively', () => {
    const options = resolveLDAPOptions({
      ...SEARCH,
      groupRoles: { Admins: 'Administrator', 'CN=Staff,OU=Groups,DC=example,DC=org': ['User', 'Viewer'], staff: 'User' },
    })
    expect([...options.rolesByGroupName]).toEqual([
      ['admins', ['Administrator']],
      ['staff', ['User']],
    ])
    expect([...options.rolesByGroupDN]).toEqual([['cn=staff,ou=groups,dc=example,dc=org', ['User', 'Viewer']]])
  })

  it('accepts a direct-bind configuration without a service account', () => {
    const options = resolveLDAPOptions({ url: 'ldaps://ldap.example.org', userDNTemplate: 'uid={username},ou=people,dc=example,dc=org' })
    expect(options.service).toBeNull()
    expect(options.userDNTemplate).toBe('uid={username},ou=people,dc=example,dc=org')
  })

  it.each<[string, Partial<Record<keyof LDAPAuthenticatorOptions, unknown>>, RegExp]>([
    ['no URL', { url: undefined }, /url:/],
    ['an http URL', { url: 'http://ldap.example.org' }, /url: must be ldap:\/\/host/],
    ['a URL with a base DN', { url: 'ldap://ldap.example.org/dc=example,dc=org' }, /url: must be ldap/],
    ['an empty URL list', { url: [] }, /url:/],
    ['bindDN without bindPassword', { bindPassword: undefined }, /bindPassword: is required with bindDN/],
    ['an empty bindPassword', { bindPassword: '' }, /bindPassword: must not be empty/],
    ['neither a service account nor a template', { bindDN: undefined, bindPassword: undefined }, /bindDN: give bindDN \+ bindPassword/],
    ['no search base', { searchBase: undefined }, /searchBase: is required/],
    ['a bad search base', { searchBase: 'people' }, /searchBase: must be a valid DN/],
    ['a filter without {username}', { searchFilter: '(uid=alice)' }, /searchFilter: must contain \{username\}/],
    ['a filter that does not parse', { searchFilter: '(uid={username}' }, /searchFilter: invalid LDAP filter/],
    ['a placeholder as attribute', { searchFilter: '({username}=x)' }, /values only/],
    ['a template without {username}', { userDNTemplate: 'uid=x,dc=org' }, /userDNTemplate: must contain \{username\}/],
    ['a template that is no DN', { userDNTemplate: '{username}' }, /userDNTemplate: must be a valid DN/],
    ['a group filter with an unknown placeholder', { groups: { strategy: 'search', base: 'dc=org', filter: '(member={user})' } }, /groups\.filter: unknown placeholder/],
    ['a group search without base', { groups: { strategy: 'search' } }, /groups\.base/],
    ['an unknown group strategy', { groups: { strategy: 'nested' } }, /groups/],
    ['a zero timeout', { timeoutMs: 0 }, /timeoutMs: must be positive/],
    ['an unbounded timeout', { connectTimeoutMs: Number.POSITIVE_INFINITY }, /connectTimeoutMs/],
    ['a fractional timeout', { timeoutMs: 1.5 }, /timeoutMs: must be an integer/],
    [
      'revalidation without a service account',
      { bindDN: undefined, bindPassword: undefined, userDNTemplate: 'uid={username},dc=org', revalidateAfterSeconds: 60 },
      /revalidateAfterSeconds: needs a service account/,
    ],
    ['StartTLS on ldaps://', { url: 'ldaps://ldap.example.org', tls: { startTLS: true } }, /tls: startTLS is for ldap:\/\//],
    ['a CA for a plaintext URL', { tls: { ca: '-----BEGIN CERTIFICATE-----' } }, /tls: a CA is given but an ldap:\/\/ URL would not use TLS/],
    ['a group key that is a broken DN', { groupRoles: { 'cn=a,': 'Administrator' } }, /groupRoles: "cn=a," is not a valid DN/],
    ['an empty role name', { groupRoles: { admins: '' } }, /groupRoles\.admins/],
    ['a bad id', { id: 'my ldap' }, /id:/],
    ['no connections at all', { maxConnections: 0 }, /maxConnections/],
    ['a misspelt option', { searchfilter: '(uid={username})' } as never, /Unrecognized key.*searchfilter/],
    ['a logger without methods', { logger: {} }, /logger: must have debug, info, warn and error methods/],
  ])('refuses %s at startup with a clear message', (_, change, message) => {
    expect(() => resolveLDAPOptions({ ...SEARCH, ...change } as LDAPAuthenticatorOptions)).toThrow(message)
    expect(() => resolveLDAPOptions({ ...SEARCH, ...change } as LDAPAuthenticatorOptions)).toThrow(/^LDAPAuthenticator: invalid options: /)
  })

  it('never echoes the service password in an error', () => {
    let message = ''
    try {
      resolveLDAPOptions({ ...SEARCH, bindPassword: 'service-secret-value', url: 'http://x', timeoutMs: -1 })
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/url: .*timeoutMs: /)
    expect(message).not.toContain('service-secret-value')
  })

  it('exports the schema for callers that validate configuration themselves', () => {
    expect(ldapOptionsSchema.safeParse(SEARCH).success).toBe(true)
    expect(ldapOptionsSchema.safeParse({ ...SEARCH, bindPassword: undefined }).success).toBe(false)
  })
})

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['ldap.example.org', false],
    ['10.0.0.1', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopback(host)).toBe(loopback)
  })
})

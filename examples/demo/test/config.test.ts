import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, parseGroupRoles } from '../src/config.js'

describe('demo configuration', () => {
  it('has working defaults', () => {
    expect(loadConfig({})).toEqual({ port: 8000, dbURI: undefined, secret: undefined, secureCookies: false, ldap: undefined, trustedProxies: [], allowedOrigins: [] })
  })

  it('reads LDAP settings with defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'))
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n')
    const config = loadConfig({
      LDAP_URL: 'ldaps://ldap.example:636',
      LDAP_BIND_DN: 'cn=service,dc=example,dc=org',
      LDAP_BIND_PASSWORD: 'pw',
      LDAP_SEARCH_BASE: 'ou=people,dc=example,dc=org',
      LDAP_GROUP_ROLES: 'admins=Administrator, staff=User,staff=Viewer',
      LDAP_CA_FILE: join(dir, 'ca.pem'),
    })
    expect(config.ldap).toMatchObject({ searchFilter: '(uid={username})', groupRoles: { admins: ['Administrator'], staff: ['User', 'Viewer'] }, ca: '-----BEGIN CERTIFICATE-----\n' })
  })

  it('reads the proxies whose X-Forwarded-For is believed and the other origins allowed to post', () => {
    const config = loadConfig({ TRUSTED_PROXIES: '10.0.0.1, ::1', ALLOWED_ORIGINS: 'https://app.example.com,http://localhost:5173' })
    expect(config.trustedProxies).toEqual(['10.0.0.1', '::1'])
    expect(config.allowedOrigins).toEqual(['https://app.example.com', 'http://localhost:5173'])
    expect(loadConfig({})).toMatchObject({ trustedProxies: [], allowedOrigins: [] })
    expect(() => loadConfig({ TRUSTED_PROXIES: 'proxy.internal' })).toThrow(/TRUSTED_PROXIES .*"proxy.internal"/)
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'https://app.example.com/path' })).toThrow(/ALLOWED_ORIGINS/)
    expect(() => loadConfig({ ALLOWED_ORIGINS: 'app.example.com' })).toThrow(ConfigError)
  })

  it('fails with a message naming the variable', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT/],
      [{ AUTH_SECRET: 'short' }, /AUTH_SECRET.*32/],
      [{ AUTH_COOKIE_SECURE: 'yes' }, /AUTH_COOKIE_SECURE/],
      [{ LDAP_URL: 'http://ldap.example' }, /LDAP_URL/],
      [{ LDAP_URL: 'ldap://ldap.example' }, /LDAP_SEARCH_BASE/],
      [{ LDAP_URL: 'ldap://ldap.example', LDAP_SEARCH_BASE: 'dc=x', LDAP_BIND_DN: 'cn=a' }, /LDAP_BIND_PASSWORD/],
      [{ LDAP_URL: 'ldap://ldap.example', LDAP_SEARCH_BASE: 'dc=x', LDAP_SEARCH_FILTER: '(uid=*)' }, /\{username\}/],
      [{ LDAP_URL: 'ldap://ldap.example', LDAP_SEARCH_BASE: 'dc=x', LDAP_CA_FILE: '/nonexistent/ca.pem' }, /LDAP_CA_FILE.*ENOENT/],
      [{ LDAP_SEARCH_BASE: 'dc=x' }, /LDAP_URL/],
    ]
    for (const [env, message] of cases) {
      expect(() => loadConfig(env)).toThrow(ConfigError)
      expect(() => loadConfig(env)).toThrow(message)
    }
    expect(() => parseGroupRoles('admins')).toThrow(/group=Role/)
  })
})

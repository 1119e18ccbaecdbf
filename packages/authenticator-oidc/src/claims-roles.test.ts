import { describe, expect, test } from 'vitest'
import { mapRoles, providerRoles, scopesOf } from './claims-roles.js'
import { resolveOIDCOptions } from './oidc-options.js'

const roles = (extra: object = {}) =>
  resolveOIDCOptions({ issuer: 'https://sso.example.org/realms/acme', clientId: 'notes', roles: { map: { admin: 'Administrator', editor: 'Editor', '/staff': 'Staff' }, ...extra } }).roles

const claims = {
  realm_access: { roles: ['admin', 'offline_access'] },
  resource_access: { notes: { roles: ['editor'] }, billing: { roles: ['admin', 'superuser'] } },
  groups: ['/staff'],
}

describe('roles from claims', () => {
  test('realm roles and this client only; never another client', () => {
    expect(providerRoles(claims, roles())).toEqual(['admin', 'offline_access', 'editor'])
    expect(mapRoles(providerRoles(claims, roles()), roles())).toEqual(['Administrator', 'Editor'])
    // "admin" granted only on billing maps to nothing here:
    const billingOnly = { realm_access: { roles: [] }, resource_access: { billing: { roles: ['admin'] } } }
    expect(mapRoles(providerRoles(billingOnly, roles()), roles())).toEqual([])
  })

  test('groups only when asked; unmapped dropped unless kept; default roles', () => {
    expect(mapRoles(providerRoles(claims, roles({ groups: true })), roles())).toContain('Staff')
    expect(mapRoles(providerRoles(claims, roles()), roles())).not.toContain('Staff')
    expect(mapRoles(['admin', 'offline_access'], roles({ keepUnmapped: true }))).toEqual(['Administrator', 'offline_access'])
    expect(mapRoles([], roles({ defaultRoles: ['Viewer'] }))).toEqual(['Viewer'])
  })

  test('clientRolesFrom overrides, false reads none; realmRoles false', () => {
    expect(providerRoles(claims, roles({ clientRolesFrom: 'billing' }))).toEqual(['admin', 'offline_access', 'superuser'])
    expect(providerRoles(claims, roles({ clientRolesFrom: false }))).toEqual(['admin', 'offline_access'])
    expect(providerRoles(claims, roles({ realmRoles: false }))).toEqual(['editor'])
  })

  test('__proto__ and constructor grant nothing', () => {
    const hostile = JSON.parse('{"realm_access":{"roles":["__proto__","constructor","prototype"]},"resource_access":{"__proto__":{"roles":["admin"]},"notes":{"roles":["constructor"]}}}')
    expect(providerRoles(hostile, roles())).toEqual([])
    expect(mapRoles(['__proto__', 'constructor', 'toString'], roles())).toEqual([])
    expect(mapRoles(['__proto__', 'constructor'], roles({ keepUnmapped: true }))).toEqual([])
    const viaProto = JSON.parse('{"__proto__":{"realm_access":{"roles":["admin"]}}}')
    expect(providerRoles(viaProto, roles())).toEqual([])
    expect(providerRoles(claims, roles({ clientRolesFrom: '__proto__' }))).toEqual(['admin', 'offline_access'])
  })

  test('missing or mistyped claims: no roles, no throw', () => {
    for (const bad of [
      {},
      { realm_access: 'admin' },
      { realm_access: { roles: 'admin' } },
      { realm_access: null },
      { realm_access: ['admin'] },
      { resource_access: [] },
      { resource_access: { notes: 'editor' } },
      { resource_access: { notes: { roles: [1, null, {}, ''] } } },
      { groups: '/staff' },
    ]) {
      expect(mapRoles(providerRoles(bad, roles({ groups: true })), roles()), JSON.stringify(bad)).toEqual([])
    }
  })

  test('scopes', () => {
    expect(scopesOf({ scope: 'openid api:read  api:write' })).toEqual(['openid', 'api:read', 'api:write'])
    expect(scopesOf({ scp: ['a', 'b', 3] })).toEqual(['a', 'b'])
    expect(scopesOf({ scope: 42 })).toEqual([])
    expect(scopesOf({})).toEqual([])
  })
})

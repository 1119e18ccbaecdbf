import { describe, expect, test } from 'vitest'
import { OIDCAuthenticator } from './oidc-authenticator.js'
import type { OIDCAuthenticatorOptions } from './oidc-options.js'
import { isLoopbackHost, keycloak, resolveOIDCOptions } from './oidc-options.js'

const base: OIDCAuthenticatorOptions = { issuer: 'https://sso.example.org/realms/acme', clientId: 'notes' }
const invalid = (options: unknown) => () => new OIDCAuthenticator(options as OIDCAuthenticatorOptions)

describe('options', () => {
  test('defaults', () => {
    const resolved = resolveOIDCOptions(base)
    expect(resolved).toMatchObject({
      id: 'oidc',
      audiences: ['notes'],
      algorithms: ['RS256', 'PS256', 'ES256'],
      clockToleranceSeconds: 30,
      routesPath: 'oidc',
      passwordGrant: false,
      introspection: null,
      browserLogin: null,
      allowInsecureRequests: false,
    })
    expect(resolved.roles.clientRolesFrom).toBe('notes')
    expect(resolveOIDCOptions({ ...base, id: 'corp' }).routesPath).toBe('oidc/corp')
    expect(resolveOIDCOptions({ ...base, audience: ['api', 'notes'] }).roles.clientRolesFrom).toBe('api')
  })

  test('plain http only on loopback', () => {
    for (const issuer of ['http://127.0.0.1:8080/realms/x', 'http://127.9.9.9/realms/x', 'http://localhost:8080', 'http://[::1]:8080/realms/x']) {
      expect(resolveOIDCOptions({ ...base, issuer }).allowInsecureRequests, issuer).toBe(true)
    }
    for (const issuer of ['http://sso.example.org/realms/x', 'http://10.0.0.1/realms/x', 'http://128.0.0.1/', 'http://localhost.example.org/', 'ftp://sso.example.org']) {
      expect(invalid({ ...base, issuer }), issuer).toThrow(/issuer: must be (an )?https/)
    }
    expect(invalid({ ...base, endpoints: { jwksUri: 'http://keys.example.org/certs' } })).toThrow(/endpoints.jwksUri: must be https/)
    expect(invalid({ ...base, browserLogin: { redirectUri: 'http://app.example.org/cb', secret: 'x'.repeat(32) }, clientSecret: 's' })).toThrow(/browserLogin.redirectUri/)
  })

  test('loopback hosts', () => {
    expect(['127.0.0.1', '127.255.0.1', '::1', '[::1]', 'localhost', 'LOCALHOST'].every(isLoopbackHost)).toBe(true)
    expect(['128.0.0.1', '10.0.0.1', '::2', 'localhost.evil', '0.0.0.0'].some(isLoopbackHost)).toBe(false)
  })

  test('a clear TypeError naming every problem, never echoing the secret', () => {
    const options = { issuer: 'not a url', clientId: '', clientSecret: 'super-secret-value', algorithms: ['HS256'], clockToleranceSeconds: 3600, roles: { mapping: {} } }
    let error: unknown
    try {
      new OIDCAuthenticator(options as never)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(TypeError)
    const message = (error as Error).message
    expect(message).toMatch(/^OIDCAuthenticator: invalid options: /)
    for (const part of ['issuer', 'clientId', 'algorithms.0', 'clockToleranceSeconds', 'roles']) expect(message).toContain(part)
    expect(message).not.toContain('super-secret-value')
  })

  test('alg none and HS* cannot be allowed', () => {
    for (const alg of ['none', 'HS256', 'HS512']) expect(invalid({ ...base, algorithms: [alg] }), alg).toThrow(TypeError)
  })

  test('features that call the token endpoint need the client secret', () => {
    expect(invalid({ ...base, introspection: true })).toThrow(/introspection: needs clientSecret/)
    expect(invalid({ ...base, passwordGrant: true })).toThrow(/passwordGrant: needs clientSecret/)
    expect(invalid({ ...base, browserLogin: { redirectUri: 'https://app.example.org/auth/oidc/callback', secret: 'x'.repeat(32) } })).toThrow(/browserLogin: needs clientSecret/)
    expect(invalid({ ...base, clientSecret: 's', browserLogin: { redirectUri: 'https://app.example.org/cb', secret: 'short' } })).toThrow(/browserLogin.secret/)
    expect(invalid({ ...base, clientSecret: 's', passwordGrant: true, endpoints: { jwksUri: 'https://sso.example.org/certs' } })).toThrow(/passwordGrant needs tokenEndpoint/)
  })

  test('ids and routes paths', () => {
    expect(invalid({ ...base, id: 'has space' })).toThrow(/id:/)
    expect(invalid({ ...base, routesPath: '/oidc' })).toThrow(/routesPath/)
    expect(invalid({ ...base, routesPath: '../x' })).toThrow(/routesPath/)
  })

  test('role map keys such as __proto__ are plain keys', () => {
    const resolved = resolveOIDCOptions({ ...base, roles: JSON.parse('{"map":{"__proto__":"Administrator","admin":["Administrator","Editor"]}}') })
    expect(resolved.roles.map.get('admin')).toEqual(['Administrator', 'Editor'])
    expect(resolved.roles.map.get('constructor')).toBeUndefined()
  })
})

describe('keycloak preset', () => {
  test('issuer from server URL and realm; name Keycloak', () => {
    const options = keycloak({ serverUrl: 'https://sso.example.org/', realm: 'acme', clientId: 'notes', clientSecret: 's' })
    expect(options).toMatchObject({ issuer: 'https://sso.example.org/realms/acme', clientId: 'notes', clientSecret: 's', name: 'Keycloak' })
    expect(keycloak({ serverUrl: 'https://sso.example.org/auth', realm: 'acme', clientId: 'notes' }).issuer).toBe('https://sso.example.org/auth/realms/acme')
    expect(new OIDCAuthenticator(options).id).toBe('oidc')
  })

  test('refuses a bad server URL or realm', () => {
    expect(() => keycloak({ serverUrl: 'sso.example.org', realm: 'acme', clientId: 'notes' })).toThrow(/keycloak: invalid options: serverUrl/)
    expect(() => keycloak({ serverUrl: 'http://sso.example.org', realm: 'acme', clientId: 'notes' })).toThrow(/must be https/)
    expect(() => keycloak({ serverUrl: 'https://sso.example.org', realm: 'a/b', clientId: 'notes' })).toThrow(/realm/)
  })
})

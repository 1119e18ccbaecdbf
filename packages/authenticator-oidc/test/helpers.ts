import type { OIDCTestServer, StartOIDCProviderOptions } from '@gatehouse/testkit'
import { startOIDCProvider } from '@gatehouse/testkit'
import type { JWK, JWTPayload } from 'jose'
import { SignJWT, importJWK } from 'jose'
import type { OIDCAuthenticatorOptions } from '../src/index.js'
import { OIDCAuthenticator } from '../src/index.js'

export const ROLE_MAP = { admin: 'Administrator', user: 'Viewer', editor: 'Editor', superuser: 'Superuser', '/staff': 'Staff' }

/** A provider for this test file (stopped with the returned function). */
export async function provider(options: StartOIDCProviderOptions = {}): Promise<OIDCTestServer> {
  return startOIDCProvider(options)
}

/** An authenticator for the test provider's `gatehouse` client. */
export function authenticatorFor(server: OIDCTestServer, options: Partial<OIDCAuthenticatorOptions> = {}): OIDCAuthenticator {
  return new OIDCAuthenticator({
    issuer: server.issuer,
    clientId: server.clients.gatehouse.clientId,
    clientSecret: server.clients.gatehouse.clientSecret,
    roles: { map: ROLE_MAP },
    timeoutMs: 2000,
    ...options,
  })
}

/** A request carrying `Authorization: Bearer <token>`. */
export function bearer(token: string): { request: Request } {
  return { request: new Request('http://app.test/api', { headers: { authorization: `Bearer ${token}` } }) }
}

/** Claims of a valid access token of the test provider for alice. */
export function accessClaims(server: OIDCTestServer, overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000)
  const alice = server.users.alice
  return {
    iss: server.issuer,
    aud: 'gatehouse',
    sub: alice.sub,
    typ: 'Bearer',
    azp: 'gatehouse',
    iat: now,
    exp: now + 300,
    jti: crypto.randomUUID(),
    scope: 'api:read',
    preferred_username: alice.username,
    realm_access: { roles: alice.realmRoles },
    resource_access: { gatehouse: { roles: alice.clientRoles.gatehouse }, 'other-app': { roles: alice.clientRoles['other-app'] } },
    ...overrides,
  }
}

/** Signs claims with a private JWK (by default the provider's real signing key and kid). */
export async function sign(claims: JWTPayload, key: JWK, header: Record<string, unknown> = {}): Promise<string> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = key
  void rest
  const alg = (header.alg as string | undefined) ?? 'RS256'
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'at+jwt', kid: key.kid, ...header }).sign(await importJWK(key, alg))
}

/** Removes undefined members (a header without kid). */
export function without<T extends Record<string, unknown>>(object: T, ...keys: string[]): T {
  const copy = { ...object }
  for (const key of keys) delete copy[key]
  return copy
}

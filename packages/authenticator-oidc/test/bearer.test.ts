import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { accessClaims, authenticatorFor, bearer, provider, sign, without } from './helpers.js'

let server: OIDCTestServer
beforeAll(async () => {
  server = await provider()
})
afterAll(() => server.stop())

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function foreignKey(kid = crypto.randomUUID()) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  return { privateKey, publicJWK: { ...(await exportJWK(publicKey)), kid, alg: 'RS256' } }
}

describe('valid tokens', () => {
  test('a real access token authenticates alice with mapped roles and its scopes', async () => {
    const oidc = authenticatorFor(server)
    const { access_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password })
    const result = await oidc.identify(bearer(access_token))
    expect(result).toMatchObject({ outcome: 'authenticated', scopes: ['api:read'], user: { id: server.users.alice.sub, source: 'oidc', username: 'alice' } })
    if (result.outcome !== 'authenticated') throw new Error('not authenticated')
    expect([...result.user.roles].sort()).toEqual(['Administrator', 'Editor'])
  })

  test('a token signed with the real key and kid passes; the configured id is the source', async () => {
    const oidc = authenticatorFor(server, { id: 'keycloak' })
    const result = await oidc.identify(bearer(await sign(accessClaims(server), server.signingKey)))
    expect(result).toMatchObject({ outcome: 'authenticated', user: { source: 'keycloak', id: server.users.alice.sub } })
  })

  test('the same sub from two providers gives two principals', async () => {
    const other = await provider({ realm: 'other' })
    try {
      const a = authenticatorFor(server, { id: 'corp' })
      const b = authenticatorFor(other, { id: 'partner' })
      const tokenA = await sign(accessClaims(server), server.signingKey)
      const tokenB = await sign(accessClaims(other), other.signingKey)
      // Each provider skips the other's tokens (unverified iss), so both can sit in one chain.
      expect(await a.identify(bearer(tokenB))).toEqual({ outcome: 'skipped' })
      expect(await b.identify(bearer(tokenA))).toEqual({ outcome: 'skipped' })
      const [ra, rb] = [await a.identify(bearer(tokenA)), await b.identify(bearer(tokenB))]
      if (ra.outcome !== 'authenticated' || rb.outcome !== 'authenticated') throw new Error('not authenticated')
      expect(ra.user.id).toBe(rb.user.id)
      expect(ra.user.source).not.toBe(rb.user.source)
    } finally {
      await other.stop()
    }
  })
})

describe('what is not a bearer token here', () => {
  test('no Authorization header, another scheme, or a token in the query string or body: skipped', async () => {
    const oidc = authenticatorFor(server)
    const token = await sign(accessClaims(server), server.signingKey)
    expect(await oidc.identify({ request: new Request('http://app.test/api') })).toEqual({ outcome: 'skipped' })
    expect(await oidc.identify({ request: new Request('http://app.test/api', { headers: { authorization: 'Basic YWxpY2U6eA==' } }) })).toEqual({ outcome: 'skipped' })
    expect(await oidc.identify({ request: new Request(`http://app.test/api?access_token=${token}`) })).toEqual({ outcome: 'skipped' })
    const form = new Request('http://app.test/api', { method: 'POST', body: new URLSearchParams({ access_token: token }) })
    expect(await oidc.identify({ request: form })).toEqual({ outcome: 'skipped' })
  })

  test('a malformed bearer value is rejected', async () => {
    const oidc = authenticatorFor(server)
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer ä', `Bearer ${'a'.repeat(20_000)}`, 'Bearer not.a.jwt']) {
      const request = new Request('http://app.test/api', { headers: { authorization: value } })
      expect(await oidc.identify({ request }), value.slice(0, 20)).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    }
  })
})

describe('forged and misused tokens are rejected', () => {
  const REJECTED = { outcome: 'rejected', reason: 'invalid-credentials' }

  test('alg none', async () => {
    const oidc = authenticatorFor(server)
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: server.signingKey.kid })}.${b64(accessClaims(server))}.`
    expect(await oidc.identify(bearer(token))).toEqual(REJECTED)
  })

  test('HS256 keyed with the provider public key', async () => {
    const oidc = authenticatorFor(server)
    const publicKey = await importJWK(without(server.signingKey, 'd', 'p', 'q', 'dp', 'dq', 'qi'), 'RS256')
    const pem = await exportSPKI(publicKey as Parameters<typeof exportSPKI>[0])
    for (const secret of [new TextEncoder().encode(pem), new TextEncoder().encode(JSON.stringify(without(server.signingKey, 'd', 'p', 'q', 'dp', 'dq', 'qi')))]) {
      const token = await new SignJWT(accessClaims(server)).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: server.signingKey.kid }).sign(secret)
      expect(await oidc.identify(bearer(token))).toEqual(REJECTED)
    }
  })

  test('a foreign key with the real kid', async () => {
    const oidc = authenticatorFor(server)
    const { privateKey } = await foreignKey()
    const token = await new SignJWT(accessClaims(server)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: server.signingKey.kid }).sign(privateKey)
    expect(await oidc.identify(bearer(token))).toEqual(REJECTED)
  })

  test('no kid, even with the real key', async () => {
    const oidc = authenticatorFor(server)
    const real = await new SignJWT(accessClaims(server)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(await importJWK(server.signingKey, 'RS256'))
    expect(await oidc.identify(bearer(real))).toEqual(REJECTED)
    const { privateKey } = await foreignKey()
    const foreign = await new SignJWT(accessClaims(server)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' }).sign(privateKey)
    expect(await oidc.identify(bearer(foreign))).toEqual(REJECTED)
  })

  test('embedded jwk, jku, x5u and x5c headers are ignored: the jku listener sees no request', async () => {
    let hits = 0
    const { privateKey, publicJWK } = await foreignKey()
    const listener = createServer((_req, res) => {
      hits++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ keys: [publicJWK] }))
    })
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/jwks`
    try {
      const oidc = authenticatorFor(server)
      for (const header of [{ jwk: publicJWK }, { jku: url }, { x5u: url }, { x5c: ['MIIBAA=='] }]) {
        const token = await new SignJWT(accessClaims(server)).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: publicJWK.kid, ...header }).sign(privateKey)
        expect(await oidc.identify(bearer(token)), Object.keys(header)[0]).toEqual(REJECTED)
      }
      expect(hits).toBe(0)
    } finally {
      await new Promise((resolve) => listener.close(resolve))
    }
  })

  test('an algorithm outside the allow-list, even signed with the real key', async () => {
    const oidc = authenticatorFor(server)
    const token = await sign(accessClaims(server), server.signingKey, { alg: 'RS384' })
    expect(await oidc.identify(bearer(token))).toEqual(REJECTED)
    // A real RS256 token when the allow-list does not name RS256:
    const esOnly = authenticatorFor(server, { algorithms: ['ES256'] })
    expect(await esOnly.identify(bearer(await sign(accessClaims(server), server.signingKey)))).toEqual(REJECTED)
    expect((await authenticatorFor(server).identify(bearer(await sign(accessClaims(server), server.signingKey)))).outcome).toBe('authenticated')
  })

  test('another issuer, or none: skipped (not this provider), never authenticated', async () => {
    const oidc = authenticatorFor(server)
    for (const iss of [`${server.issuer}/`, 'http://127.0.0.1:1/realms/gatehouse', undefined]) {
      const token = await sign(accessClaims(server, { iss }), server.signingKey)
      expect(await oidc.identify(bearer(token)), String(iss)).toEqual({ outcome: 'skipped' })
    }
  })

  test('wrong or missing aud; a real token of another resource server', async () => {
    const oidc = authenticatorFor(server)
    for (const aud of ['other-app', ['other-app', 'account'], undefined, '']) {
      const token = await sign(accessClaims(server, { aud }), server.signingKey)
      expect(await oidc.identify(bearer(token)), JSON.stringify(aud)).toEqual(REJECTED)
    }
    const other = await server.passwordGrant({ username: 'alice', password: server.users.alice.password, resource: server.otherResource })
    expect(await oidc.identify(bearer(other.access_token))).toEqual(REJECTED)
    // The same token for a resource server configured with that audience:
    expect((await authenticatorFor(server, { audience: 'other-app' }).identify(bearer(other.access_token))).outcome).toBe('authenticated')
  })

  test('expired beyond the clock tolerance; within it still valid', async () => {
    const oidc = authenticatorFor(server, { clockToleranceSeconds: 30 })
    const now = Math.floor(Date.now() / 1000)
    expect(await oidc.identify(bearer(await sign(accessClaims(server, { iat: now - 400, exp: now - 60 }), server.signingKey)))).toEqual(REJECTED)
    expect((await oidc.identify(bearer(await sign(accessClaims(server, { iat: now - 400, exp: now - 10 }), server.signingKey)))).outcome).toBe('authenticated')
    const strict = authenticatorFor(server, { clockToleranceSeconds: 0 })
    expect(await strict.identify(bearer(await sign(accessClaims(server, { iat: now - 400, exp: now - 10 }), server.signingKey)))).toEqual(REJECTED)
  })

  test('nbf beyond the clock tolerance', async () => {
    const oidc = authenticatorFor(server, { clockToleranceSeconds: 30 })
    const now = Math.floor(Date.now() / 1000)
    expect(await oidc.identify(bearer(await sign(accessClaims(server, { nbf: now + 120 }), server.signingKey)))).toEqual(REJECTED)
    expect((await oidc.identify(bearer(await sign(accessClaims(server, { nbf: now + 10 }), server.signingKey)))).outcome).toBe('authenticated')
  })

  test('no exp, no sub', async () => {
    const oidc = authenticatorFor(server)
    expect(await oidc.identify(bearer(await sign(without(accessClaims(server), 'exp'), server.signingKey)))).toEqual(REJECTED)
    expect(await oidc.identify(bearer(await sign(without(accessClaims(server), 'sub'), server.signingKey)))).toEqual(REJECTED)
  })

  test('the real ID token (same issuer, key and audience)', async () => {
    const oidc = authenticatorFor(server)
    const { id_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password, scope: 'openid profile api:read' })
    expect(id_token).toBeDefined()
    expect(await oidc.identify(bearer(id_token!))).toEqual(REJECTED)
  })

  test('refresh tokens: the real (opaque) one, and a Keycloak-style JWT with typ Refresh', async () => {
    const oidc = authenticatorFor(server)
    const { refresh_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password })
    expect(await oidc.identify(bearer(refresh_token!))).toEqual(REJECTED)
    for (const typ of ['Refresh', 'Offline', 'ID', 'Logout']) {
      expect(await oidc.identify(bearer(await sign(accessClaims(server, { typ }), server.signingKey))), typ).toEqual(REJECTED)
    }
  })

  test('a logout token, or a token with neither typ claim nor at+jwt header', async () => {
    const oidc = authenticatorFor(server)
    const events = { 'http://schemas.openid.net/event/backchannel-logout': {} }
    expect(await oidc.identify(bearer(await sign(accessClaims(server, { events }), server.signingKey, { typ: 'logout+jwt' })))).toEqual(REJECTED)
    expect(await oidc.identify(bearer(await sign(accessClaims(server, { typ: undefined }), server.signingKey, { typ: 'JWT' })))).toEqual(REJECTED)
    // The header alone (RFC 9068) is enough without a typ claim, and the claim alone without the header.
    expect((await oidc.identify(bearer(await sign(accessClaims(server, { typ: undefined }), server.signingKey)))).outcome).toBe('authenticated')
    expect((await oidc.identify(bearer(await sign(accessClaims(server), server.signingKey, { typ: 'JWT' })))).outcome).toBe('authenticated')
    // Configurable: only RFC 9068 tokens.
    const rfc = authenticatorFor(server, { accessTokenTypes: { claim: [] } })
    expect(await rfc.identify(bearer(await sign(accessClaims(server), server.signingKey, { typ: 'JWT' })))).toEqual(REJECTED)
  })

  test('a tampered payload', async () => {
    const oidc = authenticatorFor(server)
    const [header, , signature] = (await sign(accessClaims(server), server.signingKey)).split('.')
    const token = `${header}.${b64(accessClaims(server, { realm_access: { roles: ['admin', 'superuser'] } }))}.${signature}`
    expect(await oidc.identify(bearer(token))).toEqual(REJECTED)
  })
})

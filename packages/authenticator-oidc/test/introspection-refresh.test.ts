import { AuthenticatorUnavailableError } from '@gatehouse/core'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { authenticatorFor, bearer, provider } from './helpers.js'

let server: OIDCTestServer
beforeAll(async () => {
  server = await provider()
})
afterAll(() => server.stop())

const INTROSPECT = '/protocol/openid-connect/token/introspect'
const REJECTED = { outcome: 'rejected', reason: 'invalid-credentials' }

describe('introspection of opaque tokens', () => {
  test('an opaque token is introspected: user, roles, scopes; the answer is cached', async () => {
    const oidc = authenticatorFor(server, { introspection: true })
    const { access_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password, opaque: true })
    expect(access_token.split('.')).toHaveLength(1)
    const before = server.count(INTROSPECT)
    const result = await oidc.identify(bearer(access_token))
    expect(result).toMatchObject({ outcome: 'authenticated', user: { id: server.users.alice.sub, username: 'alice', source: 'oidc' } })
    if (result.outcome !== 'authenticated') throw new Error('not authenticated')
    expect([...result.user.roles].sort()).toEqual(['Administrator', 'Editor'])
    await oidc.identify(bearer(access_token))
    expect(server.count(INTROSPECT) - before).toBe(1)
  })

  test('without the option an opaque token is refused without asking the provider', async () => {
    const oidc = authenticatorFor(server)
    const { access_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password, opaque: true })
    const before = server.count(INTROSPECT)
    expect(await oidc.identify(bearer(access_token))).toEqual(REJECTED)
    expect(server.count(INTROSPECT)).toBe(before)
  })

  test('inactive, unknown and refresh tokens are refused; another client’s token without aud too', async () => {
    const oidc = authenticatorFor(server, { introspection: true })
    const { refresh_token } = await server.passwordGrant({ username: 'bob', password: server.users.bob.password, opaque: true })
    expect(await oidc.identify(bearer('definitely-not-a-token'))).toEqual(REJECTED)
    expect(await oidc.identify(bearer(refresh_token!))).toEqual(REJECTED)
    const foreign = await server.passwordGrant({ username: 'bob', password: server.users.bob.password, client: server.clients.opaque })
    expect(await oidc.identify(bearer(foreign.access_token))).toEqual(REJECTED)
  })

  test('the cache never outlives the token; the provider down is unavailable, not refused', async () => {
    const own = await provider({ accessTokenTTL: 1 })
    try {
      const oidc = authenticatorFor(own, { introspection: { cacheSeconds: 60 }, timeoutMs: 1000 })
      const { access_token } = await own.passwordGrant({ username: 'alice', password: own.users.alice.password, opaque: true })
      expect((await oidc.identify(bearer(access_token))).outcome).toBe('authenticated')
      await own.halt()
      // Cached while valid, even with the provider down:
      expect((await oidc.identify(bearer(access_token))).outcome).toBe('authenticated')
      await new Promise((resolve) => setTimeout(resolve, 1200))
      // Expired: the cached answer is not used; the provider cannot be asked ⇒ 503-class.
      await expect(oidc.identify(bearer(access_token))).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
    } finally {
      await own.stop()
    }
  })
})

describe('refresh', () => {
  test('a refresh token gives a new access token that verifies', async () => {
    const oidc = authenticatorFor(server)
    const first = await server.passwordGrant({ username: 'alice', password: server.users.alice.password })
    const tokens = await oidc.refresh(first.refresh_token!)
    expect(tokens).not.toBeNull()
    expect(tokens!.accessToken).not.toBe(first.access_token)
    expect(tokens!.expiresAt!.getTime()).toBeGreaterThan(Date.now())
    expect(await oidc.identify(bearer(tokens!.accessToken))).toMatchObject({ outcome: 'authenticated', user: { username: 'alice' } })
  })

  test('an unknown refresh token is null; the provider down throws unavailable', async () => {
    const own = await provider()
    try {
      const oidc = authenticatorFor(own, { timeoutMs: 1000 })
      expect(await oidc.refresh('not-a-refresh-token')).toBeNull()
      const { refresh_token } = await own.passwordGrant({ username: 'bob', password: own.users.bob.password })
      await own.halt()
      await expect(oidc.refresh(refresh_token!)).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
    } finally {
      await own.stop()
    }
  })
})

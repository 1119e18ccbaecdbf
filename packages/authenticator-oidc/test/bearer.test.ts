import type { OIDCTestServer } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { accessClaims, authenticatorFor, bearer, provider, sign } from './helpers.js'

let server: OIDCTestServer
beforeAll(async () => {
  server = await provider()
})
afterAll(() => server.stop())

describe('bearer tokens from the provider', () => {
  test('a real access token authenticates alice with mapped roles and scopes', async () => {
    const oidc = authenticatorFor(server)
    const { access_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password })
    const result = await oidc.identify(bearer(access_token))
    expect(result).toMatchObject({ outcome: 'authenticated', scopes: ['api:read'], user: { id: server.users.alice.sub, source: 'oidc', username: 'alice' } })
    if (result.outcome !== 'authenticated') throw new Error()
    expect([...result.user.roles].sort()).toEqual(['Administrator', 'Editor'])
  })

  test('forged with the real key', async () => {
    const oidc = authenticatorFor(server)
    const token = await sign(accessClaims(server), server.signingKey)
    expect((await oidc.identify(bearer(token))).outcome).toBe('authenticated')
  })
})

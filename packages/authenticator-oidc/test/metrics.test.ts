import type { AuthMetrics } from '@gatehouse/core'
import { NOOP_LOGGER, NOOP_METRICS } from '@gatehouse/core'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { authenticatorFor, bearer, provider } from './helpers.js'

let server: OIDCTestServer
beforeAll(async () => {
  server = await provider()
})
afterAll(() => server.stop())

function recordingMetrics() {
  const tokens: Array<Parameters<AuthMetrics['tokenValidation']>[0]> = []
  const fetches: Array<Parameters<AuthMetrics['providerFetch']>[0]> = []
  const metrics: AuthMetrics = { ...NOOP_METRICS, tokenValidation: (args) => void tokens.push(args), providerFetch: (args) => void fetches.push(args) }
  return { tokens, fetches, metrics }
}

describe('OIDC metrics through attach()', () => {
  test('token validations: valid uncached, then cached; refused; with latency', async () => {
    const { tokens, fetches, metrics } = recordingMetrics()
    const oidc = authenticatorFor(server)
    oidc.attach({ logger: NOOP_LOGGER, metrics })
    const { access_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password })
    expect((await oidc.identify(bearer(access_token))).outcome).toBe('authenticated')
    expect((await oidc.identify(bearer(access_token))).outcome).toBe('authenticated')
    const [header, payload] = access_token.split('.')
    expect((await oidc.identify(bearer(`${header}.${payload}.AAAA`))).outcome).toBe('rejected')
    expect(tokens.map(({ outcome, cached }) => [outcome, cached])).toEqual([
      ['valid', false],
      ['valid', true],
      ['invalid', false],
    ])
    expect(tokens.every((t) => t.authenticator === 'oidc' && t.seconds >= 0 && t.seconds < 5)).toBe(true)
    // The first token needed discovery and the key set, once each.
    expect(fetches.map(({ endpoint, outcome }) => [endpoint, outcome])).toEqual([
      ['discovery', 'ok'],
      ['jwks', 'ok'],
    ])
  })

  test('introspection and token endpoint fetches are counted by endpoint', async () => {
    const { fetches, metrics } = recordingMetrics()
    const oidc = authenticatorFor(server, { introspection: true })
    oidc.attach({ logger: NOOP_LOGGER, metrics })
    const { access_token, refresh_token } = await server.passwordGrant({ username: 'alice', password: server.users.alice.password, opaque: true })
    expect((await oidc.identify(bearer(access_token))).outcome).toBe('authenticated')
    expect(await oidc.refresh(refresh_token!)).not.toBeNull()
    expect(await oidc.refresh('not-a-refresh-token')).toBeNull()
    expect(fetches.map(({ endpoint, outcome }) => [endpoint, outcome])).toEqual([
      ['discovery', 'ok'],
      ['introspection', 'ok'],
      ['token', 'ok'],
      // A refused refresh token is the provider's answer, not a failed fetch.
      ['token', 'ok'],
    ])
  })

  test('a provider that is down: discovery errors and the validation is unavailable', async () => {
    const { tokens, fetches, metrics } = recordingMetrics()
    const down = await provider()
    const oidc = authenticatorFor(down)
    oidc.attach({ logger: NOOP_LOGGER, metrics })
    const { access_token } = await down.passwordGrant({ username: 'alice', password: down.users.alice.password })
    await down.stop()
    await expect(oidc.identify(bearer(access_token))).rejects.toThrow()
    expect(fetches).toMatchObject([{ endpoint: 'discovery', outcome: 'error' }])
    expect(tokens).toMatchObject([{ outcome: 'unavailable', cached: false }])
  })
})

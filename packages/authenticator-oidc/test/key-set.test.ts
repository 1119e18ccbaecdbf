import type { Server } from 'node:http'
import { createServer } from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { AuthenticatorUnavailableError } from '@gatehouse/core'
import type { OIDCTestServer } from '@gatehouse/testkit'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { accessClaims, authenticatorFor, bearer, provider, sign } from './helpers.js'

const CERTS = '/protocol/openid-connect/certs'
let server: OIDCTestServer
beforeAll(async () => {
  server = await provider()
})
afterAll(() => server.stop())

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const http = createServer(handler)
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  return {
    url,
    server: http,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections()
        http.close(() => resolve())
      }),
  }
}

describe('the key set', () => {
  test('a key rotated in at the provider is picked up without a restart', async () => {
    const oidc = authenticatorFor(server, { keySet: { cooldownSeconds: 0.05 } })
    const before = await server.passwordGrant({ username: 'bob', password: server.users.bob.password })
    expect((await oidc.identify(bearer(before.access_token))).outcome).toBe('authenticated')
    await server.rotateKeys()
    await new Promise((resolve) => setTimeout(resolve, 60))
    const after = await server.passwordGrant({ username: 'bob', password: server.users.bob.password })
    expect(after.access_token).not.toBe(before.access_token)
    expect((await oidc.identify(bearer(after.access_token))).outcome).toBe('authenticated')
    expect(oidc.keySetFetches).toBe(2)
    // The old key retired at the provider: tokens signed with it fail once the set is reloaded.
    await server.rotateKeys({ dropOld: true })
  })

  test('an unknown-kid storm costs at most one fetch per cooldown (counted at the provider)', async () => {
    const oidc = authenticatorFor(server, { keySet: { cooldownSeconds: 60 } })
    expect((await oidc.identify(bearer(await sign(accessClaims(server), server.signingKey)))).outcome).toBe('authenticated')
    const base = server.count(CERTS)
    const forged = await Promise.all(Array.from({ length: 100 }, () => sign(accessClaims(server), { ...server.signingKey, kid: crypto.randomUUID() })))
    const results = await Promise.all(forged.map((token) => oidc.identify(bearer(token))))
    expect(results.every((result) => result.outcome === 'rejected')).toBe(true)
    const later = await Promise.all(forged.slice(0, 20).map((token) => oidc.identify(bearer(token.replace(/.$/, 'A')))))
    expect(later.every((result) => result.outcome === 'rejected')).toBe(true)
    expect(server.count(CERTS) - base).toBeLessThanOrEqual(1)
    expect(oidc.keySetFetches).toBeLessThanOrEqual(2)
  })

  test('provider down: tokens signed by cached keys still verify; an unknown kid fails closed as unavailable', async () => {
    const own = await provider()
    try {
      const oidc = authenticatorFor(own, { timeoutMs: 1000, keySet: { cooldownSeconds: 0.05 } })
      expect((await oidc.identify(bearer(await sign(accessClaims(own), own.signingKey)))).outcome).toBe('authenticated')
      await own.halt()
      // A new token (not in the verified-token cache) with the cached key:
      expect((await oidc.identify(bearer(await sign(accessClaims(own, { jti: 'fresh' }), own.signingKey)))).outcome).toBe('authenticated')
      await new Promise((resolve) => setTimeout(resolve, 60))
      const unknown = await sign(accessClaims(own), { ...own.signingKey, kid: 'rotated-while-down' })
      await expect(oidc.identify(bearer(unknown))).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
      await own.restart()
      await new Promise((resolve) => setTimeout(resolve, 60))
      expect(await oidc.identify(bearer(unknown))).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    } finally {
      await own.stop()
    }
  })

  test('cold start with the provider down fails closed (503-class) at once', async () => {
    const own = await provider()
    const oidc = authenticatorFor(own, { timeoutMs: 1000 })
    const token = await sign(accessClaims(own), own.signingKey)
    await own.stop()
    const started = Date.now()
    await expect(oidc.identify(bearer(token))).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
    expect(Date.now() - started).toBeLessThan(1500)
  })

  test('a provider that accepts connections and never answers: unavailable within the deadline', async () => {
    const sockets: net.Socket[] = []
    const hung = net.createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`
    try {
      for (const oidc of [authenticatorFor(server, { timeoutMs: 400, endpoints: { jwksUri: `${url}/certs` } }), authenticatorFor(server, { timeoutMs: 400, issuer: `${url}/realms/hung` })]) {
        const token = await sign(accessClaims(server, { iss: oidc.options.issuer }), server.signingKey)
        const started = Date.now()
        await expect(oidc.identify(bearer(token))).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
        const took = Date.now() - started
        expect(took).toBeGreaterThanOrEqual(350)
        expect(took).toBeLessThan(1200)
      }
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => hung.close(resolve))
    }
  })

  test('a discovery document naming a plain-http key set off loopback is refused, and nothing is fetched from it', async () => {
    let discovery: Awaited<ReturnType<typeof listen>> | undefined
    discovery = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ issuer: `${discovery!.url}/realms/x`, jwks_uri: 'http://keys.example.org/certs', token_endpoint: `${discovery!.url}/token` }))
    })
    try {
      const oidc = authenticatorFor(server, { issuer: `${discovery.url}/realms/x` })
      const token = await sign(accessClaims(server, { iss: `${discovery.url}/realms/x` }), server.signingKey)
      await expect(oidc.identify(bearer(token))).rejects.toThrow(/jwks_uri must be https/)
    } finally {
      await discovery.close()
    }
  })

  test('explicit endpoints instead of discovery', async () => {
    const oidc = authenticatorFor(server, { endpoints: { jwksUri: `${server.issuer}${CERTS}` } })
    const discovery = server.count('/.well-known/openid-configuration')
    expect((await oidc.identify(bearer(await sign(accessClaims(server), server.signingKey)))).outcome).toBe('authenticated')
    expect(server.count('/.well-known/openid-configuration')).toBe(discovery)
  })

  describe('answers that are refused (each would otherwise carry the real keys)', () => {
    let realKeys = ''
    beforeAll(async () => {
      realKeys = await (await fetch(`${server.issuer}${CERTS}`)).text()
    })
    const cases: Array<[string, (res: import('node:http').ServerResponse) => void]> = [
      [
        'HTML',
        (res) => {
          res.setHeader('content-type', 'text/html')
          res.end(realKeys)
        },
      ],
      [
        'no content type',
        (res) => {
          res.removeHeader('content-type')
          res.end(realKeys)
        },
      ],
      [
        'a redirect',
        (res) => {
          res.statusCode = 302
          res.setHeader('location', `${server.issuer}${CERTS}`)
          res.end()
        },
      ],
      [
        'huge (declared)',
        (res) => {
          res.setHeader('content-type', 'application/json')
          res.setHeader('content-length', String(10_000_000))
          res.write(realKeys)
          res.destroy()
        },
      ],
      [
        'huge (streamed)',
        (res) => {
          res.setHeader('content-type', 'application/json')
          const { keys } = JSON.parse(realKeys) as { keys: unknown[] }
          res.end(JSON.stringify({ keys: [...keys, ...Array.from({ length: 10 }, () => ({ kty: 'RSA', kid: 'padding', n: 'A'.repeat(60_000), e: 'AQAB' }))] }))
        },
      ],
      [
        'not a key set',
        (res) => {
          res.setHeader('content-type', 'application/json')
          res.end(JSON.stringify({ jwks: JSON.parse(realKeys) }))
        },
      ],
      [
        'an error status',
        (res) => {
          res.statusCode = 500
          res.setHeader('content-type', 'application/json')
          res.end(realKeys)
        },
      ],
    ]
    for (const [name, answer] of cases) {
      test(name, async () => {
        const bad = await listen((_req, res) => answer(res))
        try {
          const oidc = authenticatorFor(server, { endpoints: { jwksUri: `${bad.url}/certs` }, keySet: { maxBytes: 256 * 1024 } })
          await expect(oidc.identify(bearer(await sign(accessClaims(server), server.signingKey)))).rejects.toBeInstanceOf(AuthenticatorUnavailableError)
        } finally {
          await bad.close()
        }
      })
    }
    test('the same keys served plainly are accepted', async () => {
      const good = await listen((_req, res) => {
        res.setHeader('content-type', 'application/jwk-set+json')
        res.end(realKeys)
      })
      try {
        const oidc = authenticatorFor(server, { endpoints: { jwksUri: `${good.url}/certs` } })
        expect((await oidc.identify(bearer(await sign(accessClaims(server), server.signingKey)))).outcome).toBe('authenticated')
      } finally {
        await good.close()
      }
    })
  })

  test('a reload that fails keeps the last good key set', async () => {
    let mode: 'good' | 'html' = 'good'
    const proxy = await listen(async (_req, res) => {
      if (mode === 'html') {
        res.setHeader('content-type', 'text/html')
        res.end('<h1>maintenance</h1>')
        return
      }
      const real = await fetch(`${server.issuer}${CERTS}`)
      res.setHeader('content-type', 'application/json')
      res.end(await real.text())
    })
    try {
      const oidc = authenticatorFor(server, { endpoints: { jwksUri: `${proxy.url}/certs` }, keySet: { cooldownSeconds: 0.05, maxAgeSeconds: 0.05 } })
      expect((await oidc.identify(bearer(await sign(accessClaims(server), server.signingKey)))).outcome).toBe('authenticated')
      mode = 'html'
      await new Promise((resolve) => setTimeout(resolve, 100))
      // Stale: a reload is tried (and fails) while the cached keys keep answering.
      for (let i = 0; i < 3; i++) {
        expect((await oidc.identify(bearer(await sign(accessClaims(server, { jti: `t${i}` }), server.signingKey)))).outcome).toBe('authenticated')
        await new Promise((resolve) => setTimeout(resolve, 60))
      }
      expect(oidc.keySetFetches).toBeGreaterThanOrEqual(2)
    } finally {
      await proxy.close()
    }
  })
})

describe('the verified-token cache', () => {
  test('the same token is verified once', async () => {
    const oidc = authenticatorFor(server)
    const token = await sign(accessClaims(server), server.signingKey)
    for (let i = 0; i < 50; i++) expect((await oidc.identify(bearer(token))).outcome).toBe('authenticated')
    expect(oidc.signatureChecks).toBe(1)
  })

  test('never past exp', async () => {
    const oidc = authenticatorFor(server, { clockToleranceSeconds: 0 })
    // exp at least a second ahead, so that a busy machine still verifies it before it passes.
    const exp = Math.floor(Date.now() / 1000) + 2
    const token = await sign(accessClaims(server, { exp }), server.signingKey)
    expect((await oidc.identify(bearer(token))).outcome).toBe('authenticated')
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50))
    expect(await oidc.identify(bearer(token))).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    expect(oidc.signatureChecks).toBe(2)
  })

  test('bounded', async () => {
    const oidc = authenticatorFor(server, { maxCachedTokens: 3 })
    for (let i = 0; i < 10; i++) await oidc.identify(bearer(await sign(accessClaims(server), server.signingKey)))
    expect(oidc.cachedTokens).toBe(3)
  })

  test('refused tokens are not cached', async () => {
    const oidc = authenticatorFor(server)
    const token = await sign(accessClaims(server, { aud: 'other-app' }), server.signingKey)
    await oidc.identify(bearer(token))
    await oidc.identify(bearer(token))
    expect(oidc.cachedTokens).toBe(0)
    expect(oidc.signatureChecks).toBe(2)
  })
})

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryRevocationList, NOOP_LOGGER, Role, createAuth } from '@gatehouse/core'
import { describe, expect, test } from 'vitest'
import { authenticatorFor, provider } from './helpers.js'

describe('health', () => {
  test('discovery, JWKS and token endpoint answer; durations reported', async () => {
    const server = await provider()
    try {
      const health = await authenticatorFor(server).health()
      expect(health.ok).toBe(true)
      expect(health.checks.map((check) => check.name)).toEqual(['discovery', 'jwks', 'token endpoint'])
      for (const check of health.checks) {
        expect(check.ok).toBe(true)
        expect(check.durationMs).toBeGreaterThanOrEqual(0)
        expect(check.certificateExpiresAt).toBeUndefined()
      }
    } finally {
      await server.stop()
    }
  })

  test('core’s auth.health() reports it under the authenticator id', async () => {
    const server = await provider()
    try {
      const auth = createAuth({
        roles: [new Role({ name: 'Viewer' })],
        authenticators: [authenticatorFor(server, { id: 'corp' })],
        session: { secret: 'h'.repeat(40), secure: false },
        revocations: new MemoryRevocationList(),
        logger: NOOP_LOGGER,
      })
      const health = await auth.health()
      expect(health.ok).toBe(true)
      expect(health.authenticators.corp?.checks.map((check) => check.name)).toEqual(['discovery', 'jwks', 'token endpoint'])
    } finally {
      await server.stop()
    }
  })

  test('the provider down: not ok, with the reason, within the deadline, never a throw', async () => {
    const server = await provider()
    const oidc = authenticatorFor(server, { timeoutMs: 500 })
    await server.stop()
    const started = Date.now()
    const health = await oidc.health()
    expect(Date.now() - started).toBeLessThan(1500)
    expect(health.ok).toBe(false)
    expect(health.checks[0]).toMatchObject({ name: 'discovery', ok: false })
    expect(health.checks[0]!.error).toMatch(/cannot connect|unavailable/)
  })

  test('the JWKS down after discovery: that check fails', async () => {
    const server = await provider()
    const oidc = authenticatorFor(server, { timeoutMs: 500 })
    expect((await oidc.health()).ok).toBe(true)
    await server.halt()
    const health = await oidc.health()
    expect(health.ok).toBe(false)
    expect(health.checks.find((check) => check.name === 'jwks')).toMatchObject({ ok: false })
    await server.stop()
  })

  test('https endpoints: the TLS certificate expiry is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-oidc-tls-'))
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
          '-days',
          '3',
          '-subj',
          '/CN=127.0.0.1',
          '-addext',
          'subjectAltName=IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      )
      const https = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
        res.setHeader('content-type', 'application/json')
        res.end('{"keys":[]}')
      })
      await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve))
      const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}`
      try {
        const issuerServer = await provider()
        const oidc = authenticatorFor(issuerServer, { endpoints: { jwksUri: `${url}/certs`, tokenEndpoint: `${url}/token` }, timeoutMs: 1000 })
        const health = await oidc.health()
        const jwks = health.checks.find((check) => check.name === 'jwks')!
        // Not trusted (self-signed), so not ok, but its expiry is read all the same.
        expect(jwks.ok).toBe(false)
        const expires = new Date(jwks.certificateExpiresAt!).getTime()
        expect(Math.abs(expires - (Date.now() + 3 * 86_400_000))).toBeLessThan(3_600_000)
        await issuerServer.stop()
      } finally {
        https.closeAllConnections()
        await new Promise((resolve) => https.close(resolve))
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

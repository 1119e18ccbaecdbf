import * as net from 'node:net'
import type { AuthMetrics } from '@gatehouse/core'
import { NOOP_METRICS } from '@gatehouse/core'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { LDAPAuthenticatorOptions } from '../src/index.js'
import { LDAPAuthenticator } from '../src/index.js'
import { createChainApp, searchOptions } from './helpers.js'

const ldap = inject('ldap')
const alice = ldap.users.alice!

function recordingMetrics() {
  const binds: Array<Parameters<AuthMetrics['directoryBind']>[0]> = []
  return { binds, metrics: { ...NOOP_METRICS, directoryBind: (args) => void binds.push(args) } satisfies AuthMetrics }
}

describe('LDAP metrics and health', () => {
  const authenticators: LDAPAuthenticator[] = []
  afterAll(() => Promise.all(authenticators.map((a) => a.close())))
  const make = (overrides: Partial<LDAPAuthenticatorOptions> = {}) => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, overrides))
    authenticators.push(authenticator)
    return authenticator
  }

  it('reports each user bind through the metrics createAuth attaches: ok, refused, with its latency', async () => {
    const { binds, metrics } = recordingMetrics()
    const authenticator = make()
    const { postLogin } = await createChainApp(authenticator, { metrics })
    expect((await postLogin('alice', alice.password)).res.status).toBe(200)
    expect((await postLogin('alice', 'wrong')).res.status).toBe(401)
    expect(binds.map((b) => [b.authenticator, b.outcome])).toEqual([
      ['ldap', 'ok'],
      ['ldap', 'refused'],
    ])
    for (const bind of binds) expect(bind.seconds).toBeGreaterThan(0)
  })

  it('health: connect and the service bind with durations; the certificate expiry over LDAPS and StartTLS', async () => {
    const plain = await make().health()
    expect(plain.ok).toBe(true)
    expect(plain.checks.map((c) => [c.name, c.ok])).toEqual([
      ['connect', true],
      ['service bind', true],
    ])
    expect(plain.checks[0]!.certificateExpiresAt).toBeUndefined()
    for (const tls of [
      { url: ldap.ldapsUrl, tls: { ca: ldap.caPEM } },
      { url: ldap.url, tls: { ca: ldap.caPEM, startTLS: true } },
    ]) {
      const health = await make(tls).health()
      expect(health.ok).toBe(true)
      const expires = Date.parse(health.checks[0]!.certificateExpiresAt!)
      expect(expires).toBeGreaterThan(Date.now())
    }
  })

  it('health: a wrong service password fails the bind check, a dead port the connect check', async () => {
    const wrong = await make({ bindPassword: 'not-the-password' }).health()
    expect(wrong.ok).toBe(false)
    expect(wrong.checks.find((c) => c.name === 'service bind')).toMatchObject({ ok: false, error: expect.any(String) })

    const port = await closedPort()
    const down = await make({ url: `ldap://127.0.0.1:${port}` }).health()
    expect(down).toMatchObject({ ok: false, checks: [{ name: 'connect', ok: false, error: expect.any(String) }] })
  })

  it('health: a server that accepts TCP but never answers is cut at the deadline', async () => {
    const sockets: net.Socket[] = []
    const silent = net.createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const port = (silent.address() as net.AddressInfo).port
      const started = performance.now()
      const health = await make({ url: `ldap://127.0.0.1:${port}`, timeoutMs: 300, connectTimeoutMs: 300 }).health()
      expect(performance.now() - started).toBeLessThan(1500)
      expect(health.ok).toBe(false)
      expect(health.checks.at(-1)!.error).toMatch(/timed out/)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })
})

async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

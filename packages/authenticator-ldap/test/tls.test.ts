import { AuthenticatorUnavailableError } from '@gatehouse/core'
import { afterAll, describe, expect, inject, it } from 'vitest'
import type { LDAPAuthenticatorOptions } from '../src/index.js'
import { LDAPAuthenticator } from '../src/index.js'
import { login, recordingLogger, searchOptions } from './helpers.js'

const ldap = inject('ldap')
const alice = ldap.users.alice!

describe('LDAP over TLS', () => {
  const authenticators: LDAPAuthenticator[] = []
  afterAll(() => Promise.all(authenticators.map((a) => a.close())))
  const make = (overrides: Partial<LDAPAuthenticatorOptions>) => {
    const authenticator = new LDAPAuthenticator(searchOptions(ldap, overrides))
    authenticators.push(authenticator)
    return authenticator
  }
  const ldapsAt = (host: string) => ldap.ldapsUrl.replace('127.0.0.1', host)

  it.each([
    ['LDAPS', { url: ldap.ldapsUrl, tls: { ca: ldap.caPEM } }],
    ['LDAPS by host name', { url: ldapsAt('localhost'), tls: { ca: Buffer.from(ldap.caPEM) } }],
    ['StartTLS', { url: ldap.url, tls: { ca: ldap.caPEM, startTLS: true } }],
  ] as const)('logs in over %s with the custom CA', async (_, overrides) => {
    const authenticator = make(overrides)
    const result = await login(authenticator, 'alice', alice.password)
    expect(result.outcome).toBe('authenticated')
    expect(await login(authenticator, 'alice', 'wrong')).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
  })

  it.each([
    ['LDAPS without the CA (system store only)', { url: ldap.ldapsUrl }, /self-signed certificate/],
    ['LDAPS with another CA', { url: ldap.ldapsUrl, tls: { ca: ldap.otherCaPEM } }, /certificate/],
    ['StartTLS without the CA', { url: ldap.url, tls: { startTLS: true } }, /self-signed certificate/],
    ['StartTLS with another CA', { url: ldap.url, tls: { startTLS: true, ca: ldap.otherCaPEM } }, /certificate/],
  ] as const)('refuses %s: unavailable, never a plaintext fall-back', async (_, overrides, message) => {
    const authenticator = make(overrides)
    const error = await login(authenticator, 'alice', alice.password).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AuthenticatorUnavailableError)
    expect(String((error as Error).message)).toMatch(message)
    // Nothing was left open to retry in plaintext.
    expect(await login(authenticator, 'alice', alice.password).catch((e: unknown) => e)).toBeInstanceOf(AuthenticatorUnavailableError)
  })

  it('connects without verification only when told to, and says so in the log', async () => {
    const { lines, logger } = recordingLogger()
    const authenticator = make({ url: ldap.ldapsUrl, tls: { rejectUnauthorized: false }, logger })
    expect((await login(authenticator, 'alice', alice.password)).outcome).toBe('authenticated')
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/not verified/) }))
  })

  it('warns about plaintext LDAP to a remote host, not to loopback', () => {
    const remote = recordingLogger()
    make({ url: 'ldap://ldap.example.org', logger: remote.logger })
    expect(remote.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringMatching(/plaintext/) }))
    const local = recordingLogger()
    make({ url: ldap.url, logger: local.logger })
    expect(local.lines).toEqual([])
  })
})

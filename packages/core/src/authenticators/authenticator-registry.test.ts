import { describe, expect, it } from 'vitest'
import { AuthenticatorUnavailableError } from '../errors.js'
import { NOOP_LOGGER } from '../internal/logger.js'
import type { AuthResult, Authenticator } from './authenticator.js'
import { AuthenticatorRegistry } from './authenticator-registry.js'

const credentials = { username: 'alice', password: 'pw' }
const request = new Request('http://app.test/auth/login', { method: 'POST' })
const user = (source: string) => ({ id: '1', username: 'alice', roles: [], source })

function fixed(id: string, result: AuthResult | (() => never), calls: string[] = []): Authenticator {
  return {
    id,
    async authenticate() {
      calls.push(id)
      if (typeof result === 'function') return result()
      return result
    },
  }
}

describe('AuthenticatorRegistry', () => {
  it('runs authenticators by position, then registration order; the first authenticated wins', async () => {
    const calls: string[] = []
    const chain = new AuthenticatorRegistry()
      .register(fixed('late', { outcome: 'authenticated', user: user('late') }, calls), { position: 20 })
      .register(fixed('first', { outcome: 'skipped' }, calls), { position: 0 })
      .register(fixed('middle', { outcome: 'authenticated', user: user('middle') }, calls), { position: 10 })
      .freeze(NOOP_LOGGER)
    const result = await chain.authenticate({ credentials, request })
    expect(result).toMatchObject({ outcome: 'authenticated', user: { source: 'middle' } })
    expect(calls).toEqual(['first', 'middle'])
    expect(chain.list().map((a) => a.id)).toEqual(['first', 'middle', 'late'])
  })

  it('goes on after a rejection and reports it when nobody authenticates', async () => {
    const chain = new AuthenticatorRegistry([fixed('ldap', { outcome: 'rejected', reason: 'invalid-credentials' }), fixed('sql', { outcome: 'skipped' })])
    expect(await chain.authenticate({ credentials, request })).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    const second = new AuthenticatorRegistry([fixed('ldap', { outcome: 'rejected', reason: 'invalid-credentials' }), fixed('sql', { outcome: 'authenticated', user: user('sql') })])
    expect((await second.authenticate({ credentials, request })).outcome).toBe('authenticated')
  })

  it('logs and counts an unavailable backend, goes on, and says unavailable only if nobody authenticated', async () => {
    const down = fixed('ldap', () => {
      throw new AuthenticatorUnavailableError('ldap', { cause: new Error('ECONNREFUSED') })
    })
    const warnings: unknown[] = []
    const logger = { ...NOOP_LOGGER, warn: (fields: Record<string, unknown>) => void warnings.push(fields) }
    const chain = new AuthenticatorRegistry([down, fixed('sql', { outcome: 'authenticated', user: user('sql') })]).freeze(logger)
    expect((await chain.authenticate({ credentials, request })).outcome).toBe('authenticated')
    expect(chain.unavailableCounts().get('ldap')).toBe(1)
    expect(warnings).toHaveLength(1)

    const alone = new AuthenticatorRegistry([down, fixed('sql', { outcome: 'rejected', reason: 'invalid-credentials' })])
    const result = await alone.authenticate({ credentials, request })
    expect(result.outcome).toBe('unavailable')
  })

  it('treats an unexpected exception as unavailable (fail closed), never as success', async () => {
    const buggy = fixed('buggy', () => {
      throw new RangeError('bug')
    })
    const result = await new AuthenticatorRegistry([buggy]).authenticate({ credentials, request })
    expect(result.outcome).toBe('unavailable')
  })

  it('refuses a user whose source is another authenticator (no identity merging)', async () => {
    const liar = fixed('ldap', { outcome: 'authenticated', user: user('sql') })
    const result = await new AuthenticatorRegistry([liar]).authenticate({ credentials, request })
    expect(result.outcome).toBe('unavailable')
  })

  it('rejects duplicate or invalid ids, empty plugins and late registration', () => {
    const chain = new AuthenticatorRegistry([fixed('sql', { outcome: 'skipped' })])
    expect(() => chain.register(fixed('sql', { outcome: 'skipped' }))).toThrow(/duplicate/)
    expect(() => chain.register(fixed('anonymous', { outcome: 'skipped' }))).toThrow(TypeError)
    expect(() => chain.register(fixed('has space', { outcome: 'skipped' }))).toThrow(/invalid/)
    expect(() => chain.register({ id: 'empty' })).toThrow(/none of/)
    chain.freeze(NOOP_LOGGER)
    expect(() => chain.register(fixed('late', { outcome: 'skipped' }))).toThrow(/after startup/)
  })

  it('resumes through the authenticator that created the session', async () => {
    const principal = { source: 'sql', id: '1', version: 3, user: { username: 'alice', roles: ['User'] }, authenticatedAt: Date.now() }
    const sql: Authenticator = { id: 'sql', resume: async ({ principal: p }) => (p.version === 3 ? user('sql') : null) }
    const chain = new AuthenticatorRegistry([sql, { id: 'static', identify: async () => ({ outcome: 'skipped' }) }])
    expect(await chain.resume(principal)).toMatchObject({ source: 'sql', id: '1' })
    expect(await chain.resume({ ...principal, version: 2 })).toBeNull()
    // Gone authenticator: refuse.
    expect(await chain.resume({ ...principal, source: 'ldap' })).toBeNull()
    // Without resume: the login snapshot is trusted.
    expect(await chain.resume({ ...principal, source: 'static' })).toMatchObject({ source: 'static', username: 'alice', roles: ['User'] })
  })
})

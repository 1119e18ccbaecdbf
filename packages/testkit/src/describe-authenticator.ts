import type { Authenticator, Credentials, SessionPrincipal, User } from '@gatehouse/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** What an authenticator's test file gives {@link describeAuthenticator}. */
export interface AuthenticatorFixture {
  readonly authenticator: Authenticator
  /** Credentials of an existing, enabled user, and the roles that user must come back with. */
  readonly valid: Credentials & { readonly expectedRoles?: readonly string[] }
  /** A username the backend does not know. */
  readonly unknownUsername: string
  /** What the authenticator answers for it (see `AuthResult`): `skipped` lets the chain go on. */
  readonly unknownUser: 'skipped' | 'rejected'
  /** Declares that it implements `resume`; the suite fails when the declaration and the code disagree. */
  readonly resumes: boolean
  close(): Promise<void>
}

const request = () => new Request('http://gatehouse.test/auth/login', { method: 'POST' })

/**
 * The conformance suite every password {@link Authenticator} runs: expected outcomes are values,
 * identities carry the authenticator's id as source, sessions resume to the same principal.
 */
export function describeAuthenticator(name: string, create: () => Promise<AuthenticatorFixture>): void {
  describe(`Authenticator conformance: ${name}`, () => {
    let fixture: AuthenticatorFixture
    beforeAll(async () => {
      fixture = await create()
    })
    afterAll(async () => fixture?.close())

    const login = (credentials: Credentials) => fixture.authenticator.authenticate!({ credentials, request: request() })

    it('has an id and an authenticate method', () => {
      expect(fixture.authenticator.id).toMatch(/^[a-z0-9][a-z0-9._-]*$/i)
      expect(typeof fixture.authenticator.authenticate).toBe('function')
    })

    it('authenticates valid credentials as a user of its own source', async () => {
      const result = await login(fixture.valid)
      expect(result.outcome).toBe('authenticated')
      if (result.outcome !== 'authenticated') return
      expect(result.user.source).toBe(fixture.authenticator.id)
      expect(result.user.id).not.toBe('')
      expect(result.user.username.toLowerCase()).toBe(fixture.valid.username.toLowerCase())
      if (fixture.valid.expectedRoles) expect([...result.user.roles].sort()).toEqual([...fixture.valid.expectedRoles].sort())
    })

    it('rejects a wrong password as a value, not an exception', async () => {
      const result = await login({ username: fixture.valid.username, password: `${fixture.valid.password}-wrong` })
      expect(result).toEqual({ outcome: 'rejected', reason: 'invalid-credentials' })
    })

    it('never authenticates an empty password', async () => {
      const result = await login({ username: fixture.valid.username, password: '' })
      expect(result.outcome).not.toBe('authenticated')
    })

    it('answers an unknown user as it declares, never authenticated', async () => {
      const result = await login({ username: fixture.unknownUsername, password: fixture.valid.password })
      expect(result.outcome).toBe(fixture.unknownUser)
    })

    it('resumes its own principal to the same user, when it declares resume', async () => {
      expect(typeof fixture.authenticator.resume === 'function', "the fixture's resumes declaration").toBe(fixture.resumes)
      if (!fixture.resumes) return
      const result = await login(fixture.valid)
      if (result.outcome !== 'authenticated') throw new Error('valid credentials did not authenticate')
      const user: User | null = await fixture.authenticator.resume!({ principal: principalOf(result.user) })
      expect(user).not.toBeNull()
      expect(user?.source).toBe(result.user.source)
      expect(user?.id).toBe(result.user.id)
    })
  })
}

/** The session principal that `createAuth` would seal for this user. */
export function principalOf(user: User, authenticatedAt = Date.now()): SessionPrincipal {
  return {
    source: user.source,
    id: user.id,
    version: user.sessionVersion ?? 0,
    user: { username: user.username, roles: [...user.roles], displayName: user.displayName, email: user.email },
    authenticatedAt,
  }
}

import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { ORIGIN, createTestApp, errorCodeOf } from '../test/fixtures.js'
import type { Authenticator } from './authenticators/authenticator.js'
import { AUTH_ERROR_CODES, AuthenticatorUnavailableError, RequestRejectedError, StoreUnavailableError, isAuthError, outageOf } from './errors.js'
import type { AuthEnv } from './hono/create-auth.js'

/** An error as a second copy of @gatehouse/core (bundled by a plugin) would throw it: same code, other class. */
function foreign(code: string, cause?: unknown): Error {
  return Object.assign(new Error('from another copy of core', { cause }), { name: 'AuthenticatorUnavailableError', code })
}

describe('the error model', () => {
  it('matches errors by their stable code, not their class', () => {
    expect(isAuthError(new StoreUnavailableError())).toBe(true)
    expect(isAuthError(foreign('ERR_AUTHENTICATOR_UNAVAILABLE'), 'ERR_AUTHENTICATOR_UNAVAILABLE')).toBe(true)
    expect(isAuthError(foreign('ERR_AUTHENTICATOR_UNAVAILABLE'), ['ERR_STORE_UNAVAILABLE'])).toBe(false)
    expect(isAuthError(foreign('ENOENT'))).toBe(false)
    expect(isAuthError({ code: 'ERR_FORBIDDEN' })).toBe(false) // not an Error at all
    expect(AUTH_ERROR_CODES).toContain('ERR_CSRF')
  })

  it('names one outage per cause, following the cause chain', () => {
    expect(outageOf(new StoreUnavailableError())).toBe('ERR_STORE_UNAVAILABLE')
    expect(outageOf(new AuthenticatorUnavailableError('sql', { cause: new StoreUnavailableError() }))).toBe('ERR_STORE_UNAVAILABLE')
    expect(outageOf(new AuthenticatorUnavailableError('ldap', { cause: new Error('ECONNREFUSED') }))).toBe('ERR_AUTHENTICATOR_UNAVAILABLE')
    expect(outageOf(foreign('ERR_AUTHENTICATOR_UNAVAILABLE'))).toBe('ERR_AUTHENTICATOR_UNAVAILABLE')
    expect(outageOf(new Error('bug'))).toBeUndefined()
  })

  it('answers an outage thrown by another copy of core with 503, not 500', async () => {
    const down: Authenticator = {
      id: 'ldap',
      authenticate: async () => {
        throw foreign('ERR_AUTHENTICATOR_UNAVAILABLE')
      },
    }
    const { login } = await createTestApp({ authenticators: [down] })
    const { res } = await login('admin', 'whatever-password')
    expect(res.status).toBe(503)
    expect(await errorCodeOf(res)).toBe('ERR_AUTHENTICATOR_UNAVAILABLE')
  })

  it("answers a login whose only failure is the user store with the store's code", async () => {
    const { store, login } = await createTestApp()
    store.getUserByUsername = async () => {
      throw new StoreUnavailableError()
    }
    const { res } = await login('admin', 'admin-password-1')
    expect(res.status).toBe(503)
    expect(await errorCodeOf(res)).toBe('ERR_STORE_UNAVAILABLE')
  })

  it("answers /me with the outage's own code", async () => {
    const { app, store, login } = await createTestApp({ session: { secret: 'a-test-secret-that-is-long-enough-0123456789', secure: false, cache: false } })
    const { cookie } = await login('admin', 'admin-password-1')
    store.getUserById = async () => {
      throw new StoreUnavailableError()
    }
    const me = await app.request(`${ORIGIN}/auth/me`, { headers: { cookie: cookie! } })
    expect(me.status).toBe(503)
    expect(await errorCodeOf(me)).toBe('ERR_STORE_UNAVAILABLE')
  })

  it('ships an onError that answers by code and hides everything else', async () => {
    const { auth } = await createTestApp()
    const app = new Hono<AuthEnv>().onError(auth.onError)
    app.get('/store', () => {
      throw new StoreUnavailableError('pool exhausted at 10.0.0.5')
    })
    app.get('/foreign', () => {
      throw foreign('ERR_AUTHENTICATOR_UNAVAILABLE')
    })
    app.get('/bad', () => {
      throw new RequestRejectedError('ERR_BAD_REQUEST', 'field x')
    })
    app.get('/bug', () => {
      throw new Error('secret detail')
    })
    const answer = async (path: string) => {
      const res = await app.request(`${ORIGIN}${path}`)
      const body = await res.text()
      expect(body).not.toMatch(/10\.0\.0\.5|secret detail|field x/)
      return [res.status, JSON.parse(body).error.code]
    }
    expect(await answer('/store')).toEqual([503, 'ERR_STORE_UNAVAILABLE'])
    expect(await answer('/foreign')).toEqual([503, 'ERR_AUTHENTICATOR_UNAVAILABLE'])
    expect(await answer('/bad')).toEqual([400, 'ERR_BAD_REQUEST'])
    expect(await answer('/bug')).toEqual([500, 'ERR_INTERNAL'])
  })
})

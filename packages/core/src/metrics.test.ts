import { describe, expect, it } from 'vitest'
import { ORIGIN, createTestApp } from '../test/fixtures.js'
import type { Authenticator } from './authenticators/authenticator.js'
import { AuthenticatorUnavailableError } from './errors.js'
import type { AuthMetrics } from './metrics.js'
import { NOOP_METRICS } from './metrics.js'
import { MemoryLoginThrottle } from './throttle/memory-login-throttle.js'

/** Metrics that remember every call as `method:label`, as a dashboard would count them. */
function recordingMetrics() {
  const calls: string[] = []
  const metrics = Object.fromEntries(
    Object.keys(NOOP_METRICS).map((method) => [
      method,
      (args: Record<string, unknown>) => void calls.push(`${method}:${String(args.outcome ?? args.result ?? args.kind ?? args.event ?? args.authenticator)}`),
    ]),
  ) as unknown as AuthMetrics
  return { metrics, calls }
}

describe('metrics', () => {
  it('counts logins by outcome, session reads by result, revocations and audit events', async () => {
    const { metrics, calls } = recordingMetrics()
    const throttle = new MemoryLoginThrottle({ username: { freeFailures: 1, baseDelaySeconds: 60, maxDelaySeconds: 60 } })
    const { app, login } = await createTestApp({ metrics, throttle })
    const { cookie } = await login('admin', 'admin-password-1')
    for (let i = 0; i < 3; i++) await login('viewer', 'wrong-password')
    await app.request(`${ORIGIN}/admin`, { headers: { cookie: cookie! } })
    await app.request(`${ORIGIN}/admin`, { headers: { cookie: cookie! } })
    await app.request(`${ORIGIN}/admin`, { headers: { cookie: `${cookie!}x` } })
    await app.request(`${ORIGIN}/auth/logout`, { method: 'POST', headers: { cookie: cookie!, 'content-type': 'application/json', origin: ORIGIN } })
    await app.request(`${ORIGIN}/admin`, { headers: { cookie: cookie! } })
    expect(calls).toEqual(
      expect.arrayContaining([
        'loginAttempt:succeeded',
        'loginAttempt:failed',
        'loginAttempt:throttled',
        'sessionResume:miss',
        'sessionResume:hit',
        'sessionResume:invalid',
        'sessionResume:revoked',
        'revocation:session',
        'auditEvent:login.throttled',
        'auditEvent:logout',
      ]),
    )
  })

  it('hands the same metrics to every authenticator and counts unavailability', async () => {
    const { metrics, calls } = recordingMetrics()
    const attached: AuthMetrics[] = []
    const down: Authenticator = {
      id: 'ldap',
      attach: ({ metrics: given }) => void attached.push(given),
      authenticate: async () => {
        throw new AuthenticatorUnavailableError('ldap')
      },
    }
    const { login } = await createTestApp({ metrics, authenticators: [down] })
    expect(attached).toEqual([metrics])
    await login('admin', 'admin-password-1')
    expect(calls).toEqual(expect.arrayContaining(['authenticatorUnavailable:ldap', 'loginAttempt:unavailable']))
  })
})

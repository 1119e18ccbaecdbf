import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createPrometheusMetrics } from './prometheus-metrics.js'

async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))
  return value?.value
}

describe('createPrometheusMetrics', () => {
  it('registers gatehouse_*_total counters and *_seconds histograms in a registry of its own', async () => {
    const a = createPrometheusMetrics()
    const b = createPrometheusMetrics() // a second app in the process: no "already registered"
    expect(a.registry).not.toBe(b.registry)
    const names = (await a.registry.getMetricsAsJSON()).map((m) => `${m.name} ${m.type}`).sort()
    expect(names).toEqual([
      'gatehouse_audit_events_total counter',
      'gatehouse_authenticator_unavailable_total counter',
      'gatehouse_directory_bind_seconds histogram',
      'gatehouse_directory_binds_total counter',
      'gatehouse_hasher_queue_depth gauge',
      'gatehouse_hasher_queue_wait_seconds histogram',
      'gatehouse_login_attempts_total counter',
      'gatehouse_logins_throttled_total counter',
      'gatehouse_provider_fetch_seconds histogram',
      'gatehouse_provider_fetches_total counter',
      'gatehouse_revocations_total counter',
      'gatehouse_session_resumes_total counter',
      'gatehouse_token_validation_seconds histogram',
      'gatehouse_token_validations_total counter',
    ])
  })

  it('counts each event under closed label values', async () => {
    const metrics = createPrometheusMetrics({ registry: new Registry() })
    metrics.loginAttempt({ authenticator: 'sql', outcome: 'succeeded' })
    metrics.loginAttempt({ authenticator: undefined, outcome: 'throttled' })
    metrics.tokenValidation({ authenticator: 'oidc', outcome: 'valid', cached: true, seconds: 0.00002 })
    metrics.providerFetch({ authenticator: 'oidc', endpoint: 'jwks', outcome: 'ok', seconds: 0.02 })
    metrics.directoryBind({ authenticator: 'ldap', outcome: 'refused', seconds: 0.004 })
    metrics.hasherQueue({ depth: 3, waitSeconds: 0.2 })
    const { registry } = metrics
    expect(await sample(registry, 'gatehouse_login_attempts_total', { authenticator: 'sql', outcome: 'succeeded' })).toBe(1)
    expect(await sample(registry, 'gatehouse_login_attempts_total', { authenticator: 'none', outcome: 'throttled' })).toBe(1)
    expect(await sample(registry, 'gatehouse_logins_throttled_total')).toBe(1)
    expect(await sample(registry, 'gatehouse_token_validations_total', { cached: 'true', outcome: 'valid' })).toBe(1)
    const text = await registry.metrics()
    expect(text).toContain('gatehouse_provider_fetch_seconds_bucket{le="0.025",authenticator="oidc",endpoint="jwks",outcome="ok"} 1')
    expect(text).toContain('gatehouse_directory_bind_seconds_count{authenticator="ldap",outcome="refused"} 1')
    expect(text).toContain('gatehouse_hasher_queue_depth 3')
    expect(text).toContain('gatehouse_hasher_queue_wait_seconds_bucket{le="0.25"} 1')
  })

  it('never lets a caller grow a label: unknown values count as other, ids beyond the cap too', async () => {
    const metrics = createPrometheusMetrics({ maxAuthenticators: 2 })
    metrics.loginAttempt({ authenticator: 'alice@example.org\r\n', outcome: 'succeeded' })
    metrics.loginAttempt({ authenticator: 'sql', outcome: 'pwned' as never })
    metrics.authenticatorUnavailable({ authenticator: 'a' }) // sql and a fill the two slots
    metrics.authenticatorUnavailable({ authenticator: 'b' })
    metrics.authenticatorUnavailable({ authenticator: 'c' })
    metrics.auditEvent({ event: 'made.up' as never })
    const text = await metrics.registry.metrics()
    expect(text).not.toContain('alice')
    expect(text).not.toContain('pwned')
    expect(text).toContain('gatehouse_login_attempts_total{authenticator="other",outcome="succeeded"} 1')
    expect(text).toContain('gatehouse_authenticator_unavailable_total{authenticator="other"} 2')
    expect(text).toContain('gatehouse_audit_events_total{event="other"} 1')
  })

  it('refuses a prefix that is not a Prometheus name', () => {
    expect(() => createPrometheusMetrics({ prefix: 'gate-house' })).toThrow(TypeError)
  })
})

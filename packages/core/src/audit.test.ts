import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { ORIGIN, createTestApp } from '../test/fixtures.js'
import { AUDIT_EVENTS, escapeLogText } from './audit.js'
import type { AuthEnv } from './hono/create-auth.js'
import { Protected } from './hono/protected.js'
import { MemoryLoginThrottle } from './throttle/memory-login-throttle.js'

/** A logger that keeps every line, as an operator's log would. */
function recordingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = []
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message })
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  const events = () =>
    lines.filter((line) => typeof line.fields.event === 'string').map((line) => ({ level: line.level, ...line.fields }) as { level: string; event: string } & Record<string, unknown>)
  return { logger, events }
}

describe('audit events', () => {
  it('leaves one structured line for each security-relevant step', async () => {
    const { logger, events } = recordingLogger()
    const throttle = new MemoryLoginThrottle({ username: { freeFailures: 1, baseDelaySeconds: 60, maxDelaySeconds: 60 } })
    const { app, auth, store, login } = await createTestApp({ logger, throttle })
    const guarded = new Hono<AuthEnv>().use(auth.middleware()).post('/entries', Protected(), (c) => c.text('ok'))

    const { cookie } = await login('admin', 'admin-password-1')
    await login('viewer', 'wrong-password')
    await login('viewer', 'wrong-password')
    await login('viewer', 'wrong-password')
    await app.request(`${ORIGIN}/admin`, { headers: { cookie: `${cookie!.slice(0, -4)}AAAA` } })
    await app.request(`${ORIGIN}/admin`, { headers: { authorization: 'Bearer not-a-token' } })
    await guarded.request(`${ORIGIN}/entries`, { method: 'POST', headers: { cookie: cookie!, origin: 'https://evil.example' } })
    const viewer = await store.getUserByUsername({ username: 'viewer' })
    auth.sessions.invalidate({ type: 'user', id: viewer!.id })
    await app.request(`${ORIGIN}/auth/logout`, { method: 'POST', headers: { cookie: cookie!, 'content-type': 'application/json', origin: ORIGIN } })

    const seen = events().map((e) => e.event)
    expect(seen).toEqual(expect.arrayContaining(['login.succeeded', 'login.failed', 'login.throttled', 'session.invalid', 'token.refused', 'csrf.refused', 'logout']))
    expect(events()).toContainEqual(expect.objectContaining({ event: 'login.throttled', level: 'warn', username: 'viewer', retryAfterSeconds: expect.any(Number) }))
    expect(events()).toContainEqual(expect.objectContaining({ event: 'csrf.refused', method: 'POST', path: '/entries' }))
    for (const event of events()) expect(Object.keys(AUDIT_EVENTS)).toContain(event.event)
    // Never a cookie, a password or a token in any line.
    const everything = JSON.stringify(events())
    for (const secret of [cookie!.split('=')[1]!, 'admin-password-1', 'wrong-password', 'not-a-token']) expect(everything).not.toContain(secret)
  })

  it('logs revocations the store reports', async () => {
    const { logger, events } = recordingLogger()
    const listeners: Array<(change: { type: 'user'; id: string }) => void> = []
    const { MemoryUserStore } = await import('./store/memory-user-store.js')
    const store = Object.assign(new MemoryUserStore(), { subscribe: (listener: (typeof listeners)[number]) => (listeners.push(listener), () => {}) })
    await createTestApp({ logger, store })
    listeners[0]!({ type: 'user', id: '42' })
    expect(events()).toContainEqual(expect.objectContaining({ event: 'session.revoked', kind: 'user' }))
  })

  it('escapes control characters and bounds user-supplied text', async () => {
    const { logger, events } = recordingLogger()
    const { login } = await createTestApp({ logger })
    await login('eve\r\n{"event":"login.succeeded"}\u001b[31m', 'wrong-password')
    const failed = events().find((e) => e.event === 'login.failed')!
    expect(failed.username).not.toMatch(/[\r\n\u001b]/)
    expect(failed.username).toContain('\\u000d\\u000a')
    expect(escapeLogText('x'.repeat(10_000)).length).toBeLessThanOrEqual(257)
    expect(escapeLogText('a\u202eb')).toBe('a\\u202eb')
  })
})

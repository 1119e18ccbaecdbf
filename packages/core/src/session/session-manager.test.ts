import { sealData } from 'iron-session'
import { describe, expect, it } from 'vitest'
import { AuthenticatorRegistry } from '../authenticators/authenticator-registry.js'
import type { Authenticator } from '../authenticators/authenticator.js'
import { AuthenticatorUnavailableError } from '../errors.js'
import { MemoryRevocationList } from '../store/memory-revocation-list.js'
import type { SessionOptions } from './session-manager.js'
import { SessionManager } from './session-manager.js'

const SECRET = 'x'.repeat(32)
const alice = { id: 'u1', username: 'alice', roles: ['User'], source: 'sql', sessionVersion: 1 }

function setup(options: Partial<SessionOptions> = {}, authenticator?: Authenticator) {
  let version = 1
  let resumes = 0
  const sql: Authenticator = authenticator ?? {
    id: 'sql',
    async resume({ principal }) {
      resumes++
      return principal.version === version ? alice : null
    },
  }
  const registry = new AuthenticatorRegistry([sql])
  const sessions = new SessionManager({ secret: SECRET, secure: false, ...options }, { registry, revocations: new MemoryRevocationList() })
  return { sessions, bump: () => void version++, resumes: () => resumes }
}

describe('SessionManager', () => {
  it('round-trips a session and never puts secrets in the cookie', async () => {
    const { sessions } = setup()
    const cookie = await sessions.issue({ ...alice, claims: { token: 'secret-token' } })
    expect(cookie.value).not.toContain('alice')
    expect(cookie.value.length).toBeLessThan(4096)
    const state = await sessions.read(cookie.value)
    expect(state).toMatchObject({ status: 'active', user: { id: 'u1', source: 'sql' } })
    expect(JSON.stringify(state)).not.toContain('secret-token')
  })

  it('issues a new session id at every login', async () => {
    const { sessions } = setup()
    const a = await sessions.read((await sessions.issue(alice)).value)
    const b = await sessions.read((await sessions.issue(alice)).value)
    if (a.status !== 'active' || b.status !== 'active') throw new Error('expected sessions')
    expect(a.payload.sid).not.toBe(b.payload.sid)
  })

  it('treats tampered, truncated, oversized, foreign and garbage cookies as no session', async () => {
    const { sessions } = setup()
    const { value } = await sessions.issue(alice)
    const flipped = value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41)
    const foreign = await sealData(
      { sid: 'x', principal: { source: 'sql', id: 'u1', version: 1, user: { username: 'a', roles: [] }, authenticatedAt: Date.now() }, iat: Date.now(), lat: Date.now() },
      { password: 'y'.repeat(32) },
    )
    for (const cookie of [flipped, value.slice(0, value.length - 10), value.slice(0, 20), 'a'.repeat(5000), foreign, 'Fe26.2**', '~2', '%%%']) {
      expect(await sessions.read(cookie)).toEqual({ status: 'none', reason: 'invalid' })
    }
    expect(await sessions.read('')).toEqual({ status: 'none' })
  })

  it('never lets a cached session answer for a cookie that only shares its tail', async () => {
    const { sessions } = setup()
    const { value } = await sessions.issue(alice)
    expect((await sessions.read(value)).status).toBe('active')
    expect(sessions.readCached(value)?.status).toBe('active')
    // The cache is keyed by the seal's last characters; the rest must match too.
    const flipped = value.slice(0, 40) + (value[40] === 'A' ? 'B' : 'A') + value.slice(41)
    expect(flipped.slice(-40)).toBe(value.slice(-40))
    expect(sessions.readCached(flipped)).toBeUndefined()
    expect(await sessions.read(flipped)).toEqual({ status: 'none', reason: 'invalid' })
  })

  it('rejects a sealed payload of the wrong shape', async () => {
    const { sessions } = setup()
    const wrongShape = await sealData({ sid: 1, principal: 'admin' }, { password: SECRET })
    expect(await sessions.read(wrongShape)).toEqual({ status: 'none', reason: 'invalid' })
  })

  it('ends a session after the idle timeout and after the absolute lifetime', async () => {
    const { sessions } = setup({ idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 300, cache: false })
    const t0 = Date.now()
    const cookie = await sessions.issue(alice, t0)
    expect((await sessions.read(cookie.value, t0 + 59_000)).status).toBe('active')
    expect((await sessions.read(cookie.value, t0 + 61_000)).status).toBe('none')
    // Rolling: activity keeps it alive until the absolute limit.
    let current = cookie
    let at = t0
    for (let i = 0; i < 5; i++) {
      at += 50_000
      const state = await sessions.read(current.value, at)
      if (state.status !== 'active') throw new Error(`expired early at step ${i}`)
      expect(state.refresh).toBe(true)
      current = await sessions.refresh(state.payload, at)
    }
    expect((await sessions.read(current.value, t0 + 301_000)).status).toBe('none')
  })

  it('refuses the session once the store bumps the version; the cache drops it on invalidation', async () => {
    const { sessions, bump, resumes } = setup({ cache: { ttlMs: 60_000 } })
    const { value } = await sessions.issue(alice)
    expect((await sessions.read(value)).status).toBe('active')
    expect((await sessions.read(value)).status).toBe('active')
    expect(resumes()).toBe(1) // second read served from cache
    bump()
    sessions.invalidate({ type: 'user', id: 'u1' })
    expect((await sessions.read(value)).status).toBe('none')
  })

  it('bounds staleness by the cache TTL when nobody reports a change', async () => {
    const { sessions, bump } = setup({ cache: { ttlMs: 1000 } })
    const t0 = Date.now()
    const { value } = await sessions.issue(alice, t0)
    expect((await sessions.read(value, t0)).status).toBe('active')
    bump()
    expect((await sessions.read(value, t0 + 500)).status).toBe('active')
    expect((await sessions.read(value, t0 + 1001)).status).toBe('none')
  })

  it('shares one store lookup between concurrent requests that miss the cache together', async () => {
    const { sessions, resumes } = setup()
    const { value } = await sessions.issue(alice)
    const states = await Promise.all(Array.from({ length: 20 }, () => sessions.read(value)))
    expect(states.every((state) => state.status === 'active')).toBe(true)
    expect(resumes()).toBe(1)
  })

  it('does not hand a lookup that overlapped a revocation to later requests', async () => {
    let release: () => void = () => {}
    let resumes = 0
    const slow: Authenticator = {
      id: 'sql',
      async resume() {
        resumes++
        if (resumes === 1) await new Promise<void>((resolve) => (release = resolve))
        return resumes === 1 ? alice : null // revoked while the first lookup was in flight
      },
    }
    const { sessions } = setup({}, slow)
    const { value } = await sessions.issue(alice)
    const first = sessions.read(value)
    await new Promise((resolve) => setTimeout(resolve, 10))
    sessions.invalidate({ type: 'user', id: alice.id })
    const second = await sessions.read(value)
    release()
    await first
    expect(second.status).toBe('none')
    expect(resumes).toBe(2)
  })

  it('re-seals a session past its refresh point once per refresh interval, not once per request', async () => {
    const { sessions } = setup({ idleTimeoutSeconds: 100 })
    const issuedAt = Date.now() - 20_000 // past the refresh point (a tenth of the idle timeout)
    const cookie = await sessions.issue(alice, issuedAt)
    const state = await sessions.read(cookie.value)
    if (state.status !== 'active') throw new Error('expected a session')
    expect(state.refresh).toBe(true)
    const a = await sessions.refresh(state.payload)
    const b = await sessions.refresh(state.payload)
    expect(b.value).toBe(a.value)
    const later = await sessions.refresh(state.payload, Date.now() + 11_000)
    expect(later.value).not.toBe(a.value)
  })

  it('revokes one session (logout) and refuses its replay', async () => {
    const { sessions } = setup()
    const first = await sessions.issue(alice)
    const second = await sessions.issue(alice)
    const state = await sessions.read(first.value)
    if (state.status !== 'active') throw new Error('expected session')
    await sessions.revoke(state.payload)
    expect((await sessions.read(first.value)).status).toBe('none')
    expect((await sessions.read(second.value)).status).toBe('active')
  })

  it('rotates secrets: old cookies stay valid, new ones use the newest secret', async () => {
    const registry = new AuthenticatorRegistry([{ id: 'sql', resume: async () => alice }])
    const revocations = new MemoryRevocationList()
    const old = new SessionManager({ secret: { 1: SECRET }, secure: false }, { registry, revocations })
    const rotated = new SessionManager({ secret: { 1: SECRET, 2: 'z'.repeat(40) }, secure: false }, { registry, revocations })
    const newOnly = new SessionManager({ secret: { 2: 'z'.repeat(40) }, secure: false }, { registry, revocations })
    const oldCookie = await old.issue(alice)
    expect((await rotated.read(oldCookie.value)).status).toBe('active')
    const newCookie = await rotated.issue(alice)
    expect((await newOnly.read(newCookie.value)).status).toBe('active')
    expect((await old.read(newCookie.value)).status).toBe('none')
  })

  it('reports an unavailable authenticator instead of ending the session', async () => {
    const down: Authenticator = {
      id: 'sql',
      resume: async () => {
        throw new AuthenticatorUnavailableError('sql')
      },
    }
    const { sessions } = setup({}, down)
    const { value } = await sessions.issue(alice)
    expect((await sessions.read(value)).status).toBe('unavailable')
  })

  it('fails at startup on a short or missing secret and bad timeouts', () => {
    const deps = { registry: new AuthenticatorRegistry(), revocations: new MemoryRevocationList() }
    expect(() => new SessionManager({ secret: 'short' }, deps)).toThrow(/32 characters/)
    expect(() => new SessionManager({ secret: {} }, deps)).toThrow(/required/)
    expect(() => new SessionManager({ secret: SECRET, idleTimeoutSeconds: 0 }, deps)).toThrow(TypeError)
    expect(() => new SessionManager({ secret: SECRET, secure: false, cookieName: '__Host-x' }, deps)).toThrow(/secure/)
  })

  it('uses a __Host- cookie when secure (the default)', () => {
    const deps = { registry: new AuthenticatorRegistry(), revocations: new MemoryRevocationList() }
    const sessions = new SessionManager({ secret: SECRET }, deps)
    expect(sessions.secure).toBe(true)
    expect(sessions.cookieName).toBe('__Host-gatehouse')
  })
})

describe('device cookies', () => {
  it('are not sessions, and sessions are not device cookies', async () => {
    const { sessions } = setup()
    const device = await sessions.issueDevice('alice')
    expect(device?.name).toBe('gatehouse-device')
    expect(await sessions.read(device!.value)).toEqual({ status: 'none', reason: 'invalid' })
    expect(await sessions.deviceOf(device!.value, 'alice')).toMatch(/^[\w-]{22}$/)
    expect(await sessions.deviceOf(device!.value, 'bob')).toBeUndefined()
    const session = await sessions.issue(alice)
    expect(await sessions.deviceOf(session.value, 'alice')).toBeUndefined()
  })

  it('can be turned off', async () => {
    const { sessions } = setup({ trustedDeviceDays: 0 })
    expect(await sessions.issueDevice('alice')).toBeNull()
  })
})

import { describe, expect, test } from 'vitest'
import { LoggedOutSessions, TokenCache } from './token-cache.js'

describe('TokenCache', () => {
  test('keys are SHA-256 digests, not tokens', () => {
    const key = TokenCache.key('eyJ.secret.token')
    expect(key).not.toContain('secret')
    expect(key).toHaveLength(43)
  })

  test('never answers at or after the deadline; refuses entries already expired', () => {
    const cache = new TokenCache<string>(10)
    const now = Date.now()
    cache.set('a', 'A', { expiresAt: now + 1000 })
    expect(cache.get('a', now + 999)).toBe('A')
    expect(cache.get('a', now + 1000)).toBeUndefined()
    cache.set('b', 'B', { expiresAt: now - 1 })
    expect(cache.size).toBe(0)
  })

  test('bounded, oldest first out; 0 keeps nothing', () => {
    const cache = new TokenCache<number>(2)
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, i, { expiresAt: Date.now() + 60_000 })
    expect(cache.size).toBe(2)
    expect(cache.get('k4')).toBe(4)
    expect(cache.get('k0')).toBeUndefined()
    const none = new TokenCache<number>(0)
    none.set('x', 1, { expiresAt: Date.now() + 60_000 })
    expect(none.size).toBe(0)
  })

  test('drops by sid, or by sub when no sid is given', () => {
    const cache = new TokenCache<number>(10)
    const expiresAt = Date.now() + 60_000
    cache.set('1', 1, { expiresAt, sid: 's1', sub: 'u' })
    cache.set('2', 2, { expiresAt, sid: 's2', sub: 'u' })
    cache.set('3', 3, { expiresAt, sid: 's3', sub: 'v' })
    expect(cache.dropSession({ sid: 's1', sub: 'u' })).toBe(1)
    expect(cache.dropSession({ sub: 'u' })).toBe(1)
    expect(cache.get('3')).toBe(3)
  })
})

describe('LoggedOutSessions', () => {
  test('a sid logout ends that session only; a sub logout ends tokens issued up to then', () => {
    const out = new LoggedOutSessions(10, 60_000)
    const now = 1_700_000_000_000
    out.add({ sid: 's1', sub: 'u' }, now)
    expect(out.has({ sid: 's1', sub: 'u', iat: 1 }, now)).toBe(true)
    expect(out.has({ sid: 's2', sub: 'u', iat: 1 }, now)).toBe(false)
    out.add({ sub: 'v' }, now)
    expect(out.has({ sid: 'x', sub: 'v', iat: now / 1000 - 10 }, now)).toBe(true)
    expect(out.has({ sid: 'x', sub: 'v', iat: now / 1000 + 2 }, now + 2000)).toBe(false)
  })

  test('forgotten after the memory period; bounded', () => {
    const out = new LoggedOutSessions(2, 1000)
    out.add({ sid: 'a' }, 0)
    expect(out.has({ sid: 'a' }, 1000)).toBe(true)
    expect(out.has({ sid: 'a' }, 1001)).toBe(false)
    for (const sid of ['b', 'c', 'd']) out.add({ sid }, 0)
    expect(out.has({ sid: 'b' }, 0)).toBe(false)
    expect(out.has({ sid: 'd' }, 0)).toBe(true)
  })
})

import { describe, expect, it } from 'vitest'
import { backoffSeconds, USERNAME_BACKOFF } from './login-throttle.js'
import { MemoryLoginThrottle } from './memory-login-throttle.js'

describe('backoffSeconds', () => {
  it('allows the free failures, then doubles, capped', () => {
    const now = 1_000_000
    expect(backoffSeconds(USERNAME_BACKOFF, 5, now, now)).toBe(0)
    expect(backoffSeconds(USERNAME_BACKOFF, 6, now, now)).toBe(1)
    expect(backoffSeconds(USERNAME_BACKOFF, 8, now, now)).toBe(4)
    expect(backoffSeconds(USERNAME_BACKOFF, 1000, now, now)).toBe(900)
    expect(backoffSeconds(USERNAME_BACKOFF, 1000, now, now + 900_000)).toBe(0)
  })
})

describe('MemoryLoginThrottle', () => {
  it('throttles a username after its free failures, counting parallel failures exactly', async () => {
    const throttle = new MemoryLoginThrottle()
    const attempt = { username: 'alice', address: '192.0.2.1' }
    await Promise.all(Array.from({ length: 5 }, () => throttle.recordFailure(attempt)))
    expect(await throttle.check(attempt)).toEqual({ allowed: true })
    await throttle.recordFailure(attempt)
    const decision = await throttle.check({ username: 'alice', address: '198.51.100.7' })
    expect(decision.allowed).toBe(false)
  })

  it('resets the username on success but keeps the address counted', async () => {
    const throttle = new MemoryLoginThrottle({ address: { freeFailures: 6 } })
    const attempt = { username: 'bob', address: '192.0.2.2' }
    for (let i = 0; i < 7; i++) await throttle.recordFailure(attempt)
    await throttle.recordSuccess(attempt)
    expect((await throttle.check({ username: 'bob', address: '203.0.113.9' })).allowed).toBe(true)
    expect((await throttle.check({ username: 'someone-else', address: '192.0.2.2' })).allowed).toBe(false)
  })

  it('stays bounded in memory', async () => {
    const throttle = new MemoryLoginThrottle({ maxEntries: 10 })
    for (let i = 0; i < 50; i++) await throttle.recordFailure({ username: `u${i}`, address: undefined })
    for (let i = 0; i < 6; i++) await throttle.recordFailure({ username: 'last', address: undefined })
    expect((await throttle.check({ username: 'last', address: undefined })).allowed).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import { backoffSeconds, throttleKeys, USERNAME_BACKOFF } from './login-throttle.js'
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

describe('throttleKeys', () => {
  it('counts a trusted device instead of the username, and the address always', () => {
    const policies = { username: USERNAME_BACKOFF, address: USERNAME_BACKOFF }
    expect(throttleKeys({ username: 'alice', address: '192.0.2.1' }, policies).map((k) => k.key)).toEqual(['u:alice', 'a:192.0.2.1'])
    expect(throttleKeys({ username: 'alice', address: undefined, device: 'd1' }, policies).map((k) => k.key)).toEqual(['d:d1'])
  })
})

describe('MemoryLoginThrottle', () => {
  const allowed = (decisions: Array<{ allowed: boolean }>) => decisions.filter((d) => d.allowed).length

  it('lets exactly the free attempts plus one through a parallel burst, counting each in advance', async () => {
    const throttle = new MemoryLoginThrottle({ username: { freeFailures: 5 } })
    const attempt = { username: 'alice', address: '192.0.2.1' }
    const decisions = await Promise.all(Array.from({ length: 20 }, () => throttle.begin(attempt)))
    expect(allowed(decisions)).toBe(6)
    // The username is now throttled from any address.
    expect((await throttle.begin({ username: 'alice', address: '198.51.100.7' })).allowed).toBe(false)
  })

  it('does not count refused attempts, so waiting out the delay works', async () => {
    const throttle = new MemoryLoginThrottle({ username: { freeFailures: 1, baseDelaySeconds: 0.05 } })
    const attempt = { username: 'bob', address: undefined }
    expect((await throttle.begin(attempt)).allowed).toBe(true)
    expect((await throttle.begin(attempt)).allowed).toBe(true)
    for (let i = 0; i < 5; i++) expect((await throttle.begin(attempt)).allowed).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect((await throttle.begin(attempt)).allowed).toBe(true)
  })

  it('on success resets the user and takes back the address count; an abandoned attempt takes back both', async () => {
    const throttle = new MemoryLoginThrottle({ username: { freeFailures: 2 }, address: { freeFailures: 2 } })
    const attempt = { username: 'carol', address: '192.0.2.2' }
    for (let i = 0; i < 3; i++) await throttle.begin(attempt)
    await throttle.succeeded(attempt)
    // Username reset; the address holds 2 (3 attempts, one of them taken back): 2 free, then one more.
    expect((await throttle.begin({ username: 'carol', address: undefined })).allowed).toBe(true)
    expect((await throttle.begin({ username: 'dave', address: '192.0.2.2' })).allowed).toBe(true)
    expect((await throttle.begin({ username: 'erin', address: '192.0.2.2' })).allowed).toBe(false)

    const outage = new MemoryLoginThrottle({ username: { freeFailures: 1 } })
    const frank = { username: 'frank', address: undefined }
    for (let i = 0; i < 10; i++) {
      expect((await outage.begin(frank)).allowed).toBe(true)
      await outage.abandoned(frank)
    }
  })

  it('stays bounded in memory', async () => {
    const throttle = new MemoryLoginThrottle({ maxEntries: 10 })
    for (let i = 0; i < 50; i++) {
      await throttle.begin({ username: `u${i}`, address: `198.51.100.${i}` })
      expect(throttle.size).toBeLessThanOrEqual(10)
    }
    expect(throttle.size).toBe(10)
    // The newest entries are the ones kept: the last username still counts its failures.
    for (let i = 0; i < 6; i++) await throttle.begin({ username: 'last', address: undefined })
    expect((await throttle.begin({ username: 'last', address: undefined })).allowed).toBe(false)
    expect(throttle.size).toBeLessThanOrEqual(10)
  })
})

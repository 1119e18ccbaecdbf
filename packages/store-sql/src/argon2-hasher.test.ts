import { WeakPasswordError } from '@gatehouse/core'
import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { LIGHT_HASHER } from '../test/fixtures.js'
import { ARGON2_DEFAULTS, Argon2Hasher, BUSY_SAMPLE_MS } from './argon2-hasher.js'

describe('Argon2Hasher', () => {
  it("hashes with argon2id at OWASP's minimum by default, a fresh salt each time", async () => {
    const hasher = new Argon2Hasher()
    expect(hasher.parameters).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
    const [a, b] = await Promise.all([hasher.hash('violet cormorant'), hasher.hash('violet cormorant')])
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(a).not.toBe(b)
    expect(await hasher.verify({ hash: a!, password: 'violet cormorant' })).toBe(true)
    expect(await hasher.verify({ hash: a!, password: 'violet cormorant ' })).toBe(false)
    expect(hasher.needsRehash(a!)).toBe(false)
  })

  it('verifies the password exactly as received (no normalization, no truncation)', async () => {
    const hasher = new Argon2Hasher(LIGHT_HASHER)
    const composed = 'caf\u00e9-password'
    const long = 'p'.repeat(600)
    const hash = await hasher.hash(composed)
    expect(await hasher.verify({ hash, password: 'cafe\u0301-password' })).toBe(false)
    const longHash = await hasher.hash(long)
    expect(await hasher.verify({ hash: longHash, password: long.slice(0, 599) })).toBe(false)
    expect(await hasher.verify({ hash: longHash, password: long })).toBe(true)
  })

  it('answers false, never throws, for corrupt, foreign and absurd hashes', async () => {
    const hasher = new Argon2Hasher(LIGHT_HASHER)
    const good = await hasher.hash('violet cormorant')
    const corrupt = [
      '',
      'not a hash',
      good.slice(0, -10),
      good.replace('$argon2id$', '$argon2xx$'),
      good.replace(/\$[^$]+$/, '$!!!!'),
      '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', // bcrypt
      '$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A', // 4 TiB of memory
      '$argon2id$v=19$m=1024,t=999999,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A',
    ]
    for (const hash of corrupt) {
      await expect(hasher.verify({ hash, password: 'violet cormorant' })).resolves.toBe(false)
      expect(() => hasher.needsRehash(hash)).not.toThrow()
    }
  })

  it("asks for a rehash when the parameters rise, via argon2's own needsRehash", async () => {
    const weak = new Argon2Hasher(LIGHT_HASHER)
    const stronger = new Argon2Hasher({ ...LIGHT_HASHER, memoryCost: 2048 })
    const hash = await weak.hash('violet cormorant')
    expect(weak.needsRehash(hash)).toBe(false)
    expect(stronger.needsRehash(hash)).toBe(true)
    // The stronger hasher still verifies the old hash: the parameters are in the hash.
    expect(await stronger.verify({ hash, password: 'violet cormorant' })).toBe(true)
    expect(new Argon2Hasher().needsRehash(hash)).toBe(true)
  })

  it('refuses a password over the hard maximum before hashing (1 MiB costs no argon2 time)', async () => {
    const hasher = new Argon2Hasher({ maxConcurrency: 1 })
    const hash = await hasher.hash('violet cormorant')
    const huge = 'x'.repeat(1 << 20)
    // Ordering, not timing: with the only argon2 slot busy, a refusal that waited for argon2
    // would finish after the hash in flight.
    let inFlightDone = false
    const inFlight = hasher.hash('another passphrase').then(() => {
      inFlightDone = true
    })
    await expect(hasher.hash(huge)).rejects.toBeInstanceOf(WeakPasswordError)
    expect(await hasher.verify({ hash, password: huge })).toBe(false)
    expect(inFlightDone).toBe(false)
    await inFlight
  })

  it('caps argon2 work in flight and queues the rest', async () => {
    const hasher = new Argon2Hasher({ ...LIGHT_HASHER, maxConcurrency: 2 })
    const running = Array.from({ length: 6 }, () => hasher.hash('violet cormorant'))
    await Promise.resolve()
    expect(hasher.queued).toBe(4)
    await Promise.all(running)
    expect(hasher.queued).toBe(0)
  })

  it('leaves a busy event loop a core, and takes every slot back once it is quiet', async () => {
    // As many slots as cores: the machine has no core to spare for the event loop.
    const cores = availableParallelism()
    const hasher = new Argon2Hasher({ ...LIGHT_HASHER, maxConcurrency: cores })
    const hash = await hasher.hash('violet cormorant')
    const spin = (ms: number) => {
      const end = performance.now() + ms
      while (performance.now() < end) {}
    }
    expect(hasher.concurrency).toBe(cores)
    // Busy through two samples in a row (the requests of signed-in users would look like this).
    for (let i = 0; i < 3; i++) {
      spin(BUSY_SAMPLE_MS + 20)
      await hasher.verify({ hash, password: 'violet cormorant' })
    }
    expect(hasher.concurrency).toBe(Math.max(1, cores - 1))
    // Quiet again: every slot back at the next verify.
    await new Promise((resolve) => setTimeout(resolve, BUSY_SAMPLE_MS + 50))
    await hasher.verify({ hash, password: 'violet cormorant' })
    expect(hasher.concurrency).toBe(cores)

    // One busy sample alone (a burst of logins) changes nothing; nor does a busy loop when told not to yield.
    spin(BUSY_SAMPLE_MS + 20)
    await hasher.verify({ hash, password: 'violet cormorant' })
    expect(hasher.concurrency).toBe(cores)
    const stubborn = new Argon2Hasher({ ...LIGHT_HASHER, maxConcurrency: cores, yieldToBusyEventLoop: false })
    for (let i = 0; i < 3; i++) {
      spin(BUSY_SAMPLE_MS + 20)
      await stubborn.verify({ hash, password: 'violet cormorant' })
    }
    expect(stubborn.concurrency).toBe(cores)
  })

  it("refuses parameters below OWASP's minimum unless explicitly allowed for tests", () => {
    expect(ARGON2_DEFAULTS).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 })
    expect(() => new Argon2Hasher({ memoryCost: 8192 })).toThrow(/OWASP/)
    expect(() => new Argon2Hasher({ timeCost: 1 })).toThrow(/OWASP/)
    expect(() => new Argon2Hasher({ memoryCost: 12288, timeCost: 3 })).not.toThrow()
    expect(() => new Argon2Hasher({ memoryCost: 47104, timeCost: 1 })).not.toThrow()
    expect(() => new Argon2Hasher({ memoryCost: 12288, timeCost: 2 })).toThrow(/OWASP/)
    expect(() => new Argon2Hasher({ memoryCost: 0 })).toThrow(TypeError)
    expect(() => new Argon2Hasher({ maxPasswordBytes: 100 })).toThrow(TypeError)
    expect(() => new Argon2Hasher(LIGHT_HASHER)).not.toThrow()
  })
})

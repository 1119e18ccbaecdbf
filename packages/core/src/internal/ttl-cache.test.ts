import { describe, expect, it } from 'vitest'
import { TTLCache } from './ttl-cache.js'

describe('TTLCache', () => {
  it('expires entries after ttlMs', () => {
    const cache = new TTLCache<string, number>({ ttlMs: 100, maxEntries: 10 })
    cache.set('a', 1, 0)
    expect(cache.get('a', 99)).toBe(1)
    expect(cache.get('a', 100)).toBeUndefined()
  })

  it('evicts the least recently used entry, recency kept to a second', () => {
    const cache = new TTLCache<string, number>({ ttlMs: 60_000, maxEntries: 2 })
    cache.set('a', 1, 0)
    cache.set('b', 2, 10)
    expect(cache.get('a', 1500)).toBe(1) // a is used again, more than a second later: now the youngest
    cache.set('c', 3, 1600)
    expect(cache.get('b', 1600)).toBeUndefined()
    expect(cache.get('a', 1600)).toBe(1)
    expect(cache.get('c', 1600)).toBe(3)
  })

  it('stores nothing when turned off', () => {
    const cache = new TTLCache<string, number>({ ttlMs: 0, maxEntries: 0 })
    cache.set('a', 1)
    expect(cache.get('a')).toBeUndefined()
  })
})

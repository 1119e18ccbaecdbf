/** How often a hit moves its entry to the young end (ms): a move per hit churns the Map on the hot path. */
const TOUCH_INTERVAL_MS = 1000

/**
 * A small LRU map whose entries also expire after `ttlMs`. Bounded to `maxEntries`; recency is
 * kept to {@link TOUCH_INTERVAL_MS}, which is all an eviction order needs.
 */
export class TTLCache<K, V> {
  readonly #entries = new Map<K, { value: V; expiresAt: number; touchedAt: number }>()
  readonly #ttlMs: number
  readonly #maxEntries: number

  constructor(options: { ttlMs: number; maxEntries: number }) {
    this.#ttlMs = options.ttlMs
    this.#maxEntries = options.maxEntries
  }

  get(key: K, now = Date.now()): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.#entries.delete(key)
      return undefined
    }
    // Re-insert so Map order is least-recently-used first.
    if (now - entry.touchedAt >= TOUCH_INTERVAL_MS) {
      entry.touchedAt = now
      this.#entries.delete(key)
      this.#entries.set(key, entry)
    }
    return entry.value
  }

  set(key: K, value: V, now = Date.now()): void {
    if (this.#ttlMs <= 0 || this.#maxEntries <= 0) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, expiresAt: now + this.#ttlMs, touchedAt: now })
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
  }

  /** Deletes every entry whose value matches. O(n): for rare events such as a revocation. */
  deleteWhere(matches: (value: V) => boolean): void {
    for (const [key, entry] of this.#entries) if (matches(entry.value)) this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}

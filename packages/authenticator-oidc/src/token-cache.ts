import { hash } from 'node:crypto'

/** One remembered verification. */
interface Entry<T> {
  readonly value: T
  /** ms since epoch; the entry is never used at or after this. */
  readonly expiresAt: number
  readonly sid: string | undefined
  readonly sub: string | undefined
}

/**
 * Verified tokens by SHA-256 of the token (the token itself is never kept as a key), bounded
 * (the oldest entries go first), each entry dropped at its deadline (the token's `exp` or
 * sooner), and droppable by provider session (`sid`) or subject (`sub`) for back-channel logout.
 */
export class TokenCache<T> {
  readonly #max: number
  readonly #entries = new Map<string, Entry<T>>()

  constructor(maxEntries: number) {
    this.#max = maxEntries
  }

  get size(): number {
    return this.#entries.size
  }

  /** The digest a token is kept under (the one-shot `hash`: half the cost of a Hash object per request). */
  static key(token: string): string {
    return hash('sha256', token, 'base64url')
  }

  get(key: string, now = Date.now()): T | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (now >= entry.expiresAt) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: T, args: { expiresAt: number; sid?: string | undefined; sub?: string | undefined }): void {
    if (this.#max === 0 || args.expiresAt <= Date.now()) return
    this.#entries.delete(key)
    this.#entries.set(key, { value, expiresAt: args.expiresAt, sid: args.sid, sub: args.sub })
    while (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!)
  }

  /** Drops the entries of a provider session and/or subject. */
  dropSession({ sid, sub }: { sid?: string | undefined; sub?: string | undefined }): number {
    let dropped = 0
    for (const [key, entry] of this.#entries) {
      if ((sid !== undefined && entry.sid === sid) || (sid === undefined && sub !== undefined && entry.sub === sub)) {
        this.#entries.delete(key)
        dropped++
      }
    }
    return dropped
  }

  clear(): void {
    this.#entries.clear()
  }
}

/**
 * Provider sessions and subjects ended by back-channel logout, remembered for as long as a token
 * issued before the logout could still be presented, so that such tokens are refused, not just
 * evicted from the cache and verified again. Bounded like the cache.
 */
export class LoggedOutSessions {
  readonly #max: number
  readonly #rememberMs: number
  readonly #sids = new Map<string, number>()
  readonly #subs = new Map<string, number>()

  constructor(maxEntries: number, rememberMs: number) {
    this.#max = Math.max(1, maxEntries)
    this.#rememberMs = rememberMs
  }

  add({ sid, sub }: { sid?: string | undefined; sub?: string | undefined }, now = Date.now()): void {
    // A logout naming its sid ends that session only; one naming only sub ends all of the subject's.
    if (sid !== undefined) this.#put(this.#sids, sid, now)
    else if (sub !== undefined) this.#put(this.#subs, sub, now)
  }

  /** `true` when a token of this session or subject, issued at `iat` (seconds), was logged out. */
  has({ sid, sub, iat }: { sid?: string | undefined; sub?: string | undefined; iat?: number | undefined }, now = Date.now()): boolean {
    if (sid !== undefined && this.#alive(this.#sids, sid, now) !== undefined) return true
    if (sub === undefined) return false
    const at = this.#alive(this.#subs, sub, now)
    // Tokens issued after a subject-wide logout belong to a new login.
    return at !== undefined && (iat === undefined || iat * 1000 <= at)
  }

  #put(map: Map<string, number>, key: string, now: number): void {
    map.delete(key)
    map.set(key, now)
    while (map.size > this.#max) map.delete(map.keys().next().value!)
  }

  #alive(map: Map<string, number>, key: string, now: number): number | undefined {
    const at = map.get(key)
    if (at === undefined) return undefined
    if (now - at > this.#rememberMs) {
      map.delete(key)
      return undefined
    }
    return at
  }
}

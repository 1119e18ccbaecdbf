import type { BackoffPolicy, LoginAttempt, LoginThrottle, ThrottleDecision } from './login-throttle.js'
import { ADDRESS_BACKOFF, USERNAME_BACKOFF, backoffSeconds, throttleKeys } from './login-throttle.js'

interface Counter {
  failures: number
  lastFailureAt: number
}

/**
 * A {@link LoginThrottle} in process memory: the default. Counts are per process; use the SQL
 * throttle of `@gatehouse/store-sql` when several instances serve one site.
 */
export class MemoryLoginThrottle implements LoginThrottle {
  readonly #counters = new Map<string, Counter>()
  readonly #policies: { username: BackoffPolicy; address: BackoffPolicy }
  readonly #maxEntries: number

  constructor(options: { username?: Partial<BackoffPolicy>; address?: Partial<BackoffPolicy>; maxEntries?: number } = {}) {
    this.#policies = { username: { ...USERNAME_BACKOFF, ...options.username }, address: { ...ADDRESS_BACKOFF, ...options.address } }
    this.#maxEntries = options.maxEntries ?? 100_000
  }

  /** How many usernames, addresses and devices it keeps counts for (bounded by `maxEntries`). */
  get size(): number {
    return this.#counters.size
  }

  // Synchronous from the first read to the last write: atomic in JavaScript's event loop.
  async begin(attempt: LoginAttempt): Promise<ThrottleDecision> {
    const now = Date.now()
    const keys = throttleKeys(attempt, this.#policies)
    let wait = 0
    for (const { key, policy } of keys) {
      const counter = this.#live(key, policy, now)
      if (counter) wait = Math.max(wait, backoffSeconds(policy, counter.failures, counter.lastFailureAt, now))
    }
    if (wait > 0) return { allowed: false, retryAfterSeconds: wait }
    for (const { key, policy } of keys) {
      const counter = this.#live(key, policy, now) ?? { failures: 0, lastFailureAt: now }
      counter.failures += 1
      counter.lastFailureAt = now
      this.#counters.delete(key)
      this.#counters.set(key, counter)
    }
    // Bounded memory: drop the oldest entries (Map keeps insertion order).
    for (const key of this.#counters.keys()) {
      if (this.#counters.size <= this.#maxEntries) break
      this.#counters.delete(key)
    }
    return { allowed: true }
  }

  async succeeded(attempt: LoginAttempt): Promise<void> {
    const [user, address] = throttleKeys(attempt, this.#policies)
    this.#counters.delete(user!.key)
    if (address) this.#takeBack(address.key)
  }

  async abandoned(attempt: LoginAttempt): Promise<void> {
    for (const { key } of throttleKeys(attempt, this.#policies)) this.#takeBack(key)
  }

  #takeBack(key: string): void {
    const counter = this.#counters.get(key)
    if (counter !== undefined && counter.failures > 0) counter.failures -= 1
  }

  #live(key: string, policy: BackoffPolicy, now: number): Counter | undefined {
    const counter = this.#counters.get(key)
    if (counter && now - counter.lastFailureAt > policy.windowSeconds * 1000) {
      this.#counters.delete(key)
      return undefined
    }
    return counter
  }
}

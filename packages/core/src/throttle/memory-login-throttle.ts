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
  readonly #username: BackoffPolicy
  readonly #address: BackoffPolicy
  readonly #maxEntries: number

  constructor(options: { username?: Partial<BackoffPolicy>; address?: Partial<BackoffPolicy>; maxEntries?: number } = {}) {
    this.#username = { ...USERNAME_BACKOFF, ...options.username }
    this.#address = { ...ADDRESS_BACKOFF, ...options.address }
    this.#maxEntries = options.maxEntries ?? 100_000
  }

  async check(attempt: LoginAttempt): Promise<ThrottleDecision> {
    const now = Date.now()
    let wait = 0
    for (const { key, policy } of this.#keys(attempt)) {
      const counter = this.#live(key, policy, now)
      if (counter) wait = Math.max(wait, backoffSeconds(policy, counter.failures, counter.lastFailureAt, now))
    }
    return wait > 0 ? { allowed: false, retryAfterSeconds: wait } : { allowed: true }
  }

  async recordFailure(attempt: LoginAttempt): Promise<void> {
    const now = Date.now()
    for (const { key, policy } of this.#keys(attempt)) {
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
  }

  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    this.#counters.delete(this.#keys(attempt)[0]!.key)
  }

  #keys(attempt: LoginAttempt) {
    return throttleKeys(attempt, { username: this.#username, address: this.#address })
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

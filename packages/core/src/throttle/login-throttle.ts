/** Who is trying to log in: the normalized username and the client address. */
export interface LoginAttempt {
  readonly username: string
  /** Client address; `undefined` when unknown (then only the username is throttled). */
  readonly address: string | undefined
}

export type ThrottleDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number }

/**
 * Login throttling, consulted before the authenticator chain (and so before any hashing).
 *
 * Contract: `check` must not count anything; `recordFailure` counts one failure for the username
 * and for the address, atomically, even under concurrency (50 parallel failures count 50);
 * `recordSuccess` resets the username's counter only (an attacker's address stays throttled).
 * Implementations shared by several instances (SQL) make the counts global.
 */
export interface LoginThrottle {
  check(attempt: LoginAttempt): Promise<ThrottleDecision>
  recordFailure(attempt: LoginAttempt): Promise<void>
  recordSuccess(attempt: LoginAttempt): Promise<void>
}

/** How failures turn into waiting time. Shared by every throttle implementation. */
export interface BackoffPolicy {
  /** Failures allowed before any delay. @default 5 (per username), 50 (per address) */
  readonly freeFailures: number
  /** Delay after the first failure over the free ones, doubled for each further one. @default 1 */
  readonly baseDelaySeconds: number
  /**
   * Longest delay. The back-off is capped rather than a permanent lock, so an attacker cannot
   * lock a real user out for longer than this. @default 900
   */
  readonly maxDelaySeconds: number
  /** Failures older than this are forgotten. @default 3600 */
  readonly windowSeconds: number
}

export const USERNAME_BACKOFF: BackoffPolicy = Object.freeze({ freeFailures: 5, baseDelaySeconds: 1, maxDelaySeconds: 900, windowSeconds: 3600 })
export const ADDRESS_BACKOFF: BackoffPolicy = Object.freeze({ freeFailures: 50, baseDelaySeconds: 1, maxDelaySeconds: 900, windowSeconds: 3600 })

/**
 * Seconds still to wait after `failures` failures, the last at `lastFailureAt` (ms), at `now` (ms).
 * 0 means allowed.
 */
export function backoffSeconds(policy: BackoffPolicy, failures: number, lastFailureAt: number, now: number): number {
  const over = failures - policy.freeFailures
  if (over <= 0) return 0
  const delay = Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** Math.min(over - 1, 30))
  const remaining = lastFailureAt / 1000 + delay - now / 1000
  return remaining > 0 ? Math.ceil(remaining) : 0
}

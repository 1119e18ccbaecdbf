/** Who is trying to log in: the normalized username and the client address. */
export interface LoginAttempt {
  readonly username: string
  /** Client address; `undefined` when unknown (then only the username is throttled). */
  readonly address: string | undefined
  /**
   * Id of a device this user logged in from before (a sealed device cookie bound to the
   * username). Such attempts are counted per device instead of per username, so failures an
   * attacker piles onto the username cannot lock the user out of their own browser.
   */
  readonly device?: string | undefined
}

export type ThrottleDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number }

/**
 * Login throttling, consulted before the authenticator chain (and so before any hashing).
 *
 * Contract: `check` must not count anything; `recordFailure` counts one failure for the user and
 * for the address, atomically, even under concurrency (50 parallel failures count 50);
 * `recordSuccess` resets the user's counter only (an attacker's address stays throttled). "The
 * user's counter" is the one of `attempt.device` when the attempt carries one (see
 * {@link throttleKeys}), else the username's. Implementations shared by several instances (SQL)
 * make the counts global.
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
   * Longest delay: the back-off is capped rather than a permanent lock. (An attacker can keep a
   * username throttled; the user's own browsers stay usable through their device cookie.)
   * @default 900
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

/**
 * The counters an attempt touches: the user's (per trusted device when there is one, else per
 * username) with the username policy, and the client address's with the address policy.
 */
export function throttleKeys(attempt: LoginAttempt, policies: { username: BackoffPolicy; address: BackoffPolicy }): Array<{ key: string; policy: BackoffPolicy }> {
  const keys = [{ key: attempt.device !== undefined ? `d:${attempt.device}` : `u:${attempt.username}`, policy: policies.username }]
  if (attempt.address !== undefined) keys.push({ key: `a:${attempt.address}`, policy: policies.address })
  return keys
}

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
 * Every attempt is counted as a failure in advance, in the same atomic step that decides whether
 * it may go on: parallel attempts, in this instance and in every other one sharing the counters,
 * cannot all pass a check before any of them is counted. The outcome then corrects the count.
 *
 * "The user's counter" is the one of `attempt.device` when the attempt carries one, else the
 * username's (see {@link throttleKeys}); the address's counter is always kept too.
 */
export interface LoginThrottle {
  /**
   * Decides whether the attempt may go on and, if so, counts it as a failure for the user and
   * the address, atomically. A refused attempt is not counted (the wait does not grow by itself).
   */
  begin(attempt: LoginAttempt): Promise<ThrottleDecision>
  /** The password was right: resets the user's counter and takes back the address's advance count. */
  succeeded(attempt: LoginAttempt): Promise<void>
  /** Nobody could check the password (backends down): takes back both advance counts. */
  abandoned(attempt: LoginAttempt): Promise<void>
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

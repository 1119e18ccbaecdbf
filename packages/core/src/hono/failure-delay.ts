/** How long refused logins wait for their answer: see {@link FailureDelay}. */
export interface LoginFailureDelay {
  /**
   * Milliseconds a throttled login (429) is held before its answer goes out; 0 answers at once.
   * @default 250
   */
  readonly throttledMs: number
  /**
   * Milliseconds a wrong password (401) is held. Off by default: a 401 has waited for its argon2
   * verify already (and for the hasher's queue, which caps how many run at once), and every one is
   * counted, so a guessing loop turns into 429s after the throttle's free failures; a person who
   * mistyped is not kept waiting. Raise it to slow down guessing below the throttle's limits.
   * @default 0
   */
  readonly invalidCredentialsMs: number
  /**
   * Answers held at once at most. Past it, refusals are answered at once: an attacker with more
   * connections than this gets quick answers again (each still counted and throttled), but can
   * never make the server hold an unbounded number of sockets and timers.
   * @default 1024
   */
  readonly maxPending: number
}

/** The defaults of {@link LoginFailureDelay}. */
export const LOGIN_FAILURE_DELAY: LoginFailureDelay = Object.freeze({ throttledMs: 250, invalidCredentialsMs: 0, maxPending: 1024 })

const MAX_DELAY_MS = 60_000

/**
 * Holds the answers of refused logins for a short while on a timer (as Dovecot's
 * `auth_failure_delay` and pam_faildelay do), which costs no CPU.
 *
 * Why: a throttled login is refused from memory in microseconds, and a client that asks again at
 * once (a script, a botnet's connection) gets its next refusal as fast as the server can answer,
 * so a few dozen such connections on one event loop take most of its turns from every signed-in
 * user, however cheap each refusal is. Held for `throttledMs`, each of them asks at most once per
 * `throttledMs`, and costs a timer meanwhile. Successes and outages (503) are never held.
 *
 * `close()` sends every held answer at once and holds nothing after it, so shutting down never
 * waits for these timers.
 */
export class FailureDelay {
  readonly throttledMs: number
  readonly invalidCredentialsMs: number
  readonly maxPending: number
  readonly #pending = new Set<() => void>()
  #closed = false

  constructor(options: Partial<LoginFailureDelay> = {}) {
    const { throttledMs, invalidCredentialsMs, maxPending } = { ...LOGIN_FAILURE_DELAY, ...options }
    for (const [name, ms] of Object.entries({ throttledMs, invalidCredentialsMs })) {
      if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS) throw new TypeError(`createAuth: failureDelay.${name} must be an integer from 0 to ${MAX_DELAY_MS}`)
    }
    if (!Number.isInteger(maxPending) || maxPending < 0) throw new TypeError('createAuth: failureDelay.maxPending must be a non-negative integer')
    this.throttledMs = throttledMs
    this.invalidCredentialsMs = invalidCredentialsMs
    this.maxPending = maxPending
  }

  /** Answers held right now. */
  get pending(): number {
    return this.#pending.size
  }

  /** The login route's answer, held as its status asks (429, 401); any other status goes out at once. */
  answer(response: Response): Response | Promise<Response> {
    const ms = response.status === 429 ? this.throttledMs : response.status === 401 ? this.invalidCredentialsMs : 0
    return ms === 0 ? response : this.hold(response, ms)
  }

  /** Resolves to `value` after `ms`, or at once when closed or `maxPending` are held already. */
  hold<T>(value: T, ms: number): Promise<T> {
    if (this.#closed || this.#pending.size >= this.maxPending) return Promise.resolve(value)
    return new Promise((resolve) => {
      const release = () => {
        clearTimeout(timer)
        this.#pending.delete(release)
        resolve(value)
      }
      const timer = setTimeout(release, ms)
      // A held answer must not keep a process alive that is otherwise done (its socket does, if open).
      timer.unref()
      this.#pending.add(release)
    })
  }

  /** Sends every held answer now; later ones go out at once. */
  close(): void {
    this.#closed = true
    for (const release of [...this.#pending]) release()
  }
}

import { createHash } from 'node:crypto'
import type { BackoffPolicy, LoginAttempt, LoginThrottle, Logger, ThrottleDecision } from '@gatehouse/core'
import { ADDRESS_BACKOFF, MemoryLoginThrottle, NOOP_LOGGER, StoreUnavailableError, USERNAME_BACKOFF, backoffSeconds, throttleKeys } from '@gatehouse/core'
import type { SQLDatabase } from './sql-database.js'

/** Options of {@link SQLLoginThrottle}. */
export interface SQLLoginThrottleOptions {
  readonly database: SQLDatabase
  /** Back-off per normalized username. @default USERNAME_BACKOFF (5 free, 1 s doubling, 900 s cap, 1 h window) */
  readonly username?: Partial<BackoffPolicy>
  /** Back-off per client address. @default ADDRESS_BACKOFF (50 free, 1 s doubling, 900 s cap, 1 h window) */
  readonly address?: Partial<BackoffPolicy>
  /** @default NOOP_LOGGER */
  readonly logger?: Logger
}

interface Key {
  readonly key: string
  readonly policy: BackoffPolicy
}

/**
 * {@link LoginThrottle} whose counters live in the database, so every instance sees the same
 * counts. Core's capped exponential back-off (`backoffSeconds`): after the free failures each
 * further one doubles the wait, up to `maxDelaySeconds`; never a permanent lock. Attempts from a
 * browser the user logged in from before count per device (core's `throttleKeys`), so an attacker
 * who keeps the username throttled does not lock the user out of that browser. A success resets
 * the user's counter only.
 *
 * Each failure is one atomic upsert (`INSERT … ON CONFLICT DO UPDATE SET failures = failures + 1`,
 * restarting the count when the last failure is older than the window), so parallel failures are
 * all counted, on PostgreSQL by its row lock and on SQLite by its write lock.
 *
 * Keys are SHA-256 digests of `u:<username>` / `a:<address>`: people type passwords into the
 * username field, and the throttle table should not become a list of them.
 *
 * When the database is unavailable the throttle keeps counting in process memory (core's
 * `MemoryLoginThrottle`, whose counts keep applying afterwards) instead of failing the request:
 * the login itself then answers 503 through the authenticator, and other authenticators in the
 * chain stay throttled per process.
 *
 * rate-limiter-flexible was considered and not used: its SQLite store needs `sqlite3` or
 * `better-sqlite3` (not libsql), its PostgreSQL store manages its own table outside these
 * migrations on a raw pg pool, and it expresses fixed windows and fixed blocks rather than a
 * capped exponential back-off.
 */
export class SQLLoginThrottle implements LoginThrottle {
  readonly #db: SQLDatabase
  readonly #username: BackoffPolicy
  readonly #address: BackoffPolicy
  readonly #fallback: MemoryLoginThrottle
  readonly #logger: Logger
  #failuresSincePrune = 0
  #degraded = false

  constructor(options: SQLLoginThrottleOptions) {
    this.#db = options.database
    this.#username = resolvePolicy('username', { ...USERNAME_BACKOFF, ...options.username })
    this.#address = resolvePolicy('address', { ...ADDRESS_BACKOFF, ...options.address })
    this.#fallback = new MemoryLoginThrottle({ username: this.#username, address: this.#address })
    this.#logger = options.logger ?? NOOP_LOGGER
  }

  async check(attempt: LoginAttempt): Promise<ThrottleDecision> {
    const keys = this.#keys(attempt)
    const now = Date.now()
    let wait = 0
    try {
      const rows = await this.#db.read((db) =>
        db
          .selectFrom('gatehouse_login_throttle')
          .select(['key', 'failures', 'last_failure_at'])
          .where(
            'key',
            'in',
            keys.map((k) => k.key),
          )
          .execute(),
      )
      for (const row of rows) {
        const policy = keys.find((k) => k.key === row.key)!.policy
        const last = Number(row.last_failure_at)
        if (now - last > policy.windowSeconds * 1000) continue
        wait = Math.max(wait, backoffSeconds(policy, Number(row.failures), last, now))
      }
      this.#recovered()
    } catch (error) {
      this.#unavailable(error)
    }
    const local = await this.#fallback.check(attempt)
    if (!local.allowed) wait = Math.max(wait, local.retryAfterSeconds)
    return wait > 0 ? { allowed: false, retryAfterSeconds: wait } : { allowed: true }
  }

  async recordFailure(attempt: LoginAttempt): Promise<void> {
    const now = Date.now()
    const prune = ++this.#failuresSincePrune >= 500
    if (prune) this.#failuresSincePrune = 0
    try {
      await this.#db.write(async (trx) => {
        for (const { key, policy } of this.#keys(attempt)) {
          const windowStart = now - policy.windowSeconds * 1000
          await trx
            .insertInto('gatehouse_login_throttle')
            .values({ key, failures: 1, last_failure_at: now })
            .onConflict((oc) =>
              oc.column('key').doUpdateSet((eb) => ({
                // A failure after a quiet window starts a new count instead of adding to the old one.
                failures: eb.case().when('gatehouse_login_throttle.last_failure_at', '<', windowStart).then(1).else(eb('gatehouse_login_throttle.failures', '+', 1)).end(),
                last_failure_at: now,
              })),
            )
            .execute()
        }
        // Forgotten counters go now and then; the longest window decides what is forgotten.
        if (prune) {
          const horizon = now - Math.max(this.#username.windowSeconds, this.#address.windowSeconds) * 1000
          await trx.deleteFrom('gatehouse_login_throttle').where('last_failure_at', '<', horizon).execute()
        }
      })
      this.#recovered()
    } catch (error) {
      this.#unavailable(error)
      await this.#fallback.recordFailure(attempt)
    }
  }

  async recordSuccess(attempt: LoginAttempt): Promise<void> {
    await this.#fallback.recordSuccess(attempt)
    try {
      const { key } = this.#keys(attempt)[0]!
      await this.#db.write((trx) => trx.deleteFrom('gatehouse_login_throttle').where('key', '=', key).execute())
      this.#recovered()
    } catch (error) {
      this.#unavailable(error)
    }
  }

  #keys(attempt: LoginAttempt): Key[] {
    return throttleKeys(attempt, { username: this.#username, address: this.#address }).map(({ key, policy }) => ({ key: digest(key), policy }))
  }

  #unavailable(error: unknown): void {
    if (!(error instanceof StoreUnavailableError)) throw error
    if (!this.#degraded) this.#logger.warn({ err: error.message }, 'login throttle: database unavailable, counting in memory')
    this.#degraded = true
  }

  #recovered(): void {
    if (!this.#degraded) return
    this.#degraded = false
    this.#logger.warn({}, 'login throttle: database available again')
  }
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

function resolvePolicy(name: string, policy: BackoffPolicy): BackoffPolicy {
  for (const [field, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new TypeError(`SQLLoginThrottle: ${name}.${field} must be a non-negative number`)
  }
  if (policy.maxDelaySeconds <= 0 || policy.windowSeconds <= 0) throw new TypeError(`SQLLoginThrottle: ${name}.maxDelaySeconds and windowSeconds must be positive`)
  return Object.freeze({ ...policy })
}

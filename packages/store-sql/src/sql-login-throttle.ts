import { createHash } from 'node:crypto'
import type { BackoffPolicy, LoginAttempt, LoginThrottle, Logger, ThrottleDecision } from '@gatehouse/core'
import { ADDRESS_BACKOFF, MemoryLoginThrottle, NOOP_LOGGER, USERNAME_BACKOFF, backoffSeconds, isAuthError, throttleKeys } from '@gatehouse/core'
import type { Transaction } from 'kysely'
import type { GatehouseSchema } from './schema.js'
import type { SQLDatabase } from './sql-database.js'

/** Options of {@link SQLLoginThrottle}. */
export interface SQLLoginThrottleOptions {
  readonly database: SQLDatabase
  /** Back-off per normalized username. @default USERNAME_BACKOFF (5 free, 1 s doubling, 900 s cap, 1 h window) */
  readonly username?: Partial<BackoffPolicy>
  /** Back-off per client address. @default ADDRESS_BACKOFF (50 free, 1 s doubling, 900 s cap, 1 h window) */
  readonly address?: Partial<BackoffPolicy>
  /**
   * How long a refusal the database decided is repeated from memory, without SQL (see
   * {@link SQLLoginThrottle}); also the longest another instance's success can go unseen here.
   * 0 asks the database on every attempt. @default BLOCK_MEMO_MS (2000)
   */
  readonly refusalMemoMs?: number
  /** @default NOOP_LOGGER */
  readonly logger?: Logger
}

interface Key {
  readonly key: string
  readonly policy: BackoffPolicy
}

/** A key the database refused lately: what is remembered so that refusals cost no SQL. */
interface Blocked {
  /** The database's back-off ends here (ms). */
  readonly until: number
  /** Refusals are decided from memory until here (ms), at most `refusalMemoMs` after the database said so. */
  readonly trustUntil: number
  /** An attempt is asking the database about this key right now. */
  refreshing: boolean
}

/**
 * How long a refusal the database decided is repeated from memory. Short, so that a success or a
 * quiet window on another instance is seen within this bound; long enough that a storm of
 * refused guesses runs about one SQL transaction per key per bound instead of one per guess.
 */
export const BLOCK_MEMO_MS = 2000
/** Keys remembered at most (the oldest go first). */
export const BLOCK_MEMO_MAX_KEYS = 10_000

/**
 * {@link LoginThrottle} whose counters live in the database, so every instance sees the same
 * counts. Core's capped exponential back-off (`backoffSeconds`): after the free failures each
 * further one doubles the wait, up to `maxDelaySeconds`; never a permanent lock. Attempts from a
 * browser the user logged in from before count per device (core's `throttleKeys`), so an attacker
 * who keeps the username throttled does not lock the user out of that browser. A success resets
 * the user's counter only.
 *
 * `begin` decides and counts in one transaction over the attempt's rows, locked (`FOR UPDATE`
 * on PostgreSQL; SQLite's write transaction runs alone), so parallel attempts on every instance
 * are all counted and no more of them pass than the limit allows. A count restarts when the last
 * failure is older than the window.
 *
 * Keys are SHA-256 digests of `u:<username>` / `a:<address>`: people type passwords into the
 * username field, and the throttle table should not become a list of them.
 *
 * Refusals are decided from memory while they can be (a storm of refused guesses must not cost
 * every signed-in user a SQL write transaction per guess, nor starve the event loop): when the
 * database refuses a key, the key's end of back-off is remembered, and further attempts on it are
 * refused without SQL for at most `refusalMemoMs` (2 s). Nothing is lost in the shared count:
 * a refused attempt is never counted, here or in the database. After that bound the next attempt
 * asks the database again (one at a time per key: attempts that arrive while it asks are still
 * refused from memory, as long as the remembered back-off runs). A success or abandoned attempt on
 * this instance forgets its keys at once; one on another instance is seen within the bound.
 * At most {@link BLOCK_MEMO_MAX_KEYS} keys are remembered.
 *
 * When the database is unavailable the throttle keeps counting in process memory (core's
 * `MemoryLoginThrottle`, until the database answers again) instead of failing the request:
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
  #attemptsSincePrune = 0
  #degraded = false
  readonly #blocked = new Map<string, Blocked>()
  /** Digests of the keys seen lately: a refusal from memory then costs no SHA-256 (the largest part of it that is Gatehouse's). */
  readonly #digests = new Map<string, string>()
  readonly #memoMs: number

  constructor(options: SQLLoginThrottleOptions) {
    this.#db = options.database
    this.#username = resolvePolicy('username', { ...USERNAME_BACKOFF, ...options.username })
    this.#address = resolvePolicy('address', { ...ADDRESS_BACKOFF, ...options.address })
    this.#fallback = new MemoryLoginThrottle({ username: this.#username, address: this.#address })
    this.#logger = options.logger ?? NOOP_LOGGER
    this.#memoMs = options.refusalMemoMs ?? BLOCK_MEMO_MS
    if (!Number.isFinite(this.#memoMs) || this.#memoMs < 0) throw new TypeError('SQLLoginThrottle: refusalMemoMs must be a non-negative number')
  }

  async begin(attempt: LoginAttempt): Promise<ThrottleDecision> {
    // Locked in one order (sorted keys), so two attempts sharing a key never deadlock.
    const keys = this.#keys(attempt).sort((a, b) => (a.key < b.key ? -1 : 1))
    const now = Date.now()
    const remembered = this.#rememberedRefusal(keys, now)
    if (remembered !== undefined) return remembered
    const refreshing = keys.map(({ key }) => this.#blocked.get(key)).filter((b): b is Blocked => b !== undefined)
    for (const blocked of refreshing) blocked.refreshing = true
    const prune = ++this.#attemptsSincePrune >= 500
    if (prune) this.#attemptsSincePrune = 0
    let decision: ThrottleDecision
    try {
      const waits = new Map<string, number>()
      decision = await this.#db.write(async (trx) => {
        const ids = keys.map((k) => k.key)
        // PostgreSQL locks rows, so they must exist first (one statement, in key order); SQLite's
        // write transaction runs alone and needs no row to lock.
        if (this.#db.dialect === 'postgres') {
          await trx
            .insertInto('gatehouse_login_throttle')
            .values(ids.map((key) => ({ key, failures: 0, last_failure_at: 0 })))
            .onConflict((oc) => oc.column('key').doNothing())
            .execute()
        }
        let select = trx.selectFrom('gatehouse_login_throttle').select(['key', 'failures', 'last_failure_at']).where('key', 'in', ids).orderBy('key')
        if (this.#db.dialect === 'postgres') select = select.forUpdate()
        const rows = await select.execute()
        let wait = 0
        const counts = new Map<string, number>()
        for (const row of rows) {
          const policy = keys.find((k) => k.key === row.key)!.policy
          const last = Number(row.last_failure_at)
          // Failures older than the window are forgotten: the count starts again.
          const failures = now - last > policy.windowSeconds * 1000 ? 0 : Number(row.failures)
          counts.set(row.key, failures)
          const keyWait = backoffSeconds(policy, failures, last, now)
          if (keyWait > 0) waits.set(row.key, keyWait)
          wait = Math.max(wait, keyWait)
        }
        if (wait > 0) return { allowed: false, retryAfterSeconds: wait }
        // Every key counted in one statement (a key without a row yet gets one).
        await trx
          .insertInto('gatehouse_login_throttle')
          .values(ids.map((key) => ({ key, failures: (counts.get(key) ?? 0) + 1, last_failure_at: now })))
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({
              failures: eb.ref('excluded.failures'),
              last_failure_at: eb.ref('excluded.last_failure_at'),
            })),
          )
          .execute()
        // Forgotten counters go now and then; the longest window decides what is forgotten.
        if (prune) {
          const horizon = now - Math.max(this.#username.windowSeconds, this.#address.windowSeconds) * 1000
          await trx.deleteFrom('gatehouse_login_throttle').where('last_failure_at', '<', horizon).execute()
        }
        return { allowed: true }
      })
      this.#recovered()
      this.#remember(keys, waits, Date.now())
    } catch (error) {
      for (const blocked of refreshing) blocked.refreshing = false
      this.#unavailable(error)
      return this.#fallback.begin(attempt)
    }
    return decision
  }

  /** A refusal from memory when one of the keys is in a back-off the database decided lately. */
  #rememberedRefusal(keys: readonly Key[], now: number): ThrottleDecision | undefined {
    let until = 0
    for (const { key } of keys) {
      const blocked = this.#blocked.get(key)
      if (blocked === undefined) continue
      if (now >= blocked.until) {
        if (!blocked.refreshing) this.#blocked.delete(key)
        continue
      }
      if (now < blocked.trustUntil || blocked.refreshing) until = Math.max(until, blocked.until)
    }
    return until > now ? { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) } : undefined
  }

  /** Remembers the keys the database refused (and forgets the others of the attempt). */
  #remember(keys: readonly Key[], waits: ReadonlyMap<string, number>, now: number): void {
    for (const { key } of keys) {
      this.#blocked.delete(key)
      const wait = waits.get(key)
      if (wait === undefined || this.#memoMs === 0) continue
      if (this.#blocked.size >= BLOCK_MEMO_MAX_KEYS) this.#blocked.delete(this.#blocked.keys().next().value!)
      this.#blocked.set(key, { until: now + wait * 1000, trustUntil: now + Math.min(wait * 1000, this.#memoMs), refreshing: false })
    }
  }

  #forget(attempt: LoginAttempt): void {
    for (const { key } of this.#keys(attempt)) this.#blocked.delete(key)
  }

  async succeeded(attempt: LoginAttempt): Promise<void> {
    this.#forget(attempt)
    await this.#fallback.succeeded(attempt)
    const [user, address] = this.#keys(attempt)
    await this.#update((trx) =>
      trx
        .deleteFrom('gatehouse_login_throttle')
        .where('key', '=', user!.key)
        .execute()
        .then(() => address && takeBack(trx, address.key)),
    )
  }

  async abandoned(attempt: LoginAttempt): Promise<void> {
    this.#forget(attempt)
    await this.#fallback.abandoned(attempt)
    await this.#update(async (trx) => {
      for (const { key } of this.#keys(attempt)) await takeBack(trx, key)
    })
  }

  async #update(run: (trx: Transaction<GatehouseSchema>) => Promise<unknown>): Promise<void> {
    try {
      await this.#db.write(run)
      this.#recovered()
    } catch (error) {
      this.#unavailable(error)
    }
  }

  #keys(attempt: LoginAttempt): Key[] {
    return throttleKeys(attempt, { username: this.#username, address: this.#address }).map(({ key, policy }) => ({ key: this.#digest(key), policy }))
  }

  #digest(key: string): string {
    let hex = this.#digests.get(key)
    if (hex === undefined) {
      hex = digest(key)
      if (this.#digests.size >= BLOCK_MEMO_MAX_KEYS) this.#digests.delete(this.#digests.keys().next().value!)
      this.#digests.set(key, hex)
    }
    return hex
  }

  #unavailable(error: unknown): void {
    if (!isAuthError(error, 'ERR_STORE_UNAVAILABLE')) throw error
    if (!this.#degraded) this.#logger.warn({ err: error.message }, 'login throttle: database unavailable, counting in memory')
    this.#degraded = true
  }

  #recovered(): void {
    if (!this.#degraded) return
    this.#degraded = false
    this.#logger.warn({}, 'login throttle: database available again')
  }
}

/** One advance count taken back (never below zero). */
async function takeBack(trx: Transaction<GatehouseSchema>, key: string): Promise<void> {
  await trx
    .updateTable('gatehouse_login_throttle')
    .set((eb) => ({
      failures: eb
        .case()
        .when('failures', '>', 0)
        .then(eb('failures', '-', 1))
        .else(0)
        .end(),
    }))
    .where('key', '=', key)
    .execute()
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

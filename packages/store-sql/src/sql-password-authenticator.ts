import type { AuthMetrics, AuthResult, Credentials, Logger, PasswordHasher, UserStore } from '@gatehouse/core'
import { NOOP_LOGGER, PasswordAuthenticator } from '@gatehouse/core'

/** Options of {@link SQLPasswordAuthenticator}. */
export interface SQLPasswordAuthenticatorOptions {
  readonly store: UserStore
  readonly hasher: PasswordHasher
  /** Authenticator id, and `source` of the users it vouches for. @default 'sql' */
  readonly id?: string
  /**
   * Passwords longer than this (UTF-8 bytes) are rejected without touching the store or argon2.
   * No stored password can be that long, since the policy refuses them. @default 1024
   */
  readonly maxPasswordBytes?: number
}

/**
 * Logs users of the SQL store in. It is core's {@link PasswordAuthenticator} — one verify for
 * every attempt (a dummy one for unknown users), so unknown, disabled and wrong-password users
 * get the same answer in the same time; rehash on login through the store's compare-and-swap;
 * sessions resumed only while the store's session version matches — with the id `sql` and a
 * hard password-size limit in front.
 *
 * The time of a login (`recordLogin`, a write transaction) is recorded while the answer goes
 * out rather than before it: it is bookkeeping, and waiting for it kept every login's answer a
 * write longer. A write that fails is logged (the login stands); `close()` — which `auth.close()`
 * calls — waits for the writes still running.
 *
 * @example
 * ```ts
 * const sql = await openSQLStore()
 * const auth = createAuth({ roles, authenticators: [sql.authenticator], store: sql.store, throttle: sql.throttle, session })
 * ```
 */
export class SQLPasswordAuthenticator extends PasswordAuthenticator {
  readonly #maxPasswordBytes: number
  readonly #hasher: PasswordHasher
  readonly #store: UserStore
  /** `recordLogin` writes still running: the login does not wait for them, `close()` does. */
  readonly #writes = new Set<Promise<void>>()
  #logger: Logger = NOOP_LOGGER

  constructor(options: SQLPasswordAuthenticatorOptions) {
    super({ id: options.id ?? 'sql', store: options.store, hasher: options.hasher })
    this.#store = options.store
    this.#hasher = options.hasher
    this.#maxPasswordBytes = options.maxPasswordBytes ?? 1024
    if (!Number.isInteger(this.#maxPasswordBytes) || this.#maxPasswordBytes < 1) {
      throw new TypeError('SQLPasswordAuthenticator: maxPasswordBytes must be a positive integer')
    }
  }

  /** Called by `createAuth`: a hasher that reports its queue (the Argon2 hasher) gets the app's metrics. */
  attach(args: { readonly logger: Logger; readonly metrics: AuthMetrics }): void {
    this.#logger = args.logger
    const hasher = this.#hasher as PasswordHasher & { attach?: (args: { readonly metrics: AuthMetrics }) => void }
    if (typeof hasher.attach === 'function') hasher.attach({ metrics: args.metrics })
  }

  override async authenticate(args: { readonly credentials: Credentials; readonly request: Request }): Promise<AuthResult> {
    const { password, username } = args.credentials
    if (typeof password !== 'string' || typeof username !== 'string') return { outcome: 'rejected', reason: 'invalid-credentials' }
    // Empty or oversized passwords can match no account: refuse before any work. The login
    // route already answers 400/413 for them, so this adds no timing signal there.
    if (password === '' || Buffer.byteLength(password) > this.#maxPasswordBytes) return { outcome: 'rejected', reason: 'invalid-credentials' }
    return super.authenticate(args)
  }

  /** Starts the write and resolves at once; a write that fails is logged, the login stands. */
  protected override recordLogin(args: { readonly id: string; readonly at: Date }): Promise<void> {
    const write: Promise<void> = this.#store
      .recordLogin(args)
      .catch((error: unknown) => this.#logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'the time of a login could not be recorded'))
      .finally(() => this.#writes.delete(write))
    this.#writes.add(write)
    return Promise.resolve()
  }

  /** Waits for the login times still being written. */
  async close(): Promise<void> {
    while (this.#writes.size > 0) await Promise.allSettled([...this.#writes])
  }
}

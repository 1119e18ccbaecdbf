import type { BackoffPolicy, Logger } from '@gatehouse/core'
import { NOOP_LOGGER } from '@gatehouse/core'
import { Accounts } from './accounts.js'
import type { Argon2HasherOptions } from './argon2-hasher.js'
import { Argon2Hasher } from './argon2-hasher.js'
import { DEFAULT_DB_URI } from './database-uri.js'
import type { SchemaStatus } from './migrations/migrations.js'
import type { PasswordPolicyOptions } from './password-policy.js'
import { resolvePasswordPolicy } from './password-policy.js'
import type { PostgresOptions, SQLiteOptions } from './sql-database.js'
import { SQLDatabase } from './sql-database.js'
import { SQLLoginThrottle } from './sql-login-throttle.js'
import { SQLPasswordAuthenticator } from './sql-password-authenticator.js'
import { SQLUserStore } from './sql-user-store.js'

/** Options of {@link openSQLStore}. */
export interface SQLStoreOptions {
  /**
   * Which database: `postgres://…` / `postgresql://…` (a pg pool), `sqlite:<path>` or a bare file
   * path (embedded SQLite, relative to the working directory). The library never reads the
   * environment: applications pass `process.env.AUTH_DB_URI`. @default DEFAULT_DB_URI (`./gatehouse.db`)
   */
  readonly uri?: string | undefined
  /** argon2id parameters and concurrency. @default { memoryCost: 19456, timeCost: 2, parallelism: 1, maxConcurrency: 2 } */
  readonly hasher?: Argon2HasherOptions
  /**
   * New-password rules for `accounts` (the CLI, the demo). Pass the application's name as a
   * context word (`{ contextWords: ['Acme Notes', 'Acme'] }`). @default { minLength: 8, maxLength: 1024 }, the shipped blocklist
   */
  readonly passwordPolicy?: PasswordPolicyOptions
  /** Login throttle back-off. @default core's USERNAME_BACKOFF and ADDRESS_BACKOFF */
  readonly throttle?: { readonly username?: Partial<BackoffPolicy>; readonly address?: Partial<BackoffPolicy> }
  /** @default NOOP_LOGGER */
  readonly logger?: Logger
  /** Apply pending migrations on open. Without it, `migrate()` must be called first. @default true */
  readonly migrate?: boolean
  /** SQLite tuning (busy timeout, change polling). @default { busyTimeoutMs: 5000, pollIntervalMs: 250 } */
  readonly sqlite?: SQLiteOptions
  /** PostgreSQL pool and deadlines. @default POSTGRES_DEFAULTS: { poolSize: 10, connectTimeoutMs: 2500, statementTimeoutMs: 5000, lockTimeoutMs: 2500, idleTimeoutMs: 10000 } */
  readonly postgres?: PostgresOptions
}

/** Everything `openSQLStore` opens, sharing one database. */
export interface SQLStore {
  /**
   * The wiring `createAuth` needs from this store, in one piece, so none of it is forgotten:
   * `createAuth({ ...sql.authOptions, roles, session })`. Add authenticators after the SQL one with
   * `authenticators: [...sql.authOptions.authenticators, ldap]`.
   */
  readonly authOptions: {
    readonly authenticators: readonly [SQLPasswordAuthenticator]
    readonly store: SQLUserStore
    readonly throttle: SQLLoginThrottle
  }
  /** The user store and logout revocation list, with `subscribe()`: pass it as `createAuth({ store })`. */
  readonly store: SQLUserStore
  readonly hasher: Argon2Hasher
  /** Password login against the store, id `sql`. */
  readonly authenticator: SQLPasswordAuthenticator
  /** Login throttle shared by every instance on this database: pass it as `createAuth({ throttle })`. */
  readonly throttle: SQLLoginThrottle
  /** Operator verbs by username (CLI, demo). */
  readonly accounts: Accounts
  readonly dialect: 'sqlite' | 'postgres'
  /**
   * The database underneath, for companion packages that keep their own tables next to the
   * store's (`migrateCompanion`, `transaction`, `listen`): the same connections, write queue and
   * deadlines. Closed by `close()`.
   */
  readonly database: SQLDatabase
  /** The URI with any password masked. */
  readonly displayURI: string
  /** Applies pending migrations; idempotent and safe when several processes run it at once. */
  migrate(): Promise<void>
  schemaStatus(): Promise<SchemaStatus>
  /** Closes connections and stops listening. Idempotent. */
  close(): Promise<void>
}

/**
 * Opens Gatehouse's SQL store: connects (and checks the database answers), refuses a schema
 * newer than this version knows, applies migrations unless told not to, and starts following
 * other processes' changes.
 *
 * Throws `TypeError` for an unusable URI, `StoreUnavailableError` when the database cannot be
 * opened or reached, and an `AuthError` with code `ERR_MISCONFIGURED` for a newer schema; every
 * message names the URI with its password masked.
 *
 * How fast a change reaches other processes (their session caches):
 * - PostgreSQL: `LISTEN/NOTIFY`, milliseconds; while the listener is reconnecting, the session
 *   cache TTL of `createAuth` (5 s by default) bounds it, and every cache is dropped on reconnect.
 * - SQLite: another process's commit is noticed within `sqlite.pollIntervalMs` (250 ms) and drops
 *   every cached session.
 * Writes through this store reach this process's caches at once.
 *
 * @example
 * ```ts
 * const sql = await openSQLStore({ uri: process.env.AUTH_DB_URI, logger })
 * const auth = createAuth({
 *   roles,
 *   authenticators: [sql.authenticator],
 *   store: sql.store,
 *   throttle: sql.throttle,
 *   session: { secret: process.env.AUTH_SECRET! },
 * })
 * ```
 */
export async function openSQLStore(options: SQLStoreOptions = {}): Promise<SQLStore> {
  // Everything that can be checked without a database is checked first.
  const hasher = new Argon2Hasher(options.hasher)
  const { maxLength } = resolvePasswordPolicy(options.passwordPolicy)
  const logger = options.logger ?? NOOP_LOGGER
  const database = await SQLDatabase.open({ uri: options.uri ?? DEFAULT_DB_URI, logger, sqlite: options.sqlite, postgres: options.postgres })
  try {
    if (options.migrate ?? true) await database.migrate()
    else await database.assertSchemaNotNewer()
    await database.watch()
  } catch (error) {
    await database.close()
    throw error
  }
  const store = new SQLUserStore({ database })
  const authenticator = new SQLPasswordAuthenticator({ store, hasher, maxPasswordBytes: Math.max(maxLength, hasher.maxPasswordBytes) })
  const throttle = new SQLLoginThrottle({ database, username: options.throttle?.username, address: options.throttle?.address, logger })
  const accounts = new Accounts({ store, hasher, passwordPolicy: options.passwordPolicy })
  return Object.freeze({
    authOptions: Object.freeze({ authenticators: Object.freeze([authenticator] as const), store, throttle }),
    store,
    hasher,
    authenticator,
    throttle,
    accounts,
    dialect: database.dialect,
    database,
    displayURI: database.displayURI,
    async migrate() {
      await database.migrate()
    },
    schemaStatus: () => database.schemaStatus(),
    close: () => database.close(),
  })
}

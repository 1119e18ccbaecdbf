import { randomUUID } from 'node:crypto'
import type { Logger, UserChange } from '@gatehouse/core'
import { NOOP_LOGGER, StoreUnavailableError } from '@gatehouse/core'
import type { Transaction } from 'kysely'
import { Kysely, PostgresDialect, sql } from 'kysely'
import type pg from 'pg'
import { ChangeFeed } from './change-feed.js'
import type { DatabaseTarget } from './database-uri.js'
import { parseDatabaseURI } from './database-uri.js'
import type { CompanionMigrations } from './migrations/companion-migrations.js'
import { migrateCompanion } from './migrations/companion-migrations.js'
import type { SchemaStatus } from './migrations/migrations.js'
import { assertSchemaNotNewer, migrateToLatest, readSchemaStatus } from './migrations/migrations.js'
import { CHANGE_CHANNEL, PostgresChangeListener } from './postgres-change-listener.js'
import type { NotificationListener } from './postgres-notification-listener.js'
import { PostgresNotificationListener } from './postgres-notification-listener.js'
import type { GatehouseSchema } from './schema.js'
import type { SQLiteDialect } from './sqlite-dialect.js'
import { toStoreError } from './store-errors.js'

/** SQLite tuning. */
export interface SQLiteOptions {
  /**
   * How long a write waits for another process's write lock before failing with
   * `StoreUnavailableError` (and, apart from that, at most as long for this process's earlier
   * writes). The wait is asynchronous: other requests and timers go on meanwhile. @default 5000
   */
  readonly busyTimeoutMs?: number
  /**
   * How often to look for commits of other processes (`PRAGMA data_version`, a few µs). When one
   * is seen, every cached session is dropped, so a CLI in another process ends sessions in the
   * running app within about this long. @default 250
   */
  readonly pollIntervalMs?: number
}

/**
 * PostgreSQL tuning. Every wait has a deadline, so that a locked table or a slow server costs a
 * request a few seconds and a `StoreUnavailableError` (503), never a connection held for as long
 * as the lock lasts: without them, ten requests waiting behind one `LOCK TABLE` empty the pool
 * and every later request, even one that needs no lock, queues behind them.
 *
 * A request that first queues for a connection and then waits for a lock fails after at most
 * `connectTimeoutMs + lockTimeoutMs`: the defaults (2.5 s each) keep that at 5 s even when more
 * requests wait than the pool has connections. `statementTimeoutMs` bounds a statement's own run
 * time (a slow or overloaded server), lock waits included.
 */
export interface PostgresOptions {
  /** Connections in the pool. @default 10 */
  readonly poolSize?: number
  /**
   * How long to wait for a connection, from the pool or a new one (pg's `connectionTimeoutMillis`),
   * before answering "unavailable". Also bounds each connect of the change listener. @default 2500
   */
  readonly connectTimeoutMs?: number
  /**
   * PostgreSQL's `statement_timeout` for the pool's connections: the server cancels a statement
   * that runs longer (SQLSTATE 57014). Lifted while migrating (see {@link SQLDatabase.migrate}).
   * @default 5000
   */
  readonly statementTimeoutMs?: number
  /**
   * PostgreSQL's `lock_timeout`: the server gives up on a statement that waits longer than this
   * for a table or row lock (SQLSTATE 55P03), e.g. behind `LOCK TABLE` or a long `ALTER TABLE`.
   * @default 2500
   */
  readonly lockTimeoutMs?: number
  /** Idle pool connections are closed after this long. @default 10000 */
  readonly idleTimeoutMs?: number
}

/** The PostgreSQL defaults, as documented on {@link PostgresOptions}. */
export const POSTGRES_DEFAULTS = Object.freeze({ poolSize: 10, connectTimeoutMs: 2500, statementTimeoutMs: 5000, lockTimeoutMs: 2500, idleTimeoutMs: 10_000 })

/** Options of {@link SQLDatabase.open}. */
export interface SQLDatabaseOptions {
  /** @default DEFAULT_DB_URI (`./gatehouse.db`) */
  readonly uri?: string | undefined
  /** @default NOOP_LOGGER */
  readonly logger?: Logger | undefined
  /** @default { busyTimeoutMs: 5000, pollIntervalMs: 250 } */
  readonly sqlite?: SQLiteOptions | undefined
  /** @default POSTGRES_DEFAULTS: { poolSize: 10, connectTimeoutMs: 2500, statementTimeoutMs: 5000, lockTimeoutMs: 2500, idleTimeoutMs: 10000 } */
  readonly postgres?: PostgresOptions | undefined
}

interface Backend {
  readonly kysely: Kysely<GatehouseSchema>
  /** Sends changes to other processes from inside the writing transaction (delivered at commit). */
  publish?(trx: Transaction<GatehouseSchema>, changes: readonly UserChange[]): Promise<void>
  watch(feed: ChangeFeed): Promise<void>
  /** PostgreSQL only: a dedicated LISTEN connection for a companion's channel. */
  listen?(channel: string, listener: NotificationListener): Promise<() => Promise<void>>
  close(): Promise<void>
}

/** A companion's notification channel: `gatehouse_` and a plain lower-case identifier. */
const COMPANION_CHANNEL = /^gatehouse_[a-z0-9_]{1,40}$/

/**
 * One database behind the store, the throttle and the revocation list: a Kysely instance for
 * SQLite or PostgreSQL, the change feed, and the two ways in — {@link SQLDatabase.read} and
 * {@link SQLDatabase.write} — which turn "database down" into `StoreUnavailableError`.
 * Created by `openSQLStore`; exported for code that builds the parts itself.
 */
export class SQLDatabase {
  readonly dialect: 'sqlite' | 'postgres'
  /** The URI with any password masked. */
  readonly displayURI: string
  readonly kysely: Kysely<GatehouseSchema>
  readonly #backend: Backend
  readonly #feed: ChangeFeed
  readonly #logger: Logger
  #watching = false
  #closed: Promise<void> | undefined

  private constructor(target: DatabaseTarget, backend: Backend, logger: Logger, feed: ChangeFeed) {
    this.dialect = target.dialect
    this.displayURI = target.displayURI
    this.kysely = backend.kysely
    this.#backend = backend
    this.#logger = logger
    this.#feed = feed
  }

  /**
   * Opens the database and checks that it answers. A bad URI throws `TypeError`; a database that
   * cannot be opened or reached throws `StoreUnavailableError`; both name the URI without password.
   */
  static async open(options: SQLDatabaseOptions = {}): Promise<SQLDatabase> {
    const target = parseDatabaseURI(options.uri ?? undefined)
    const postgres = resolvePostgresOptions(options.postgres ?? {})
    const logger = options.logger ?? NOOP_LOGGER
    const feed = new ChangeFeed(logger)
    const backend = target.dialect === 'postgres' ? await postgresBackend(target.connectionString, postgres, logger) : await sqliteBackend(target.path, options.sqlite ?? {}, feed, logger)
    const database = new SQLDatabase(target, backend, logger, feed)
    try {
      await sql`select 1`.execute(backend.kysely)
    } catch (error) {
      await backend.close().catch(() => {})
      const reason = (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error))
      throw new StoreUnavailableError(`cannot open the user store at ${target.displayURI} (${reason})`, { cause: error })
    }
    return database
  }

  /** Runs reads; a database that cannot be reached becomes `StoreUnavailableError`. */
  async read<T>(run: (db: Kysely<GatehouseSchema>) => Promise<T>): Promise<T> {
    try {
      return await run(this.kysely)
    } catch (error) {
      throw toStoreError(error, this.displayURI)
    }
  }

  /**
   * Runs `run` as one write transaction: all of it or nothing. Changes passed to `changed` are
   * published to other processes inside the transaction (PostgreSQL NOTIFY, delivered at commit)
   * and emitted to local subscribers right after the commit.
   */
  async write<T>(run: (trx: Transaction<GatehouseSchema>, changed: (change: UserChange) => void) => Promise<T>): Promise<T> {
    const changes: UserChange[] = []
    let result: T
    try {
      result = await this.kysely.transaction().execute(async (trx) => {
        const value = await run(trx, (change) => changes.push(change))
        if (changes.length > 0) await this.#backend.publish?.(trx, changes)
        return value
      })
    } catch (error) {
      throw toStoreError(error, this.displayURI)
    }
    for (const change of changes) this.#feed.emit(change)
    return result
  }

  /** Reports changes made here (at once) and in other processes (see the dialect notes). */
  subscribe(listener: (change: UserChange) => void): () => void {
    return this.#feed.subscribe(listener)
  }

  /** Applies pending migrations (idempotent, safe across processes). Returns the names applied. */
  async migrate(): Promise<string[]> {
    return this.#migrating((db) => migrateToLatest(db, this.displayURI))
  }

  /**
   * For companion packages (a policy store, say): applies their migrations through the same
   * migrator and locks as the store's own, recorded in their own history table
   * `gatehouse_<name>_migration`, which the store's "unknown migration" check never reads. A
   * history holding a migration the companion does not know (a newer version migrated the
   * database) is refused with `ERR_MISCONFIGURED`; a bad name is a `TypeError`. Idempotent and safe
   * across processes, like {@link SQLDatabase.migrate}. Returns the names applied.
   *
   * @example
   * ```ts
   * await database.migrateCompanion({ name: 'casbin', migrations: { '0001-rules': { up: async (db) => {} } } })
   * ```
   */
  async migrateCompanion(companion: CompanionMigrations): Promise<string[]> {
    return this.#migrating((db) => migrateCompanion(db, companion, this.displayURI))
  }

  async #migrating(run: (db: Kysely<any>) => Promise<string[]>): Promise<string[]> {
    try {
      if (this.dialect === 'sqlite') return await run(this.kysely)
      // On one connection without statement_timeout: an instance that starts while another one
      // migrates waits for Kysely's migration lock (its own lock_timeout: one hour) instead of
      // failing to open after a few seconds, and a long CREATE INDEX may finish. lock_timeout stays
      // for the DDL itself, which gives up rather than queue every other query behind it.
      return await this.kysely.connection().execute(async (db) => {
        await sql`set statement_timeout = 0`.execute(db)
        try {
          return await run(db)
        } finally {
          // Back to the connection's startup value (the configured statementTimeoutMs).
          await sql`reset statement_timeout`.execute(db)
        }
      })
    } catch (error) {
      throw toStoreError(error, this.displayURI)
    }
  }

  /**
   * For companion packages: runs `run` as one write transaction on their own tables, typed by
   * their own schema. On SQLite it waits its turn in the same in-process write queue as the
   * store's writes (two writers of one process never collide); on PostgreSQL it is a pool
   * transaction with the pool's deadlines. All of it or nothing; "database down" becomes
   * `StoreUnavailableError`, other errors pass through. A `pg_notify` sent inside it is delivered
   * at commit.
   */
  async transaction<DB, T>(run: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    try {
      return await (this.kysely as unknown as Kysely<DB>).transaction().execute(run)
    } catch (error) {
      throw toStoreError(error, this.displayURI)
    }
  }

  /**
   * For companion packages, PostgreSQL only (`undefined` on SQLite, which has no notifications:
   * poll there): keeps a dedicated connection in `LISTEN <channel>` (`gatehouse_` and a
   * lower-case identifier, else a `TypeError`) and calls `listener.onNotify` for every NOTIFY on it,
   * and `listener.onReconnect` when the connection is back after a loss (notifications sent
   * meanwhile are gone). It reconnects with a back-off of 0.25 s doubling to 5 s. Never throws for
   * a connection failure. Resolves to a function that stops listening; {@link SQLDatabase.close}
   * stops it too.
   */
  async listen(channel: string, listener: NotificationListener): Promise<(() => Promise<void>) | undefined> {
    if (typeof channel !== 'string' || !COMPANION_CHANNEL.test(channel) || channel === CHANGE_CHANNEL) {
      throw new TypeError(`SQLDatabase.listen: channel must match ${COMPANION_CHANNEL} and not be the store's own (got ${JSON.stringify(channel)})`)
    }
    if (typeof listener?.onNotify !== 'function') throw new TypeError('SQLDatabase.listen: listener.onNotify must be a function')
    if (this.#backend.listen === undefined || this.#closed) return undefined
    return this.#backend.listen(channel, listener)
  }

  async schemaStatus(): Promise<SchemaStatus> {
    return this.read((db) => readSchemaStatus(db))
  }

  /** Throws `ERR_MISCONFIGURED` when a newer version of the store migrated this database. */
  async assertSchemaNotNewer(): Promise<void> {
    assertSchemaNotNewer(await this.schemaStatus(), this.displayURI)
  }

  /** Starts following other processes' changes (LISTEN or data_version polling). Idempotent. */
  async watch(): Promise<void> {
    if (this.#watching || this.#closed) return
    this.#watching = true
    await this.#backend.watch(this.#feed)
  }

  /** Stops timers and listeners and closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#backend.close().catch((error: unknown) => {
      this.#logger.warn({ err: String(error) }, 'error while closing the user store')
    })
    return this.#closed
  }
}

/** Checks the PostgreSQL options (a `TypeError` at open, also for SQLite URIs) and fills in defaults. */
export function resolvePostgresOptions(options: PostgresOptions): Required<PostgresOptions> {
  const resolved = { ...POSTGRES_DEFAULTS, ...stripUndefined(options) }
  for (const [name, value] of Object.entries(resolved)) {
    // 0 would mean "wait forever" to pg and PostgreSQL: exactly what these deadlines exist to prevent.
    if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) throw new TypeError(`postgres.${name} must be a positive integer (got ${String(value)})`)
  }
  return resolved
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

async function postgresBackend(connectionString: string, options: Required<PostgresOptions>, logger: Logger): Promise<Backend> {
  const { connectTimeoutMs } = options
  // Loaded only for PostgreSQL: an SQLite deployment starts without it (≈ 80 ms of a cold start).
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize,
    // Covers both waiting for a free pool connection and opening a new one.
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    // Sent in the startup packet, so they hold for every statement on every pool connection
    // without an extra round trip; the server enforces them even if this process stalls.
    statement_timeout: options.statementTimeoutMs,
    lock_timeout: options.lockTimeoutMs,
    application_name: 'gatehouse',
    // int8 (times in ms, counts) as numbers; the pool's own parser, not pg's global one.
    types: { getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === 20 ? parseInt8 : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser },
  })
  // A connection that breaks (server restart, pg_terminate_backend) emits 'error'; without a
  // listener that would crash the process. The pool drops idle ones itself; a checked-out one
  // (between two statements of a transaction) needs its own listener, and the pool discards it
  // at release because it is no longer queryable. The failed query reports the error to its caller.
  pool.on('error', (error) => logger.warn({ err: error.message }, 'idle PostgreSQL connection lost'))
  pool.on('connect', (client) => {
    client.on('error', (error) => logger.warn({ err: error.message }, 'PostgreSQL connection lost'))
  })
  const kysely = new Kysely<GatehouseSchema>({ dialect: new PostgresDialect({ pool }) })
  const origin = randomUUID()
  let listener: PostgresChangeListener | undefined
  const companions = new Set<PostgresNotificationListener>()
  return {
    kysely,
    async publish(trx, changes) {
      let payload = JSON.stringify({ origin, changes })
      // NOTIFY refuses payloads of 8000 bytes or more, which would fail the whole write: say
      // "everything may have changed" instead, which every listener handles.
      if (Buffer.byteLength(payload) > MAX_NOTIFY_BYTES) payload = JSON.stringify({ origin, changes: [{ type: 'all' }] })
      await sql`select pg_notify(${CHANGE_CHANNEL}, ${payload})`.execute(trx)
    },
    async watch(feed) {
      listener = new PostgresChangeListener({ connectionString, connectTimeoutMs, origin, feed, logger })
      await listener.start()
    },
    async listen(channel, notificationListener) {
      const companion = new PostgresNotificationListener({ connectionString, connectTimeoutMs, channel, listener: notificationListener, logger })
      companions.add(companion)
      await companion.start()
      return async () => {
        companions.delete(companion)
        await companion.close()
      }
    },
    async close() {
      await listener?.close()
      await Promise.all([...companions].map((companion) => companion.close()))
      await kysely.destroy()
    },
  }
}

const MAX_NOTIFY_BYTES = 7900

function parseInt8(value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} exceeds JavaScript's safe integers`)
  return n
}

async function sqliteBackend(path: string, options: SQLiteOptions, feed: ChangeFeed, logger: Logger): Promise<Backend> {
  // Loaded only for SQLite: a PostgreSQL deployment never loads libsql's native module.
  const { SQLiteDialect } = await import('./sqlite-dialect.js')
  // `seen` is the data_version after our own last commit. A different value means another
  // process (or another store on the same file) committed: drop every cached session.
  let seen: number | undefined
  const observe = (version: number) => {
    if (seen !== undefined && version !== seen) feed.emit({ type: 'all' })
    seen = version
  }
  const dialect: SQLiteDialect = new SQLiteDialect({
    path,
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
    // Inside our write lock nobody else can commit, so a change seen here is foreign, and the
    // change seen right after our COMMIT is our own.
    afterBegin: async () => observe(await dialect.driver.dataVersion()),
    afterCommit: async () => {
      seen = await dialect.driver.dataVersion()
    },
  })
  const kysely = new Kysely<GatehouseSchema>({ dialect })
  let timer: NodeJS.Timeout | undefined
  return {
    kysely,
    async watch() {
      observe(await dialect.driver.dataVersion())
      const intervalMs = options.pollIntervalMs ?? 250
      let polling = false
      timer = setInterval(() => {
        if (polling) return
        polling = true
        dialect.driver
          .dataVersion()
          .then(observe, (error: unknown) => logger.debug({ err: String(error) }, 'SQLite change poll failed'))
          .finally(() => {
            polling = false
          })
      }, intervalMs)
      // The poll must never keep a CLI or a test process alive.
      timer.unref()
    },
    async close() {
      clearInterval(timer)
      await kysely.destroy()
    },
  }
}

// The file-only client: `@libsql/client` itself also loads its HTTP and WebSocket clients (ws,
// hrana), which a local SQLite file never uses (≈ 100 KB of code at every start).
import type { Client, InValue, ResultSet } from '@libsql/client/sqlite3'
import { createClient } from '@libsql/client/sqlite3'
import type { CompiledQuery, DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult } from 'kysely'
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely'
import { libsqlFileURL } from './database-uri.js'
import { Semaphore, SemaphoreTimeoutError } from './semaphore.js'

/** Options of {@link SQLiteDialect}. */
export interface SQLiteDialectConfig {
  /** Absolute path of the database file. */
  readonly path: string
  /**
   * How long a write waits for another process's write lock before it fails with SQLITE_BUSY.
   * The wait is asynchronous: see {@link SQLiteDriver}.
   */
  readonly busyTimeoutMs: number
  /** Runs inside every write transaction right after `BEGIN IMMEDIATE` (the write lock is held). */
  readonly afterBegin?: () => Promise<void>
  /** Runs right after every `COMMIT`, before the next local write transaction may start. */
  readonly afterCommit?: () => Promise<void>
}

/**
 * SQLite's own busy wait on the writer, per attempt. SQLite sleeps inside the synchronous native
 * call, which blocks the event loop for as long as it waits, so it only covers a lock that is
 * about to go (another process's commit takes about a millisecond); longer waits are the
 * asynchronous retries of {@link SQLiteDriver}.
 */
export const NATIVE_BUSY_TIMEOUT_MS = 10

/** Pauses between two attempts at the write lock; the last one repeats. Each gets ±50 % jitter. */
const RETRY_DELAYS_MS = [2, 5, 10, 20, 40, 50]

// One write queue per database file and process: two connections of one process must never
// both try to write, or the second fails with SQLITE_BUSY (or freezes the event loop for the
// whole busy timeout while the first cannot finish). Shared by every store opened on the file.
const writeQueues = new Map<string, { queue: Semaphore; users: number }>()

/**
 * Kysely dialect for an SQLite file through `@libsql/client` (the 0.15 line, prebuilt for
 * Node 20), shaped by what toolchain measurements showed:
 *
 * - Two fixed connections. Writes and transactions go to the writer, serialized by an in-process
 *   queue and opened with `BEGIN IMMEDIATE`, so they take the write lock up front instead of
 *   failing half-way. Plain SELECTs go to the reader (`query_only`), which in WAL mode sees the
 *   last committed state and never waits for a writer, and never sees an open transaction.
 * - Waiting for another process's write lock does not freeze the event loop. SQLite's busy handler
 *   sleeps inside the synchronous native call, so a busy timeout of 5 s used to stop every timer
 *   and request of the process for up to 5 s. The writer's busy timeout is
 *   {@link NATIVE_BUSY_TIMEOUT_MS}; a `BEGIN IMMEDIATE` (or a write outside a transaction) that
 *   still gets SQLITE_BUSY is tried again after an asynchronous pause (2 ms growing to 50 ms),
 *   until `busyTimeoutMs` has passed since it held this process's write queue, and then fails
 *   with that SQLITE_BUSY (the store turns it into `StoreUnavailableError`).
 * - WAL journal, and `busy_timeout` + `foreign_keys` set once per connection. `@libsql/kysely-libsql`
 *   is not used: its transactions go through `client.transaction()`, which hands the connection
 *   to the transaction and opens a fresh one afterwards, losing those per-connection settings at
 *   every write (and it bundles an older @libsql/client unless given one).
 * - The adapter reports transactional DDL (which SQLite has), so Kysely's migrator runs the whole
 *   migration in one write transaction: two processes migrating at once serialize on the lock.
 */
export class SQLiteDialect implements Dialect {
  readonly driver: SQLiteDriver

  constructor(config: SQLiteDialectConfig) {
    this.driver = new SQLiteDriver(config)
  }

  createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter()
  }

  createDriver(): Driver {
    return this.driver
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db)
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler()
  }
}

class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}

/** The driver behind {@link SQLiteDialect}; see there. */
export class SQLiteDriver implements Driver {
  readonly #config: SQLiteDialectConfig
  #writer: Client | undefined
  #reader: Client | undefined
  #queue: Semaphore | undefined
  /** Set when a writer statement failed with SQLITE_BUSY: see {@link SQLiteDriver.markWriterStale}. */
  #writerStale = false

  constructor(config: SQLiteDialectConfig) {
    this.#config = config
  }

  get #busyTimeoutMs(): number {
    return Math.max(0, Math.floor(this.#config.busyTimeoutMs))
  }

  /** A new writer connection; one that meets SQLITE_BUSY is closed and the error thrown. */
  async #openWriter(): Promise<Client> {
    const writer = createClient({ url: libsqlFileURL(this.#config.path) })
    try {
      // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
      await writer.execute(`PRAGMA busy_timeout = ${Math.min(NATIVE_BUSY_TIMEOUT_MS, this.#busyTimeoutMs)}`)
      await writer.execute('PRAGMA journal_mode = WAL')
      await writer.execute('PRAGMA synchronous = NORMAL')
      await writer.execute('PRAGMA foreign_keys = ON')
    } catch (error) {
      writer.close()
      throw error
    }
    return writer
  }

  async init(): Promise<void> {
    const url = libsqlFileURL(this.#config.path)
    // A new file's switch to WAL waits for another process that is creating or migrating it.
    const writer = await untilUnlocked(() => this.#openWriter(), performance.now() + this.#busyTimeoutMs)
    try {
      const reader = createClient({ url })
      // In WAL mode a reader never waits for a writer, only for rare moments such as another
      // process's recovery of the WAL after a crash, so the reader keeps SQLite's own wait.
      await reader.execute(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`)
      await reader.execute('PRAGMA query_only = ON')
      this.#reader = reader
    } catch (error) {
      writer.close()
      throw error
    }
    this.#writer = writer
    const entry = writeQueues.get(this.#config.path) ?? { queue: new Semaphore(1), users: 0 }
    entry.users += 1
    writeQueues.set(this.#config.path, entry)
    this.#queue = entry.queue
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new SQLiteConnection(this)
  }

  /**
   * A statement that failed with SQLITE_BUSY (another process held the write lock past the busy
   * timeout) stays "in progress" inside @libsql/client, which never resets it; from then on every
   * COMMIT on that connection fails with "cannot commit transaction - SQL statements in progress",
   * so the store would never write again. The writer is replaced before its next use instead.
   */
  markWriterStale(): void {
    this.#writerStale = true
  }

  /** Waits for this process's write queue, at most the busy timeout. */
  async acquireWriter(): Promise<void> {
    try {
      await this.queue.acquire({ timeoutMs: this.#busyTimeoutMs })
    } catch (error) {
      if (!(error instanceof SemaphoreTimeoutError)) throw error
      // Without this bound, writes queued behind a busy lock wait one busy timeout each, in turn.
      throw Object.assign(new Error(`waited more than ${this.#busyTimeoutMs} ms for this process's earlier writes`, { cause: error }), { code: 'SQLITE_BUSY' })
    }
  }

  /**
   * Runs `statement` (a `BEGIN IMMEDIATE`, or a write outside a transaction) on the writer, the
   * caller holding the write queue; on SQLITE_BUSY waits asynchronously and tries again, for at
   * most the busy timeout. Safe because a statement that got SQLITE_BUSY did nothing.
   */
  async runOnWriter<R>(statement: Pick<CompiledQuery, 'sql' | 'parameters'>): Promise<QueryResult<R>> {
    return untilUnlocked(async () => {
      if (this.#writerStale) await this.#replaceWriter()
      return execute<R>(this.writer, statement, this)
    }, performance.now() + this.#busyTimeoutMs)
  }

  /**
   * Replaces a stale writer (see {@link SQLiteDriver.markWriterStale}) once the write lock is
   * free. Whether it is free is asked with `BEGIN IMMEDIATE` through `executeMultiple`
   * (`sqlite3_exec`, which finalizes its statement even when it fails, so asking leaves nothing
   * behind; @libsql/client rolls it back at once): a fresh connection is opened only when it has
   * a chance, not at every attempt. Throws SQLITE_BUSY while the lock is held.
   */
  async #replaceWriter(): Promise<void> {
    await this.writer.executeMultiple('BEGIN IMMEDIATE')
    const fresh = await this.#openWriter()
    this.#writer?.close()
    this.#writer = fresh
    this.#writerStale = false
  }

  async beginTransaction(connection: SQLiteConnection): Promise<void> {
    await this.acquireWriter()
    try {
      await this.runOnWriter({ sql: 'BEGIN IMMEDIATE', parameters: [] })
    } catch (error) {
      this.queue.release()
      throw error
    }
    connection.inTransaction = true
    try {
      await this.#config.afterBegin?.()
    } catch (error) {
      // Kysely rolls back only transactions whose begin succeeded: undo ours here, or the write
      // lock and the queue slot would stay taken and every later write would hang.
      await this.rollbackTransaction(connection)
      throw error
    }
  }

  async commitTransaction(connection: SQLiteConnection): Promise<void> {
    // If COMMIT throws, Kysely calls rollbackTransaction, which releases the queue.
    await execute(this.writer, { sql: 'COMMIT', parameters: [] }, this)
    try {
      await this.#config.afterCommit?.()
    } finally {
      this.#end(connection)
    }
  }

  async rollbackTransaction(connection: SQLiteConnection): Promise<void> {
    try {
      await this.writer.execute('ROLLBACK')
    } catch {
      // SQLite may already have rolled back (e.g. after an I/O error); nothing is left to undo.
    } finally {
      this.#end(connection)
    }
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    this.#reader?.close()
    this.#writer?.close()
    this.#reader = this.#writer = undefined
    const entry = writeQueues.get(this.#config.path)
    if (entry !== undefined && this.#queue !== undefined && --entry.users === 0) writeQueues.delete(this.#config.path)
    this.#queue = undefined
  }

  /** `PRAGMA data_version` on the reader: it changes whenever another connection commits. */
  async dataVersion(): Promise<number> {
    const result = await this.reader.execute('PRAGMA data_version')
    return Number(result.rows[0]?.[0])
  }

  get writer(): Client {
    if (this.#writer === undefined) throw closedError()
    return this.#writer
  }

  get reader(): Client {
    if (this.#reader === undefined) throw closedError()
    return this.#reader
  }

  get queue(): Semaphore {
    if (this.#queue === undefined) throw closedError()
    return this.#queue
  }

  #end(connection: SQLiteConnection): void {
    if (!connection.inTransaction) return
    connection.inTransaction = false
    this.queue.release()
  }
}

class SQLiteConnection implements DatabaseConnection {
  inTransaction = false
  readonly #driver: SQLiteDriver

  constructor(driver: SQLiteDriver) {
    this.#driver = driver
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const driver = this.#driver
    if (this.inTransaction) return execute(driver.writer, query, driver)
    if (query.query.kind === 'SelectQueryNode') return execute(driver.reader, query)
    // A write outside a transaction (DDL of the migrator, say) still waits its turn.
    await driver.acquireWriter()
    try {
      return await driver.runOnWriter<R>(query)
    } finally {
      driver.queue.release()
    }
  }

  // biome-ignore lint/correctness/useYield: Kysely's connection interface asks for a generator; this dialect never streams
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('SQLiteDialect does not stream; page with keyset queries instead')
  }
}

async function execute<R>(client: Client, query: Pick<CompiledQuery, 'sql' | 'parameters'>, writerOf?: SQLiteDriver): Promise<QueryResult<R>> {
  let result: ResultSet
  try {
    result = await client.execute({ sql: query.sql, args: query.parameters as InValue[] })
  } catch (error) {
    if (writerOf !== undefined && /^SQLITE_BUSY/.test(String((error as { code?: unknown }).code))) writerOf.markWriterStale()
    throw error
  }
  return {
    rows: result.rows as unknown as R[],
    numAffectedRows: BigInt(result.rowsAffected),
    ...(result.lastInsertRowid === undefined ? {} : { insertId: result.lastInsertRowid }),
  }
}

function isBusy(error: unknown): boolean {
  return /^SQLITE_BUSY/.test(String((error as { code?: unknown } | null)?.code))
}

/**
 * Calls `attempt` until it does not fail with SQLITE_BUSY, pausing asynchronously between
 * attempts (timers and requests run meanwhile); the last attempt starts at `deadline` at the
 * latest, and its SQLITE_BUSY is thrown.
 */
async function untilUnlocked<T>(attempt: () => Promise<T>, deadline: number): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      return await attempt()
    } catch (error) {
      const left = deadline - performance.now()
      if (!isBusy(error) || left <= 0) throw error
      const pause = RETRY_DELAYS_MS[Math.min(round, RETRY_DELAYS_MS.length - 1)]! * (0.5 + Math.random())
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)))
    }
  }
}

function closedError(): Error {
  return Object.assign(new Error('the client is closed'), { code: 'CLIENT_CLOSED' })
}

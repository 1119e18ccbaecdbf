import type { Client, InValue, ResultSet } from '@libsql/client'
import { createClient } from '@libsql/client'
import type { CompiledQuery, DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult } from 'kysely'
import { SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler } from 'kysely'
import { libsqlFileURL } from './database-uri.js'
import { Semaphore } from './semaphore.js'

/** Options of {@link SQLiteDialect}. */
export interface SQLiteDialectConfig {
  /** Absolute path of the database file. */
  readonly path: string
  /** How long a write waits for another process's write lock (it blocks the event loop meanwhile). */
  readonly busyTimeoutMs: number
  /** Runs inside every write transaction right after `BEGIN IMMEDIATE` (the write lock is held). */
  readonly afterBegin?: () => Promise<void>
  /** Runs right after every `COMMIT`, before the next local write transaction may start. */
  readonly afterCommit?: () => Promise<void>
}

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

  constructor(config: SQLiteDialectConfig) {
    this.#config = config
  }

  async init(): Promise<void> {
    const url = libsqlFileURL(this.#config.path)
    const timeout = Math.max(0, Math.floor(this.#config.busyTimeoutMs))
    const writer = createClient({ url })
    try {
      // busy_timeout first: switching to WAL needs a lock another process may hold for a moment.
      await writer.execute(`PRAGMA busy_timeout = ${timeout}`)
      await writer.execute('PRAGMA journal_mode = WAL')
      await writer.execute('PRAGMA synchronous = NORMAL')
      await writer.execute('PRAGMA foreign_keys = ON')
      const reader = createClient({ url })
      await reader.execute(`PRAGMA busy_timeout = ${timeout}`)
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

  async beginTransaction(connection: SQLiteConnection): Promise<void> {
    await this.queue.acquire()
    try {
      await this.writer.execute('BEGIN IMMEDIATE')
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
    await this.writer.execute('COMMIT')
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
    if (this.inTransaction) return execute(driver.writer, query)
    if (query.query.kind === 'SelectQueryNode') return execute(driver.reader, query)
    // A write outside a transaction (DDL of the migrator, say) still waits its turn.
    return driver.queue.run(() => execute(driver.writer, query))
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('SQLiteDialect does not stream; page with keyset queries instead')
  }
}

async function execute<R>(client: Client, query: CompiledQuery): Promise<QueryResult<R>> {
  const result: ResultSet = await client.execute({ sql: query.sql, args: query.parameters as InValue[] })
  return {
    rows: result.rows as unknown as R[],
    numAffectedRows: BigInt(result.rowsAffected),
    ...(result.lastInsertRowid === undefined ? {} : { insertId: result.lastInsertRowid }),
  }
}

function closedError(): Error {
  return Object.assign(new Error('the client is closed'), { code: 'CLIENT_CLOSED' })
}

import type { Logger } from '@gatehouse/core'
import { NOOP_LOGGER } from '@gatehouse/core'
import type { Adapter, Enforcer, Model } from 'casbin'
import type { Kysely, Migration, Transaction } from 'kysely'
import { sql } from 'kysely'
import type { TextSource } from './casbin-enforcer.js'
import { newCasbinEnforcer } from './casbin-enforcer.js'

/**
 * The part of `@gatehouse/store-sql`'s `SQLDatabase` this package uses (`openSQLStore(...).database`),
 * declared here so the package does not depend on the store: the store's Kysely instance, its write
 * path (SQLite's in-process write queue, PostgreSQL's deadlines), companion migrations with their
 * own history, and PostgreSQL notifications.
 */
export interface PolicyDatabase {
  readonly dialect: 'sqlite' | 'postgres'
  readonly displayURI: string
  read<T>(run: (db: Kysely<any>) => Promise<T>): Promise<T>
  transaction<DB, T>(run: (trx: Transaction<DB>) => Promise<T>): Promise<T>
  migrateCompanion(companion: { readonly name: string; readonly migrations: Readonly<Record<string, Migration>> }): Promise<string[]>
  listen(channel: string, listener: { onNotify(payload: string): void; onReconnect?(): void }): Promise<(() => Promise<void>) | undefined>
}

/** The tables of the SQL policy. */
export interface PolicySchema {
  /** One Casbin rule per row: `ptype` (`p`, `g`, `p2`, …) and up to six values, `''` when unused. */
  gatehouse_casbin_rules: { id: number; ptype: string; v0: string; v1: string; v2: string; v3: string; v4: string; v5: string }
  /** One row (id 1): bumped by every policy write, so other instances know to reload. */
  gatehouse_casbin_revision: { id: number; revision: number }
}

const RULES = 'gatehouse_casbin_rules'
const REVISION = 'gatehouse_casbin_revision'
/** The NOTIFY channel of policy changes on PostgreSQL. */
export const POLICY_CHANNEL = 'gatehouse_casbin'
const VALUES = ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'] as const

/** The SQL policy's migrations, kept in their own history table `gatehouse_casbin_migration`. */
export const POLICY_MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-casbin-rules': {
    async up(db: Kysely<any>) {
      let table = db.schema
        .createTable(RULES)
        .addColumn('id', 'bigint', (col) => col.primaryKey())
        .addColumn('ptype', 'varchar(32)', (col) => col.notNull())
      for (const v of VALUES) table = table.addColumn(v, 'varchar(1024)', (col) => col.notNull().defaultTo(''))
      await table.execute()
      await db.schema
        .createIndex(`${RULES}_unique`)
        .on(RULES)
        .columns(['ptype', ...VALUES])
        .unique()
        .execute()
      await db.schema
        .createTable(REVISION)
        .addColumn('id', 'integer', (col) => col.primaryKey())
        .addColumn('revision', 'bigint', (col) => col.notNull())
        .execute()
      await db.insertInto(REVISION).values({ id: 1, revision: 0 }).execute()
    },
  },
})

/** Options of {@link openSQLPolicy}. */
export interface SQLPolicyOptions {
  /** The store's database: `(await openSQLStore(...)).database`. */
  readonly database: PolicyDatabase
  /** The Casbin model (`.conf` text) or `{ file }`. */
  readonly model: TextSource
  /**
   * How often each instance also looks at the policy revision (one primary-key SELECT) and reloads
   * when another instance changed it. On SQLite this is how changes travel, so it bounds their
   * delay; on PostgreSQL changes arrive by LISTEN/NOTIFY within milliseconds and the poll only
   * covers a LISTEN connection that is down. @default 1000 on SQLite, 30000 on PostgreSQL
   */
  readonly reloadIntervalMs?: number
  /** Rules to write when the table is empty (first start), as Casbin CSV lines. @default none */
  readonly seed?: string
  /** Apply the policy table's migrations on open. @default true */
  readonly migrate?: boolean
  /** @default NOOP_LOGGER */
  readonly logger?: Logger
}

/** What {@link openSQLPolicy} returns. */
export interface SQLPolicy {
  /**
   * The enforcer, for `casbinGuard` and for policy changes: `await enforcer.addPolicy(...)`,
   * `removePolicy`, `addGroupingPolicy`, `savePolicy` are written to the database in one
   * transaction each and reach every other instance (see {@link SQLPolicyOptions.reloadIntervalMs}).
   */
  readonly enforcer: Enforcer
  /** The revision this instance has loaded. */
  readonly revision: number
  /** Reloads now if the database holds a newer revision. Resolves once the enforcer has it. */
  refresh(): Promise<void>
  /** Stops listening and polling (the database stays open). Idempotent. */
  close(): Promise<void>
}

type Row = PolicySchema['gatehouse_casbin_rules']

/**
 * A Casbin policy kept in the store's SQL database (SQLite or PostgreSQL), changed through the
 * enforcer's management API and kept in step across instances:
 *
 * | where | how a change reaches the other instances | bound |
 * |---|---|---|
 * | PostgreSQL | `NOTIFY gatehouse_casbin` sent inside the writing transaction; each instance reloads | milliseconds (a test asserts < 1 s) |
 * | PostgreSQL, LISTEN connection down | reload on reconnect, and the revision poll | `reloadIntervalMs` (30 s) |
 * | SQLite (processes sharing the file) | the revision poll | `reloadIntervalMs` (1 s) |
 *
 * The instance that writes sees its change at once. Rows written by hand (not through the enforcer)
 * are seen at the next reload that something else triggers: bump `gatehouse_casbin_revision` with
 * them. A reload reads the rows before it clears the enforcer's rules, so requests keep the old
 * policy while the query runs; only while Casbin rebuilds its role links (microseconds) could a
 * check see a partial policy, and that denies.
 *
 * @example
 * ```ts
 * const sql = await openSQLStore({ uri: process.env.AUTH_DB_URI })
 * const policy = await openSQLPolicy({ database: sql.database, model: MODEL })
 * app.delete('/entries/:id', casbinGuard(policy.enforcer, { object: loadEntry }), handler)
 * await policy.enforcer.addPolicy('sql:42', '/reports/*', 'GET') // every instance, within the bound
 * ```
 */
export async function openSQLPolicy(options: SQLPolicyOptions): Promise<SQLPolicy> {
  if (typeof options !== 'object' || options === null) throw new TypeError('openSQLPolicy: options are required')
  const { database } = options
  if (typeof database?.transaction !== 'function' || typeof database.migrateCompanion !== 'function') {
    throw new TypeError("openSQLPolicy: database must be the store's SQLDatabase (openSQLStore(...).database)")
  }
  const reloadIntervalMs = options.reloadIntervalMs ?? (database.dialect === 'postgres' ? 30_000 : 1000)
  if (!Number.isInteger(reloadIntervalMs) || reloadIntervalMs < 10) throw new TypeError('openSQLPolicy: reloadIntervalMs must be an integer of at least 10')
  const logger = options.logger ?? NOOP_LOGGER
  if (options.migrate ?? true) await database.migrateCompanion({ name: 'casbin', migrations: POLICY_MIGRATIONS })

  const adapter = new KyselyPolicyAdapter(database)
  if (options.seed !== undefined) await adapter.seed(options.seed)
  const enforcer = await newCasbinEnforcer({ model: options.model, policy: adapter })
  const sync = new PolicySync(enforcer, adapter, logger)
  await sync.refresh()
  await sync.start(reloadIntervalMs)
  return {
    enforcer,
    get revision() {
      return sync.revision
    },
    refresh: () => sync.refresh(),
    close: () => sync.close(),
  }
}

/** Keeps one enforcer at the database's revision. */
class PolicySync {
  readonly #enforcer: Enforcer
  readonly #adapter: KyselyPolicyAdapter
  readonly #logger: Logger
  #timer: NodeJS.Timeout | undefined
  #unlisten: (() => Promise<void>) | undefined
  #running: Promise<void> | undefined
  #again = false
  #closed = false

  constructor(enforcer: Enforcer, adapter: KyselyPolicyAdapter, logger: Logger) {
    this.#enforcer = enforcer
    this.#adapter = adapter
    this.#logger = logger
  }

  get revision(): number {
    return this.#adapter.loaded
  }

  async start(intervalMs: number): Promise<void> {
    const database = this.#adapter.database
    if (database.dialect === 'postgres') {
      this.#unlisten = await database.listen(POLICY_CHANNEL, {
        onNotify: (payload) => {
          if (Number(payload) !== this.#adapter.loaded) void this.refresh()
        },
        onReconnect: () => void this.refresh(),
      })
    }
    this.#timer = setInterval(() => void this.refresh(), intervalMs)
    this.#timer.unref()
  }

  /** One reload at a time; a request for another while one runs runs once more after it. */
  refresh(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true
      return this.#running
    }
    this.#running = this.#reload().finally(() => {
      this.#running = undefined
      if (this.#again && !this.#closed) {
        this.#again = false
        void this.refresh()
      }
    })
    return this.#running
  }

  async #reload(): Promise<void> {
    try {
      const revision = await this.#adapter.currentRevision()
      if (revision === this.#adapter.loaded) return
      await this.#adapter.prefetch(revision)
      await this.#enforcer.loadPolicy()
    } catch (error) {
      // The enforcer keeps the rules it has: a database that is down does not empty the policy.
      this.#logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'casbin policy reload failed; keeping the loaded policy')
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    await this.#unlisten?.()
  }
}

/**
 * A Casbin adapter on the store's Kysely instance (auto-save: every `addPolicy`/`removePolicy`/
 * `removeFilteredPolicy`/`savePolicy` of the enforcer is one write transaction that also bumps the
 * revision and, on PostgreSQL, sends the NOTIFY). The revision row's UPDATE comes first, so two
 * instances writing at once are serialized by its row lock.
 */
export class KyselyPolicyAdapter implements Adapter {
  readonly database: PolicyDatabase
  /** The revision the enforcer's rules correspond to. */
  loaded = -1
  #prefetched: { revision: number; rows: Row[] } | undefined

  constructor(database: PolicyDatabase) {
    this.database = database
  }

  async currentRevision(): Promise<number> {
    const row = await this.database.read((db) => (db as Kysely<PolicySchema>).selectFrom(REVISION).select('revision').where('id', '=', 1).executeTakeFirst())
    return Number(row?.revision ?? 0)
  }

  /** Reads the rules of `revision` before `loadPolicy` clears the enforcer's (see openSQLPolicy). */
  async prefetch(revision: number): Promise<void> {
    const rows = await this.database.read((db) => (db as Kysely<PolicySchema>).selectFrom(RULES).selectAll().orderBy('id').execute())
    this.#prefetched = { revision, rows }
  }

  async loadPolicy(model: Model): Promise<void> {
    let prefetched = this.#prefetched
    this.#prefetched = undefined
    if (prefetched === undefined) {
      const revision = await this.currentRevision()
      await this.prefetch(revision)
      prefetched = this.#prefetched!
      this.#prefetched = undefined
    }
    for (const row of prefetched.rows) {
      const rule = VALUES.map((v) => row[v])
      while (rule.length > 0 && rule[rule.length - 1] === '') rule.pop()
      const sec = row.ptype.slice(0, 1)
      if (model.model.get(sec)?.has(row.ptype)) model.addPolicy(sec, row.ptype, rule)
    }
    this.loaded = prefetched.revision
  }

  async savePolicy(model: Model): Promise<boolean> {
    const rows: Array<{ ptype: string; rule: string[] }> = []
    for (const sec of ['p', 'g']) {
      for (const [ptype, assertion] of model.model.get(sec) ?? new Map()) {
        for (const rule of assertion.policy as string[][]) rows.push({ ptype, rule })
      }
    }
    await this.#write(async (trx) => {
      await trx.deleteFrom(RULES).execute()
      for (const row of rows) await insert(trx, row.ptype, row.rule)
    })
    return true
  }

  async addPolicy(_sec: string, ptype: string, rule: string[]): Promise<void> {
    await this.#write((trx) => insert(trx, ptype, rule))
  }

  async addPolicies(_sec: string, ptype: string, rules: string[][]): Promise<void> {
    await this.#write(async (trx) => {
      for (const rule of rules) await insert(trx, ptype, rule)
    })
  }

  async removePolicy(_sec: string, ptype: string, rule: string[]): Promise<void> {
    await this.#write(async (trx) => {
      let query = trx.deleteFrom(RULES).where('ptype', '=', ptype)
      for (const [i, v] of VALUES.entries()) query = query.where(v, '=', rule[i] ?? '')
      await query.execute()
    })
  }

  async removePolicies(sec: string, ptype: string, rules: string[][]): Promise<void> {
    for (const rule of rules) await this.removePolicy(sec, ptype, rule)
  }

  async removeFilteredPolicy(_sec: string, ptype: string, fieldIndex: number, ...fieldValues: string[]): Promise<void> {
    await this.#write(async (trx) => {
      let query = trx.deleteFrom(RULES).where('ptype', '=', ptype)
      fieldValues.forEach((value, i) => {
        const column = VALUES[fieldIndex + i]
        if (column !== undefined && value !== '') query = query.where(column, '=', value)
      })
      await query.execute()
    })
  }

  /** Writes `csv` (Casbin policy lines) when the table is empty; a no-op otherwise. */
  async seed(csv: string): Promise<void> {
    const lines = csv
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'))
    await this.#write(async (trx) => {
      const existing = await trx.selectFrom(RULES).select('id').limit(1).executeTakeFirst()
      if (existing !== undefined) return false
      for (const line of lines) {
        const [ptype, ...rule] = line.split(',').map((value) => value.trim())
        await insert(trx, ptype!, rule)
      }
      return lines.length > 0
    })
  }

  /** One write: revision bump first (the lock), then `run`, then the NOTIFY (sent at commit). */
  async #write(run: (trx: Transaction<PolicySchema>) => Promise<unknown>): Promise<void> {
    const result = await this.database.transaction<PolicySchema, { revision: number; changed: boolean }>(async (trx) => {
      const bumped = await trx.updateTable(REVISION).set({ revision: sql<number>`revision + 1` }).where('id', '=', 1).returning('revision').executeTakeFirstOrThrow()
      const changed = (await run(trx)) !== false
      const revision = Number(bumped.revision)
      if (this.database.dialect === 'postgres') await sql`select pg_notify(${POLICY_CHANNEL}, ${String(revision)})`.execute(trx)
      return { revision, changed }
    })
    // The enforcer applies its own change in memory after this returns: it is at the new revision
    // unless someone else wrote in between, in which case the next reload catches up.
    if (result.revision === this.loaded + 1) this.loaded = result.revision
  }
}

async function insert(trx: Transaction<PolicySchema>, ptype: string, rule: readonly string[]): Promise<void> {
  if (typeof ptype !== 'string' || !/^[pg][0-9]*$/.test(ptype)) throw new TypeError(`casbin policy: unknown policy type ${JSON.stringify(ptype)}`)
  if (rule.length > VALUES.length) throw new TypeError(`casbin policy: at most ${VALUES.length} values per rule`)
  const next = await trx.selectFrom(RULES).select(sql<number>`coalesce(max(id), 0) + 1`.as('id')).executeTakeFirstOrThrow()
  const values = Object.fromEntries(VALUES.map((v, i) => [v, rule[i] ?? '']))
  await trx
    .insertInto(RULES)
    .values({ id: Number(next.id), ptype, ...values } as Row)
    .execute()
}

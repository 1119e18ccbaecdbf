import type { Kysely, Migration, MigrationProvider } from 'kysely'
import { Migrator } from 'kysely'
import { AuthError } from '@gatehouse/core'
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE } from '../schema.js'
import { initial } from './0001-initial.js'
import { providerSessions } from './0002-provider-sessions.js'

/**
 * Every migration this version knows, by name; names sort in the order they run. In code rather
 * than files, because Kysely's file provider cannot import `.ts` under a test runner and a
 * bundled application has no migration folder.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-initial': initial,
  '0002-provider-sessions': providerSessions,
})

const provider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) }

/** What {@link readSchemaStatus} reports. */
export interface SchemaStatus {
  /** Every known migration is applied and none is unknown. */
  readonly current: boolean
  readonly applied: string[]
  /** Known to this version, not yet applied. */
  readonly pending: string[]
  /** Applied by a newer version of the store: this version must not run against it. */
  readonly unknown: string[]
}

/** Reads which migrations the database has, without changing anything. */
export async function readSchemaStatus(db: Kysely<any>): Promise<SchemaStatus> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  const applied = tables.some((table) => table.name === MIGRATION_TABLE) ? (await db.selectFrom(MIGRATION_TABLE).select('name').orderBy('name').execute()).map((row: { name: string }) => row.name) : []
  const known = Object.keys(MIGRATIONS).sort()
  const pending = known.filter((name) => !applied.includes(name))
  const unknown = applied.filter((name) => !known.includes(name))
  return { current: pending.length === 0 && unknown.length === 0, applied, pending, unknown }
}

/** Throws `ERR_MISCONFIGURED` when the database was migrated by a newer version of the store. */
export function assertSchemaNotNewer(status: SchemaStatus, displayURI: string): void {
  if (status.unknown.length === 0) return
  throw new AuthError(
    'ERR_MISCONFIGURED',
    `the database at ${displayURI} has a newer schema than this version of @gatehouse/store-sql knows ` +
      `(unknown migrations: ${status.unknown.join(', ')}); upgrade @gatehouse/store-sql instead of running this version against it`,
  )
}

/**
 * Applies pending migrations. Idempotent, and safe when several processes start at once: on
 * PostgreSQL Kysely holds an advisory lock and runs them in one transaction; on SQLite the
 * dialect reports transactional DDL so the whole run is one `BEGIN IMMEDIATE` transaction, which
 * other processes wait for (busy timeout) and then find nothing left to do.
 */
export async function migrateToLatest(db: Kysely<any>, displayURI: string): Promise<string[]> {
  assertSchemaNotNewer(await readSchemaStatus(db), displayURI)
  const migrator = new Migrator({ db, provider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: MIGRATION_LOCK_TABLE })
  const { error, results } = await migrator.migrateToLatest()
  if (error !== undefined) throw error
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName)
}

import type { Kysely, Migration, MigrationProvider } from 'kysely'
import { Migrator } from 'kysely'
import { AuthError } from '@gatehouse/core'

/**
 * A companion package's migrations (a policy table, say): applied through Kysely's migrator on the
 * store's database, but recorded in a history table of their own, `gatehouse_<name>_migration`,
 * so the store's check for migrations it does not know never sees them, and the companion's
 * check never sees the store's.
 */
export interface CompanionMigrations {
  /** Lower-case letters, digits and `_`, starting with a letter, at most 32 characters: `casbin`. */
  readonly name: string
  /** Every migration the companion knows, by name; names sort in the order they run. */
  readonly migrations: Readonly<Record<string, Migration>>
}

const NAME = /^[a-z][a-z0-9_]{0,31}$/

/** The history and lock tables of a companion, after checking its name (a `TypeError`). */
export function companionTables(name: string): { readonly history: string; readonly lock: string } {
  if (typeof name !== 'string' || !NAME.test(name)) throw new TypeError(`companion migrations: name must match ${NAME} (got ${JSON.stringify(name)})`)
  return { history: `gatehouse_${name}_migration`, lock: `gatehouse_${name}_migration_lock` }
}

/**
 * Applies a companion's pending migrations; refuses (`ERR_MISCONFIGURED`) a history that holds a
 * migration the companion does not know, i.e. a database migrated by a newer version of it.
 */
export async function migrateCompanion(db: Kysely<any>, companion: CompanionMigrations, displayURI: string): Promise<string[]> {
  const { history, lock } = companionTables(companion.name)
  if (typeof companion.migrations !== 'object' || companion.migrations === null || Object.keys(companion.migrations).length === 0) {
    throw new TypeError(`companion migrations "${companion.name}": at least one migration is required`)
  }
  const known = Object.keys(companion.migrations)
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  if (tables.some((table) => table.name === history)) {
    const applied = (await db.selectFrom(history).select('name').execute()).map((row: { name: string }) => row.name)
    const unknown = applied.filter((name) => !known.includes(name))
    if (unknown.length > 0) {
      throw new AuthError(
        'ERR_MISCONFIGURED',
        `the database at ${displayURI} has migrations of "${companion.name}" that this version does not know (${unknown.join(', ')}); upgrade that package instead of running this version against it`,
      )
    }
  }
  const provider: MigrationProvider = { getMigrations: async () => ({ ...companion.migrations }) }
  const migrator = new Migrator({ db, provider, migrationTableName: history, migrationLockTableName: lock })
  const { error, results } = await migrator.migrateToLatest()
  if (error !== undefined) throw error
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName)
}

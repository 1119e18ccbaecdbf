import { createPostgresDatabase, describeUserStore } from '@gatehouse/testkit'
import { sql as raw } from 'kysely'
import { inject } from 'vitest'
import { openTestStore } from './fixtures.js'

// One database for the file, migrated by the first case; every case opens a store of its own
// (its own pool and LISTEN connection) over emptied tables, which costs a few milliseconds where
// a new database (even one copied from a template) costs about 0.4 s per case.
let database: Promise<string> | undefined

describeUserStore('SQLUserStore on PostgreSQL', async () => {
  const first = database === undefined
  database ??= createPostgresDatabase(inject('postgresUrl'))
  const sql = await openTestStore(await database, { migrate: first })
  const { rows } = await raw<{ tablename: string }>`
    select tablename from pg_tables
    where schemaname = current_schema() and tablename like 'gatehouse\\_%' and tablename not like '%migration%'`.execute(sql.database.kysely)
  if (rows.length > 0) await raw`truncate ${raw.join(rows.map((row) => raw.table(row.tablename)))} cascade`.execute(sql.database.kysely)
  return { store: sql.store, revocations: sql.store, providerSessions: true, reportsChanges: true, close: () => sql.close() }
})

import type { Kysely, Migration } from 'kysely'

// Provider-session revocations (OpenID back-channel logout): one row per (source, 'sid' | 'sub',
// value), the latest time it was ended, and when the row may go. Portable types only, as in 0001.
export const providerSessions: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('gatehouse_revoked_provider_sessions')
      .addColumn('source', 'varchar(128)', (col) => col.notNull())
      .addColumn('kind', 'varchar(3)', (col) => col.notNull())
      .addColumn('value', 'varchar(1024)', (col) => col.notNull())
      .addColumn('revoked_at', 'bigint', (col) => col.notNull())
      .addColumn('expires_at', 'bigint', (col) => col.notNull())
      .addPrimaryKeyConstraint('gatehouse_revoked_provider_sessions_pk', ['source', 'kind', 'value'])
      .execute()
    await db.schema.createIndex('gatehouse_revoked_provider_sessions_expires_at').on('gatehouse_revoked_provider_sessions').column('expires_at').execute()
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('gatehouse_revoked_provider_sessions').execute()
  },
}

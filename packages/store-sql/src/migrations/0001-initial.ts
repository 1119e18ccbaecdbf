import type { Kysely, Migration } from 'kysely'

// Only types and constraints both SQLite and PostgreSQL understand, so the same migration runs
// unchanged on either. Never edit a released migration: add the next one.
export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('gatehouse_users')
      .addColumn('id', 'varchar(36)', (col) => col.primaryKey())
      .addColumn('username_normalized', 'text', (col) => col.notNull())
      .addColumn('display_name', 'text')
      .addColumn('email', 'text')
      .addColumn('password_hash', 'text')
      .addColumn('disabled', 'integer', (col) => col.notNull().defaultTo(0))
      .addColumn('session_version', 'integer', (col) => col.notNull().defaultTo(1))
      .addColumn('created_at', 'bigint', (col) => col.notNull())
      .addColumn('updated_at', 'bigint', (col) => col.notNull())
      .addColumn('last_login_at', 'bigint')
      .execute()
    // Uniqueness after normalization is the database's job, so racing creates cannot both win.
    await db.schema.createIndex('gatehouse_users_username_normalized').unique().on('gatehouse_users').column('username_normalized').execute()

    await db.schema
      .createTable('gatehouse_user_roles')
      .addColumn('user_id', 'varchar(36)', (col) => col.notNull().references('gatehouse_users.id').onDelete('cascade'))
      .addColumn('role', 'text', (col) => col.notNull())
      .addPrimaryKeyConstraint('gatehouse_user_roles_pk', ['user_id', 'role'])
      .execute()

    await db.schema
      .createTable('gatehouse_revoked_sessions')
      .addColumn('session_id', 'varchar(64)', (col) => col.primaryKey())
      .addColumn('expires_at', 'bigint', (col) => col.notNull())
      .execute()
    await db.schema.createIndex('gatehouse_revoked_sessions_expires_at').on('gatehouse_revoked_sessions').column('expires_at').execute()

    await db.schema
      .createTable('gatehouse_login_throttle')
      .addColumn('key', 'varchar(64)', (col) => col.primaryKey())
      .addColumn('failures', 'integer', (col) => col.notNull())
      .addColumn('last_failure_at', 'bigint', (col) => col.notNull())
      .execute()
    await db.schema.createIndex('gatehouse_login_throttle_last_failure_at').on('gatehouse_login_throttle').column('last_failure_at').execute()
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('gatehouse_login_throttle').execute()
    await db.schema.dropTable('gatehouse_revoked_sessions').execute()
    await db.schema.dropTable('gatehouse_user_roles').execute()
    await db.schema.dropTable('gatehouse_users').execute()
  },
}

// The tables of the store, as Kysely sees them. Times are milliseconds since the epoch in a
// 64-bit integer column: the one representation that is exact and identical on SQLite and
// PostgreSQL (the pg pool parses int8 to a number). Booleans are 0/1 integers for the same reason.

export interface UsersTable {
  readonly id: string
  /** The login name after `normalizeUsername`; a UNIQUE index makes the database enforce it. */
  readonly username_normalized: string
  readonly display_name: string | null
  readonly email: string | null
  readonly password_hash: string | null
  readonly disabled: number
  readonly session_version: number
  readonly created_at: number
  readonly updated_at: number
  readonly last_login_at: number | null
}

export interface UserRolesTable {
  readonly user_id: string
  readonly role: string
}

export interface RevokedSessionsTable {
  readonly session_id: string
  /** When the cookie would have expired anyway; the row can go then. */
  readonly expires_at: number
}

export interface RevokedProviderSessionsTable {
  /** The authenticator id (`User.source`) whose provider ended the session. */
  readonly source: string
  /** `sid`: one provider session; `sub`: every session of one provider subject. */
  readonly kind: 'sid' | 'sub'
  readonly value: string
  /** The latest revocation: sessions issued at or before it are ended. */
  readonly revoked_at: number
  /** When every session it can end has expired anyway; the row can go then. */
  readonly expires_at: number
}

export interface LoginThrottleTable {
  /** SHA-256 of `u:<username>` or `a:<address>` (see SQLLoginThrottle for why it is hashed). */
  readonly key: string
  readonly failures: number
  readonly last_failure_at: number
}

export interface GatehouseSchema {
  gatehouse_users: UsersTable
  gatehouse_user_roles: UserRolesTable
  gatehouse_revoked_sessions: RevokedSessionsTable
  gatehouse_revoked_provider_sessions: RevokedProviderSessionsTable
  gatehouse_login_throttle: LoginThrottleTable
}

/** Kysely's bookkeeping tables, named so they never collide with the application's own migrations. */
export const MIGRATION_TABLE = 'gatehouse_migration'
export const MIGRATION_LOCK_TABLE = 'gatehouse_migration_lock'

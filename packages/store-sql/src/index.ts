// The public API of @gatehouse/store-sql. What is not exported here is free to change.

export type { DatabaseTarget } from './database-uri.js'
export { DEFAULT_DB_URI, maskURI, parseDatabaseURI } from './database-uri.js'

export type { SQLStore, SQLStoreOptions } from './open-sql-store.js'
export { openSQLStore } from './open-sql-store.js'

export type { PostgresOptions, SQLDatabaseOptions, SQLiteOptions } from './sql-database.js'
export { POSTGRES_DEFAULTS, SQLDatabase } from './sql-database.js'
export type { SchemaStatus } from './migrations/migrations.js'
export type { CompanionMigrations } from './migrations/companion-migrations.js'
export type { NotificationListener } from './postgres-notification-listener.js'

export type { SQLUserStoreOptions } from './sql-user-store.js'
export { SQLUserStore } from './sql-user-store.js'
export type { Argon2HasherOptions } from './argon2-hasher.js'
export { ARGON2_DEFAULTS, Argon2Hasher } from './argon2-hasher.js'
export type { SQLPasswordAuthenticatorOptions } from './sql-password-authenticator.js'
export { SQLPasswordAuthenticator } from './sql-password-authenticator.js'
export type { SQLLoginThrottleOptions } from './sql-login-throttle.js'
export { SQLLoginThrottle } from './sql-login-throttle.js'
export type { AccountsOptions } from './accounts.js'
export { Accounts } from './accounts.js'
export type { PasswordPolicyOptions } from './password-policy.js'
export { RECOMMENDED_MIN_PASSWORD_LENGTH, checkPasswordPolicy } from './password-policy.js'

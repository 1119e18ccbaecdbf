import { isAbsolute, resolve } from 'node:path'
import type { Logger, StoredUser } from '@gatehouse/core'
import type { PasswordPolicySettings } from './password-policy.js'

/**
 * The account operations the CLI uses: the subset of `@gatehouse/store-sql`'s `accounts` it
 * needs, declared here so that commands depend on a small contract. Every method normalizes the
 * username and throws `UserNotFoundError`, `UserExistsError`, `WeakPasswordError` or
 * `StoreUnavailableError` (all from `@gatehouse/core`) for the expected failures.
 */
export interface AccountAdmin {
  add(args: { readonly username: string; readonly password: string; readonly roles?: readonly string[]; readonly displayName?: string; readonly email?: string }): Promise<StoredUser>
  /** Ends the user's sessions. */
  setPassword(args: { readonly username: string; readonly password: string }): Promise<StoredUser>
  /** Ends the user's sessions. */
  delete(args: { readonly username: string }): Promise<void>
  setRoles(args: { readonly username: string; readonly roles: readonly string[] }): Promise<StoredUser>
  addRoles(args: { readonly username: string; readonly roles: readonly string[] }): Promise<StoredUser>
  removeRoles(args: { readonly username: string; readonly roles: readonly string[] }): Promise<StoredUser>
  setDisabled(args: { readonly username: string; readonly disabled: boolean }): Promise<StoredUser>
  /** Ends every session of the user ("sign out everywhere") and changes nothing else. */
  endSessions(args: { readonly username: string }): Promise<StoredUser>
  get(args: { readonly username: string }): Promise<StoredUser | null>
  count(): Promise<number>
  /** The problems the store's password policy finds with a new password; `[]` when acceptable. */
  checkPassword(password: string, username?: string): string[]
  /** Streams every user ordered by username, one page at a time. */
  list(args?: { readonly pageSize?: number }): AsyncIterable<StoredUser>
}

/** Where the schema stands: migration names applied, still to apply, and applied but unknown to this code. */
export interface SchemaStatus {
  readonly applied: readonly string[]
  readonly pending: readonly string[]
  readonly unknown: readonly string[]
}

/** The subset of the SQL store the CLI needs. */
export interface AdminStore {
  readonly accounts: AccountAdmin
  /** The URI with any password masked. */
  readonly displayURI: string
  readonly dialect: string
  migrate(): Promise<unknown>
  schemaStatus(): Promise<SchemaStatus>
  close(): Promise<void>
}

/**
 * Opens a store; `uri` is `undefined` when neither `--db` nor `AUTH_DB_URI` was given;
 * `passwordPolicy` is the config module's, when it exports one and the command sets a password.
 */
export type StoreOpener = (args: {
  readonly uri: string | undefined
  readonly migrate: boolean
  readonly logger: Logger
  readonly passwordPolicy?: PasswordPolicySettings | undefined
}) => Promise<AdminStore>

/**
 * Opens `@gatehouse/store-sql`. Imported on first use, so `--help` and usage errors do not pay
 * for loading the database drivers and argon2.
 */
export const openSQLAdminStore: StoreOpener = async ({ uri, migrate, logger, passwordPolicy }) => {
  const { openSQLStore, DEFAULT_DB_URI } = await import('@gatehouse/store-sql')
  return openSQLStore({ uri: uri ?? DEFAULT_DB_URI, migrate, logger, ...(passwordPolicy ? { passwordPolicy } : {}) })
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i

/**
 * Makes a relative SQLite path typed on the command line relative to `baseDir` (the directory
 * the user typed it in). URIs of other schemes, absolute paths and `sqlite://…` forms are unchanged.
 */
export function resolveDbURI(uri: string, baseDir: string): string {
  const prefix = /^(sqlite|file):/i.exec(uri)?.[0]
  if (prefix !== undefined) {
    const path = uri.slice(prefix.length)
    if (path === '' || path.startsWith(':') || path.startsWith('//') || isAbsolute(path)) return uri
    return `${prefix}${resolve(baseDir, path)}`
  }
  if (SCHEME.test(uri) || isAbsolute(uri)) return uri
  return resolve(baseDir, uri)
}

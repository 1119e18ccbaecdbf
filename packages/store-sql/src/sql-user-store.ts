import { randomUUID } from 'node:crypto'
import type { NewUser, RevocationList, StoredUser, UserChange, UserStore } from '@gatehouse/core'
import { UserExistsError, normalizeUsername } from '@gatehouse/core'
import type { Kysely, Selectable, Transaction } from 'kysely'
import type { GatehouseSchema, UsersTable } from './schema.js'
import type { SQLDatabase } from './sql-database.js'
import { isUniqueViolation } from './store-errors.js'

/** Options of {@link SQLUserStore}. */
export interface SQLUserStoreOptions {
  /** The opened database (see `openSQLStore`, which creates one). */
  readonly database: SQLDatabase
}

type Reader = Kysely<GatehouseSchema> | Transaction<GatehouseSchema>
type UserRow = Selectable<UsersTable>

const MAX_USERNAME_LENGTH = 256
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

const USER_COLUMNS = [
  'u.id',
  'u.username_normalized',
  'u.display_name',
  'u.email',
  'u.password_hash',
  'u.disabled',
  'u.session_version',
  'u.created_at',
  'u.updated_at',
  'u.last_login_at',
] as const

/**
 * The {@link UserStore} (and logout {@link RevocationList}) of Gatehouse on SQLite or PostgreSQL.
 *
 * - Usernames are stored normalized (`normalizeUsername`) under a UNIQUE index: when creates race
 *   for one name, the database lets exactly one win and the others throw `UserExistsError`.
 * - Every write is one transaction; writes that end sessions bump `session_version` in the same
 *   statement that changes the row, and announce the change (PostgreSQL NOTIFY inside the
 *   transaction, local subscribers right after commit).
 * - `replacePasswordHash` is a single `UPDATE … WHERE password_hash = expected`: a racing
 *   set-password either lands first (the rehash then matches nothing) or after (and overwrites it).
 * - Reads and writes throw `StoreUnavailableError` when the database cannot be reached.
 *
 * Create it with `openSQLStore`.
 */
export class SQLUserStore implements UserStore, RevocationList {
  readonly #db: SQLDatabase

  constructor(options: SQLUserStoreOptions) {
    this.#db = options.database
  }

  async getUserById({ id }: { readonly id: string }): Promise<StoredUser | null> {
    if (typeof id !== 'string' || id === '') return null
    return this.#db.read((db) => findUser(db, 'id', id))
  }

  async getUserByUsername({ username }: { readonly username: string }): Promise<StoredUser | null> {
    if (typeof username !== 'string') return null
    const normalized = normalizeUsername(username)
    // No stored name holds control characters (createUser refuses them), and PostgreSQL rejects
    // NUL outright: answer "nobody" instead of letting an anonymous client provoke store errors.
    if (normalized === '' || CONTROL_CHARACTERS.test(normalized)) return null
    return this.#db.read((db) => findUser(db, 'username', normalized))
  }

  async createUser(user: NewUser): Promise<StoredUser> {
    const username = normalizeUsername(String(user.username ?? ''))
    if (username === '') throw new TypeError('createUser: username is empty')
    if (CONTROL_CHARACTERS.test(username)) throw new TypeError('createUser: username contains control characters')
    // The login route refuses longer names (core's limits.maxUsernameLength), so nobody could log in.
    if (username.length > MAX_USERNAME_LENGTH) throw new TypeError(`createUser: username longer than ${MAX_USERNAME_LENGTH} characters`)
    const roles = cleanRoles(user.roles ?? [])
    const now = Date.now()
    const row: UserRow = {
      id: randomUUID(),
      username_normalized: username,
      display_name: user.displayName ?? null,
      email: user.email ?? null,
      password_hash: user.passwordHash,
      disabled: user.disabled ? 1 : 0,
      session_version: 1,
      created_at: now,
      updated_at: now,
      last_login_at: null,
    }
    try {
      await this.#db.write(async (trx) => {
        await trx.insertInto('gatehouse_users').values(row).execute()
        if (roles.length > 0) await trx.insertInto('gatehouse_user_roles').values(roles.map((role) => ({ user_id: row.id, role }))).execute()
      })
    } catch (error) {
      if (isUniqueViolation(error)) throw new UserExistsError(username, { cause: error })
      throw error
    }
    return toStoredUser(row, roles)
  }

  async setPassword({ id, passwordHash }: { readonly id: string; readonly passwordHash: string }): Promise<StoredUser | null> {
    return this.#db.write(async (trx, changed) => {
      const row = await trx
        .updateTable('gatehouse_users')
        .set((eb) => ({ password_hash: passwordHash, session_version: eb('session_version', '+', 1), updated_at: Date.now() }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      return row === undefined ? null : endSessions(trx, row, changed)
    })
  }

  async replacePasswordHash({ id, expected, passwordHash }: { readonly id: string; readonly expected: string; readonly passwordHash: string }): Promise<boolean> {
    // Compare-and-swap in one statement; no session version bump: the password did not change.
    const result = await this.#db.write((trx) =>
      trx
        .updateTable('gatehouse_users')
        .set({ password_hash: passwordHash, updated_at: Date.now() })
        .where('id', '=', id)
        .where('password_hash', '=', expected)
        .executeTakeFirst(),
    )
    return result.numUpdatedRows > 0n
  }

  async setRoles({ id, roles }: { readonly id: string; readonly roles: readonly string[] }): Promise<StoredUser | null> {
    const wanted = cleanRoles(roles)
    return this.#db.write(async (trx, changed) => {
      // The UPDATE comes first: it locks the user's row (PostgreSQL) so role edits serialize.
      const row = await bumpVersion(trx, id)
      if (row === undefined) return null
      await trx.deleteFrom('gatehouse_user_roles').where('user_id', '=', id).execute()
      if (wanted.length > 0) await trx.insertInto('gatehouse_user_roles').values(wanted.map((role) => ({ user_id: id, role }))).execute()
      changed({ type: 'user', id })
      return toStoredUser(row, wanted)
    })
  }

  /**
   * Adds roles in one transaction (read-modify-write without a lost update). Ends the user's
   * sessions only when a role was actually added. `null` when the user does not exist.
   */
  async addRoles({ id, roles }: { readonly id: string; readonly roles: readonly string[] }): Promise<StoredUser | null> {
    const added = cleanRoles(roles)
    return this.#db.write(async (trx, changed) => {
      if ((await lockUser(trx, id)) === undefined) return null
      let inserted = 0n
      if (added.length > 0) {
        const result = await trx
          .insertInto('gatehouse_user_roles')
          .values(added.map((role) => ({ user_id: id, role })))
          .onConflict((oc) => oc.columns(['user_id', 'role']).doNothing())
          .executeTakeFirst()
        inserted = result.numInsertedOrUpdatedRows ?? 0n
      }
      return this.#afterRoleEdit(trx, id, inserted > 0n, changed)
    })
  }

  /** Removes roles in one transaction; ends sessions when a role was removed. `null` when absent. */
  async removeRoles({ id, roles }: { readonly id: string; readonly roles: readonly string[] }): Promise<StoredUser | null> {
    const removed = cleanRoles(roles)
    return this.#db.write(async (trx, changed) => {
      if ((await lockUser(trx, id)) === undefined) return null
      let deleted = 0n
      if (removed.length > 0) {
        const result = await trx.deleteFrom('gatehouse_user_roles').where('user_id', '=', id).where('role', 'in', removed).executeTakeFirst()
        deleted = result.numDeletedRows
      }
      return this.#afterRoleEdit(trx, id, deleted > 0n, changed)
    })
  }

  async setDisabled({ id, disabled }: { readonly id: string; readonly disabled: boolean }): Promise<StoredUser | null> {
    return this.#db.write(async (trx, changed) => {
      const row = await trx
        .updateTable('gatehouse_users')
        // Disabling ends sessions; enabling has none to end (a disabled user's sessions never resume).
        .set((eb) => ({ disabled: disabled ? 1 : 0, session_version: disabled ? eb('session_version', '+', 1) : eb.ref('session_version'), updated_at: Date.now() }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst()
      if (row === undefined) return null
      return disabled ? endSessions(trx, row, changed) : toStoredUser(row, await rolesOf(trx, id))
    })
  }

  async deleteUser({ id }: { readonly id: string }): Promise<boolean> {
    return this.#db.write(async (trx, changed) => {
      // Roles first (the foreign key cascades too, but this does not depend on it being enforced).
      await trx.deleteFrom('gatehouse_user_roles').where('user_id', '=', id).execute()
      const result = await trx.deleteFrom('gatehouse_users').where('id', '=', id).executeTakeFirst()
      if (result.numDeletedRows === 0n) return false
      changed({ type: 'user', id })
      return true
    })
  }

  async recordLogin({ id, at }: { readonly id: string; readonly at: Date }): Promise<void> {
    await this.#db.write((trx) => trx.updateTable('gatehouse_users').set({ last_login_at: at.getTime() }).where('id', '=', id).execute())
  }

  async listUsers({ after, limit }: { readonly after?: string | undefined; readonly limit: number }): Promise<StoredUser[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new TypeError('listUsers: limit must be a positive integer')
    return this.#db.read(async (db) => {
      let query = db.selectFrom('gatehouse_users as u').select(USER_COLUMNS).orderBy('u.username_normalized').limit(limit)
      if (after !== undefined) query = query.where('u.username_normalized', '>', after)
      const rows = await query.execute()
      if (rows.length === 0) return []
      const roles = await db
        .selectFrom('gatehouse_user_roles')
        .select(['user_id', 'role'])
        .where(
          'user_id',
          'in',
          rows.map((row) => row.id),
        )
        .orderBy('role')
        .execute()
      const byUser = new Map<string, string[]>()
      for (const { user_id, role } of roles) byUser.set(user_id, [...(byUser.get(user_id) ?? []), role])
      return rows.map((row) => toStoredUser(row, byUser.get(row.id) ?? []))
    })
  }

  /** Number of users. */
  async count(): Promise<number> {
    return this.#db.read(async (db) => {
      const row = await db.selectFrom('gatehouse_users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
      return Number(row.n)
    })
  }

  /** Ends one session (logout) for every instance; expired entries are pruned on the way. */
  async revoke({ sessionId, expiresAt }: { readonly sessionId: string; readonly expiresAt: Date }): Promise<void> {
    const now = Date.now()
    await this.#db.write(async (trx, changed) => {
      await trx.deleteFrom('gatehouse_revoked_sessions').where('expires_at', '<=', now).execute()
      await trx
        .insertInto('gatehouse_revoked_sessions')
        .values({ session_id: sessionId, expires_at: expiresAt.getTime() })
        .onConflict((oc) => oc.column('session_id').doUpdateSet({ expires_at: expiresAt.getTime() }))
        .execute()
      changed({ type: 'session', sessionId })
    })
  }

  async isRevoked({ sessionId }: { readonly sessionId: string }): Promise<boolean> {
    const row = await this.#db.read((db) =>
      db.selectFrom('gatehouse_revoked_sessions').select('session_id').where('session_id', '=', sessionId).where('expires_at', '>', Date.now()).executeTakeFirst(),
    )
    return row !== undefined
  }

  /**
   * Reports changes that end sessions: this process's at commit, other processes' through
   * PostgreSQL NOTIFY (milliseconds) or SQLite `data_version` polling (as `{type:'all'}`).
   */
  subscribe(listener: (change: UserChange) => void): () => void {
    return this.#db.subscribe(listener)
  }

  async #afterRoleEdit(trx: Transaction<GatehouseSchema>, id: string, edited: boolean, changed: (change: UserChange) => void): Promise<StoredUser | null> {
    if (!edited) {
      const row = await trx.selectFrom('gatehouse_users as u').select(USER_COLUMNS).where('u.id', '=', id).executeTakeFirst()
      return row === undefined ? null : toStoredUser(row, await rolesOf(trx, id))
    }
    const row = await bumpVersion(trx, id)
    return row === undefined ? null : endSessions(trx, row, changed)
  }
}

/** One query: the user and their roles (one row per role). */
async function findUser(db: Reader, by: 'id' | 'username', value: string): Promise<StoredUser | null> {
  const rows = await db
    .selectFrom('gatehouse_users as u')
    .leftJoin('gatehouse_user_roles as r', 'r.user_id', 'u.id')
    .select([...USER_COLUMNS, 'r.role'])
    .where(by === 'id' ? 'u.id' : 'u.username_normalized', '=', value)
    .orderBy('r.role')
    .execute()
  const first = rows[0]
  if (first === undefined) return null
  return toStoredUser(first, rows.flatMap((row) => (row.role === null ? [] : [row.role])))
}

async function rolesOf(trx: Reader, id: string): Promise<string[]> {
  const rows = await trx.selectFrom('gatehouse_user_roles').select('role').where('user_id', '=', id).orderBy('role').execute()
  return rows.map((row) => row.role)
}

function bumpVersion(trx: Transaction<GatehouseSchema>, id: string): Promise<UserRow | undefined> {
  return trx
    .updateTable('gatehouse_users')
    .set((eb) => ({ session_version: eb('session_version', '+', 1), updated_at: Date.now() }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst()
}

/** A no-op UPDATE: takes the row lock on PostgreSQL (SQLite holds the database write lock already). */
function lockUser(trx: Transaction<GatehouseSchema>, id: string): Promise<{ id: string } | undefined> {
  return trx
    .updateTable('gatehouse_users')
    .set((eb) => ({ session_version: eb.ref('session_version') }))
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst()
}

async function endSessions(trx: Transaction<GatehouseSchema>, row: UserRow, changed: (change: UserChange) => void): Promise<StoredUser> {
  changed({ type: 'user', id: row.id })
  return toStoredUser(row, await rolesOf(trx, row.id))
}

function cleanRoles(roles: readonly string[]): string[] {
  if (!Array.isArray(roles)) throw new TypeError('roles must be an array of role names')
  for (const role of roles) if (typeof role !== 'string' || role === '') throw new TypeError('role names must be non-empty strings')
  return [...new Set(roles)].sort()
}

function toStoredUser(row: UserRow, roles: readonly string[]): StoredUser {
  return Object.freeze({
    id: row.id,
    username: row.username_normalized,
    displayName: row.display_name,
    email: row.email,
    roles: Object.freeze([...roles]),
    disabled: Number(row.disabled) !== 0,
    sessionVersion: Number(row.session_version),
    passwordHash: row.password_hash,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
    lastLoginAt: row.last_login_at === null ? null : new Date(Number(row.last_login_at)),
  })
}

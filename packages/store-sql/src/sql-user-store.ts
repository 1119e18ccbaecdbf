import { randomUUID } from 'node:crypto'
import type { NewUser, ProviderSessionRevocation, RevocationList, SessionHandle, StoredUser, UserChange, UserStore } from '@gatehouse/core'
import { UserExistsError, normalizeUsername } from '@gatehouse/core'
import type { Kysely, Selectable, Transaction } from 'kysely'
import { sql } from 'kysely'
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
// Bounds of the provider-session table's key columns (see migration 0002).
const MAX_SOURCE_LENGTH = 128
const MAX_PROVIDER_VALUE_LENGTH = 1024
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

const USER_COLUMNS = ['u.id', 'u.username_normalized', 'u.display_name', 'u.email', 'u.password_hash', 'u.disabled', 'u.session_version', 'u.created_at', 'u.updated_at', 'u.last_login_at'] as const

/**
 * The {@link UserStore} (and {@link RevocationList}: logout and provider-session revocations) of
 * Gatehouse on SQLite or PostgreSQL.
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
        if (roles.length > 0)
          await trx
            .insertInto('gatehouse_user_roles')
            .values(roles.map((role) => ({ user_id: row.id, role })))
            .execute()
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
      trx.updateTable('gatehouse_users').set({ password_hash: passwordHash, updated_at: Date.now() }).where('id', '=', id).where('password_hash', '=', expected).executeTakeFirst(),
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
      if (wanted.length > 0)
        await trx
          .insertInto('gatehouse_user_roles')
          .values(wanted.map((role) => ({ user_id: id, role })))
          .execute()
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

  /** Bumps the session version in one UPDATE, announced like the other writes. `null` when absent. */
  async endSessions({ id }: { readonly id: string }): Promise<StoredUser | null> {
    return this.#db.write(async (trx, changed) => {
      const row = await bumpVersion(trx, id)
      return row === undefined ? null : endSessions(trx, row, changed)
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
      const row = await db
        .selectFrom('gatehouse_users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
      return Number(row.n)
    })
  }

  /** Ends one session (logout) for every instance; expired entries are pruned on the way. */
  async revoke({ sessionId, expiresAt }: { readonly sessionId: string; readonly expiresAt: Date }): Promise<void> {
    const now = Date.now()
    await this.#db.write(async (trx, changed) => {
      await sweepRevocations(trx, now)
      await trx
        .insertInto('gatehouse_revoked_sessions')
        .values({ session_id: sessionId, expires_at: expiresAt.getTime() })
        .onConflict((oc) => oc.column('session_id').doUpdateSet({ expires_at: expiresAt.getTime() }))
        .execute()
      changed({ type: 'session', sessionId })
    })
  }

  /**
   * Ends every session of `source` that carries the provider session id, or whose provider
   * subject is `subject`, and was issued at or before now (OpenID back-channel logout), in every
   * instance: one row per id in `gatehouse_revoked_provider_sessions`, kept until `expiresAt`.
   * Revoking again moves the time forward (never back, whatever the instances' clocks say) and
   * keeps the later expiry. Announced as a `provider-session` change. Expired rows of both
   * revocation tables are pruned on the way.
   *
   * Throws `TypeError` when neither id is given, or for an empty, over-long (source > 128,
   * ids > 1024 characters) or NUL-carrying value, which no provider sends.
   */
  async revokeProviderSessions({ source, providerSessionId, subject, expiresAt }: ProviderSessionRevocation): Promise<void> {
    checkProviderValue('source', source, MAX_SOURCE_LENGTH)
    if (providerSessionId === undefined && subject === undefined) throw new TypeError('revokeProviderSessions: give providerSessionId or subject')
    if (providerSessionId !== undefined) checkProviderValue('providerSessionId', providerSessionId, MAX_PROVIDER_VALUE_LENGTH)
    if (subject !== undefined) checkProviderValue('subject', subject, MAX_PROVIDER_VALUE_LENGTH)
    const until = expiresAt.getTime()
    if (!Number.isFinite(until)) throw new TypeError('revokeProviderSessions: expiresAt must be a valid Date')
    const now = Date.now()
    const rows = [
      ...(providerSessionId === undefined ? [] : [{ source, kind: 'sid' as const, value: providerSessionId, revoked_at: now, expires_at: until }]),
      ...(subject === undefined ? [] : [{ source, kind: 'sub' as const, value: subject, revoked_at: now, expires_at: until }]),
    ]
    await this.#db.write(async (trx, changed) => {
      await sweepRevocations(trx, now)
      await trx
        .insertInto('gatehouse_revoked_provider_sessions')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['source', 'kind', 'value']).doUpdateSet({
            // CASE rather than GREATEST/MAX: the one spelling SQLite and PostgreSQL share.
            revoked_at: sql<number>`case when excluded.revoked_at > gatehouse_revoked_provider_sessions.revoked_at then excluded.revoked_at else gatehouse_revoked_provider_sessions.revoked_at end`,
            expires_at: sql<number>`case when excluded.expires_at > gatehouse_revoked_provider_sessions.expires_at then excluded.expires_at else gatehouse_revoked_provider_sessions.expires_at end`,
          }),
        )
        .execute()
      changed({
        type: 'provider-session',
        source,
        ...(providerSessionId === undefined ? {} : { providerSessionId }),
        ...(subject === undefined ? {} : { subject }),
      })
    })
  }

  /**
   * `true` when the session was ended by logout, or when its provider session id or subject (of
   * `source`) was revoked at or after `issuedAt` (a session without `issuedAt` counts as issued
   * before any revocation). One query, whichever of the ids are given.
   */
  async isRevoked({ sessionId, source, providerSessionId, subject, issuedAt }: SessionHandle): Promise<boolean> {
    const now = Date.now()
    // Values revokeProviderSessions refuses can never have been revoked (and PostgreSQL would
    // reject a NUL): leave them out of the query instead of failing the request.
    const sid = source !== undefined && usableProviderValue(providerSessionId, MAX_PROVIDER_VALUE_LENGTH) ? providerSessionId : undefined
    const sub = source !== undefined && usableProviderValue(subject, MAX_PROVIDER_VALUE_LENGTH) ? subject : undefined
    const row = await this.#db.read((db) => {
      const bySession = db.selectFrom('gatehouse_revoked_sessions').select(sql<number>`1`.as('hit')).where('session_id', '=', sessionId).where('expires_at', '>', now)
      if (source === undefined || !usableProviderValue(source, MAX_SOURCE_LENGTH) || (sid === undefined && sub === undefined)) return bySession.executeTakeFirst()
      const issued = issuedAt?.getTime()
      const byProvider = db
        .selectFrom('gatehouse_revoked_provider_sessions')
        .select(sql<number>`1`.as('hit'))
        .where('source', '=', source)
        .where('expires_at', '>', now)
        .where((eb) =>
          eb.or([...(sid === undefined ? [] : [eb.and([eb('kind', '=', 'sid'), eb('value', '=', sid)])]), ...(sub === undefined ? [] : [eb.and([eb('kind', '=', 'sub'), eb('value', '=', sub)])])]),
        )
        .$if(issued !== undefined && Number.isFinite(issued), (query) => query.where('revoked_at', '>=', issued!))
      return bySession.unionAll(byProvider).limit(1).executeTakeFirst()
    })
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

/** Deletes logout and provider-session revocations whose sessions have all expired. */
async function sweepRevocations(trx: Transaction<GatehouseSchema>, now: number): Promise<void> {
  await trx.deleteFrom('gatehouse_revoked_sessions').where('expires_at', '<=', now).execute()
  await trx.deleteFrom('gatehouse_revoked_provider_sessions').where('expires_at', '<=', now).execute()
}

function usableProviderValue(value: string | undefined, maxLength: number): value is string {
  return typeof value === 'string' && value !== '' && value.length <= maxLength && !value.includes('\u0000')
}

function checkProviderValue(name: string, value: unknown, maxLength: number): void {
  if (!usableProviderValue(value as string | undefined, maxLength)) throw new TypeError(`revokeProviderSessions: ${name} must be a non-empty string of at most ${maxLength} characters without NUL`)
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
  return toStoredUser(
    first,
    rows.flatMap((row) => (row.role === null ? [] : [row.role])),
  )
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

import { randomUUID } from 'node:crypto'
import { UserExistsError } from '../errors.js'
import { normalizeUsername } from '../model/user.js'
import type { NewUser, StoredUser, UserChange, UserStore } from './user-store.js'

/**
 * A {@link UserStore} in process memory, for tests and prototypes.
 * Everything is lost when the process ends.
 *
 * @example
 * ```ts
 * const store = new MemoryUserStore()
 * await store.createUser({ username: 'alice', passwordHash: await hasher.hash('correct horse'), roles: ['User'] })
 * ```
 */
export class MemoryUserStore implements UserStore {
  readonly #byId = new Map<string, StoredUser>()
  readonly #idByName = new Map<string, string>()
  readonly #listeners = new Set<(change: UserChange) => void>()

  async getUserById({ id }: { id: string }): Promise<StoredUser | null> {
    return this.#byId.get(id) ?? null
  }

  async getUserByUsername({ username }: { username: string }): Promise<StoredUser | null> {
    const id = this.#idByName.get(normalizeUsername(username))
    return id === undefined ? null : (this.#byId.get(id) ?? null)
  }

  async createUser(user: NewUser): Promise<StoredUser> {
    const username = normalizeUsername(user.username)
    if (username === '') throw new TypeError('createUser: username is empty')
    if (/[\u0000-\u001f\u007f]/.test(username)) throw new TypeError('createUser: username contains control characters')
    if (this.#idByName.has(username)) throw new UserExistsError(username)
    const now = new Date()
    const stored: StoredUser = Object.freeze({
      id: randomUUID(),
      username,
      displayName: user.displayName ?? null,
      email: user.email ?? null,
      roles: Object.freeze([...new Set(user.roles ?? [])]),
      disabled: user.disabled ?? false,
      sessionVersion: 1,
      passwordHash: user.passwordHash,
      createdAt: now,
      updatedAt: now,
      lastLoginAt: null,
    })
    this.#byId.set(stored.id, stored)
    this.#idByName.set(username, stored.id)
    return stored
  }

  async setPassword({ id, passwordHash }: { id: string; passwordHash: string }): Promise<StoredUser | null> {
    return this.#update(id, { passwordHash }, true)
  }

  async replacePasswordHash({ id, expected, passwordHash }: { id: string; expected: string; passwordHash: string }): Promise<boolean> {
    if (this.#byId.get(id)?.passwordHash !== expected) return false
    return this.#update(id, { passwordHash }, false) !== null
  }

  async setRoles({ id, roles }: { id: string; roles: readonly string[] }): Promise<StoredUser | null> {
    return this.#update(id, { roles: Object.freeze([...new Set(roles)]) }, true)
  }

  async setDisabled({ id, disabled }: { id: string; disabled: boolean }): Promise<StoredUser | null> {
    return this.#update(id, { disabled }, disabled)
  }

  async endSessions({ id }: { id: string }): Promise<StoredUser | null> {
    return this.#update(id, {}, true)
  }

  async deleteUser({ id }: { id: string }): Promise<boolean> {
    const user = this.#byId.get(id)
    if (user === undefined) return false
    this.#byId.delete(id)
    this.#idByName.delete(user.username)
    this.#emit({ type: 'user', id })
    return true
  }

  async recordLogin({ id, at }: { id: string; at: Date }): Promise<void> {
    const user = this.#byId.get(id)
    if (user !== undefined) this.#byId.set(id, Object.freeze({ ...user, lastLoginAt: at }))
  }

  async listUsers({ after, limit }: { after?: string | undefined; limit: number }): Promise<StoredUser[]> {
    return [...this.#byId.values()]
      .filter((user) => after === undefined || user.username > after)
      .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
      .slice(0, limit)
  }

  subscribe(listener: (change: UserChange) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #update(id: string, patch: Partial<StoredUser>, endSessions: boolean): StoredUser | null {
    const user = this.#byId.get(id)
    if (user === undefined) return null
    const updated: StoredUser = Object.freeze({
      ...user,
      ...patch,
      sessionVersion: endSessions ? user.sessionVersion + 1 : user.sessionVersion,
      updatedAt: new Date(),
    })
    this.#byId.set(id, updated)
    if (endSessions) this.#emit({ type: 'user', id })
    return updated
  }

  #emit(change: UserChange): void {
    for (const listener of this.#listeners) listener(change)
  }
}

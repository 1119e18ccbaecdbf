import type { PasswordHasher, StoredUser } from '@gatehouse/core'
import { UserNotFoundError, WeakPasswordError } from '@gatehouse/core'
import type { PasswordPolicyOptions } from './password-policy.js'
import { checkPasswordPolicy, resolvePasswordPolicy } from './password-policy.js'
import type { SQLUserStore } from './sql-user-store.js'

/** Options of {@link Accounts}. */
export interface AccountsOptions {
  readonly store: SQLUserStore
  readonly hasher: PasswordHasher
  /** @default { minLength: 8, maxLength: 1024 }, the shipped blocklist, no context words */
  readonly passwordPolicy?: PasswordPolicyOptions
}

/**
 * Operator verbs over the store, the hasher and the password policy, by username: what the
 * `auth-user-admin` CLI and the demo call. Every verb that changes a password, roles, the
 * disabled flag or deletes the account ends that user's open sessions (in every instance: see
 * `SQLUserStore.subscribe`), and {@link Accounts.endSessions} ends them alone.
 *
 * @example
 * ```ts
 * const { accounts } = await openSQLStore()
 * await accounts.add({ username: 'alice', password: await promptHidden(), roles: ['User'] })
 * for await (const user of accounts.list()) console.log(user.username, user.roles)
 * ```
 */
export class Accounts {
  readonly #store: SQLUserStore
  readonly #hasher: PasswordHasher
  readonly #policy: PasswordPolicyOptions

  constructor(options: AccountsOptions) {
    this.#store = options.store
    this.#hasher = options.hasher
    const { minLength, maxLength } = resolvePasswordPolicy(options.passwordPolicy)
    // Materialized once: the options may be one-shot iterables.
    this.#policy = { minLength, maxLength, blocklist: new Set(options.passwordPolicy?.blocklist ?? []), contextWords: [...(options.passwordPolicy?.contextWords ?? [])] }
  }

  /** Creates an account. Throws `WeakPasswordError` (before hashing) or `UserExistsError`. */
  async add(args: { username: string; password: string; roles?: readonly string[]; displayName?: string; email?: string }): Promise<StoredUser> {
    this.#checkPassword(args.password, args.username)
    const passwordHash = await this.#hasher.hash(args.password)
    return this.#store.createUser({
      username: args.username,
      passwordHash,
      roles: args.roles ?? [],
      displayName: args.displayName ?? null,
      email: args.email ?? null,
    })
  }

  /** Sets a new password and ends the user's sessions. `WeakPasswordError` | `UserNotFoundError`. */
  async setPassword(args: { username: string; password: string }): Promise<StoredUser> {
    this.#checkPassword(args.password, args.username)
    const user = await this.#require(args.username)
    const passwordHash = await this.#hasher.hash(args.password)
    return (await this.#store.setPassword({ id: user.id, passwordHash })) ?? notFound(args.username)
  }

  /** Deletes the account, which ends its sessions. `UserNotFoundError` when absent. */
  async delete(args: { username: string }): Promise<void> {
    const user = await this.#require(args.username)
    if (!(await this.#store.deleteUser({ id: user.id }))) notFound(args.username)
  }

  /** Replaces the user's roles (ends sessions). */
  async setRoles(args: { username: string; roles: readonly string[] }): Promise<StoredUser> {
    const user = await this.#require(args.username)
    return (await this.#store.setRoles({ id: user.id, roles: args.roles })) ?? notFound(args.username)
  }

  /** Adds roles in one transaction (ends sessions when something was added). */
  async addRoles(args: { username: string; roles: readonly string[] }): Promise<StoredUser> {
    const user = await this.#require(args.username)
    return (await this.#store.addRoles({ id: user.id, roles: args.roles })) ?? notFound(args.username)
  }

  /** Removes roles in one transaction (ends sessions when something was removed). */
  async removeRoles(args: { username: string; roles: readonly string[] }): Promise<StoredUser> {
    const user = await this.#require(args.username)
    return (await this.#store.removeRoles({ id: user.id, roles: args.roles })) ?? notFound(args.username)
  }

  /** Disables (ending sessions) or enables the account. */
  async setDisabled(args: { username: string; disabled: boolean }): Promise<StoredUser> {
    const user = await this.#require(args.username)
    return (await this.#store.setDisabled({ id: user.id, disabled: args.disabled })) ?? notFound(args.username)
  }

  /**
   * Ends every open session of the user ("sign out everywhere", in every instance) and changes
   * nothing else: they may log in again at once. `UserNotFoundError` when absent.
   */
  async endSessions(args: { username: string }): Promise<StoredUser> {
    const user = await this.#require(args.username)
    return (await this.#store.endSessions({ id: user.id })) ?? notFound(args.username)
  }

  /** The account, or `null`. */
  get(args: { username: string }): Promise<StoredUser | null> {
    return this.#store.getUserByUsername({ username: args.username })
  }

  count(): Promise<number> {
    return this.#store.count()
  }

  /**
   * Every account in normalized-username order, fetched page by page (keyset pagination), so a
   * large store streams in constant memory and a concurrent change never repeats or skips a name.
   */
  async *list(args: { pageSize?: number } = {}): AsyncIterable<StoredUser> {
    const pageSize = args.pageSize ?? 100
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new TypeError('Accounts.list: pageSize must be a positive integer')
    let after: string | undefined
    for (;;) {
      const page = await this.#store.listUsers({ after, limit: pageSize })
      yield* page
      if (page.length < pageSize) return
      after = page.at(-1)!.username
    }
  }

  /** The policy problems of a candidate password (`[]` = acceptable), for prompts. */
  checkPassword(password: string, username?: string): string[] {
    return checkPasswordPolicy(password, this.#policy, username === undefined ? {} : { username })
  }

  #checkPassword(password: string, username: string): void {
    const problems = this.checkPassword(password, username)
    if (problems.length > 0) throw new WeakPasswordError(problems)
  }

  async #require(username: string): Promise<StoredUser> {
    return (await this.#store.getUserByUsername({ username })) ?? notFound(username)
  }
}

function notFound(username: string): never {
  throw new UserNotFoundError(username)
}

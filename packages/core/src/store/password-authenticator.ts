import { AuthenticatorUnavailableError, isAuthError } from '../errors.js'
import type { AuthResult, Authenticator, Credentials, SessionPrincipal } from '../authenticators/authenticator.js'
import type { User } from '../model/user.js'
import type { PasswordHasher, StoredUser, UserStore } from './user-store.js'

/** Options of {@link PasswordAuthenticator}. */
export interface PasswordAuthenticatorOptions {
  /** Authenticator id and {@link User.source} of its users. @default 'local' */
  readonly id?: string
  readonly store: UserStore
  readonly hasher: PasswordHasher
}

/**
 * Logs users in against a {@link UserStore} with a {@link PasswordHasher}, and resumes their
 * sessions only while the store's session version still matches.
 *
 * Unknown, disabled and wrong-password users are indistinguishable to the caller: each costs one
 * password verification (a dummy one for unknown users, who are `skipped`: not this store's) and
 * the login route answers all of them with the same 401.
 */
export class PasswordAuthenticator implements Authenticator {
  readonly id: string
  readonly #store: UserStore
  readonly #hasher: PasswordHasher
  #dummyHash: Promise<string> | undefined

  constructor(options: PasswordAuthenticatorOptions) {
    this.id = options.id ?? 'local'
    this.#store = options.store
    this.#hasher = options.hasher
    // Made now, so the first unknown user does not pay for a hash on top of the verify.
    this.#dummyHash = this.#hasher.hash(`dummy-${Math.random()}`)
    this.#dummyHash.catch(() => {
      this.#dummyHash = undefined // retried on first use
    })
  }

  async authenticate({ credentials }: { readonly credentials: Credentials; readonly request?: Request }): Promise<AuthResult> {
    const user = await this.#unavailableOnStoreError(() => this.#store.getUserByUsername({ username: credentials.username }))
    if (user === null || user.passwordHash === null) {
      // Unknown users pay for a verify as known ones do, so timing does not reveal who exists.
      await this.#hasher.verify({ hash: await this.#dummy(), password: credentials.password })
      // "Not mine": the next authenticator may know the user. The HTTP answer is the same 401 as
      // for a wrong password; but while another authenticator is down, an attempt that no one
      // could check is not counted as a failed password (one that this store refused is).
      return { outcome: 'skipped' }
    }
    const valid = await this.#hasher.verify({ hash: user.passwordHash, password: credentials.password })
    if (!valid) return { outcome: 'rejected', reason: 'invalid-credentials' }
    // Checked after the verify so a disabled account costs the same time as a wrong password.
    if (user.disabled) return { outcome: 'rejected', reason: 'disabled' }
    await this.#unavailableOnStoreError(async () => {
      if (this.#hasher.needsRehash(user.passwordHash!)) {
        const passwordHash = await this.#hasher.hash(credentials.password)
        // Compare-and-swap: a set-password that landed meanwhile wins and this write is dropped.
        await this.#store.replacePasswordHash({ id: user.id, expected: user.passwordHash!, passwordHash })
      }
      await this.recordLogin({ id: user.id, at: new Date() })
    })
    return { outcome: 'authenticated', user: this.toUser(user) }
  }

  async resume({ principal }: { principal: SessionPrincipal }): Promise<User | null> {
    const user = await this.#unavailableOnStoreError(() => this.#store.getUserById({ id: principal.id }))
    if (user === null || user.disabled || user.sessionVersion !== principal.version) return null
    return this.toUser(user)
  }

  /**
   * Records the time of a successful login, as part of the login: a store outage here makes the
   * login unavailable. A subclass may record it another way (the SQL store's writes it while the
   * answer goes out).
   */
  protected recordLogin(args: { readonly id: string; readonly at: Date }): Promise<void> {
    return this.#store.recordLogin(args)
  }

  /** The {@link User} view of a stored account. */
  toUser(user: StoredUser): User {
    return {
      id: user.id,
      username: user.username,
      roles: [...user.roles],
      source: this.id,
      displayName: user.displayName ?? undefined,
      email: user.email ?? undefined,
      sessionVersion: user.sessionVersion,
    }
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= this.#hasher.hash(`dummy-${Math.random()}`)
    return this.#dummyHash
  }

  async #unavailableOnStoreError<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (error) {
      if (isAuthError(error, 'ERR_STORE_UNAVAILABLE')) throw new AuthenticatorUnavailableError(this.id, { cause: error })
      throw error
    }
  }
}

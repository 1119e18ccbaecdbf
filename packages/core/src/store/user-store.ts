/** A local account as a {@link UserStore} keeps it. */
export interface StoredUser {
  /** Opaque, stable id assigned by the store. */
  readonly id: string
  /** Normalized login name (NFKC + case fold); unique in the store. */
  readonly username: string
  readonly displayName: string | null
  readonly email: string | null
  readonly roles: readonly string[]
  readonly disabled: boolean
  /** Bumped by every change that must end open sessions (password, roles, disable, `endSessions`). */
  readonly sessionVersion: number
  /** Encoded hash (e.g. a PHC string); `null` for accounts that cannot log in with a password. */
  readonly passwordHash: string | null
  readonly createdAt: Date
  readonly updatedAt: Date
  readonly lastLoginAt: Date | null
}

/** What {@link UserStore.createUser} needs. */
export interface NewUser {
  /** Normalized by the store. */
  readonly username: string
  readonly passwordHash: string | null
  readonly roles?: readonly string[]
  readonly displayName?: string | null
  readonly email?: string | null
  readonly disabled?: boolean
}

/** A change another process (or this one) made, so that caches can drop what they hold. */
export type UserChange =
  /** Everything about this user may have changed (password, roles, disabled, deleted). */
  | { readonly type: 'user'; readonly id: string }
  /** This one session was ended (logout). */
  | { readonly type: 'session'; readonly sessionId: string }
  /**
   * The identity provider ended its session `providerSessionId` (or every session of `subject`):
   * Gatehouse sessions of `source` that carry it end too (OpenID back-channel logout).
   */
  | { readonly type: 'provider-session'; readonly source: string; readonly providerSessionId?: string; readonly subject?: string }
  /** The store cannot tell what changed: drop everything. */
  | { readonly type: 'all' }

/**
 * Where local accounts live. Plain domain verbs; absence is `null` (or `false`), never an error.
 *
 * Contract for implementations (the testkit's `describeUserStore` checks it):
 * - Usernames are normalized with `normalizeUsername` on every write and lookup, and unique after
 *   normalization. When two `createUser` calls race for one name, exactly one wins; the other
 *   throws `UserExistsError`.
 * - `setPassword`, `setRoles`, `setDisabled` and `deleteUser` end the user's open sessions by
 *   bumping `sessionVersion` (delete removes the row, which ends them too). Each is atomic.
 * - `endSessions` ends them and changes nothing else ("sign out everywhere"): one atomic
 *   increment, so two racing calls bump the version twice and neither is lost.
 * - Every change that ends sessions is announced to `subscribe` listeners as `{ type: 'user', id }`
 *   (and to other instances where the store reaches them), so cached sessions end at once.
 * - `replacePasswordHash` is a compare-and-swap used for rehash-on-login: it writes only when the
 *   stored hash still equals `expected`, so a racing `setPassword` always wins, and it does not
 *   bump the session version.
 * - A database that cannot be reached throws `StoreUnavailableError`; nothing is half-written.
 * - `subscribe`, when present, reports changes (including other processes' where the store can
 *   see them) so session caches can drop stale entries at once.
 */
export interface UserStore {
  getUserById(args: { readonly id: string }): Promise<StoredUser | null>
  getUserByUsername(args: { readonly username: string }): Promise<StoredUser | null>
  /** Throws `UserExistsError` when the normalized name is taken. */
  createUser(user: NewUser): Promise<StoredUser>
  /** Sets a new hash and ends open sessions. `null` when the user does not exist. */
  setPassword(args: { readonly id: string; readonly passwordHash: string }): Promise<StoredUser | null>
  /** Compare-and-swap of the hash (rehash on login). `true` when it was written. */
  replacePasswordHash(args: { readonly id: string; readonly expected: string; readonly passwordHash: string }): Promise<boolean>
  /** Replaces the user's roles and ends open sessions. `null` when the user does not exist. */
  setRoles(args: { readonly id: string; readonly roles: readonly string[] }): Promise<StoredUser | null>
  /** Disables or enables; disabling ends open sessions. `null` when the user does not exist. */
  setDisabled(args: { readonly id: string; readonly disabled: boolean }): Promise<StoredUser | null>
  /**
   * Ends every open session of the user ("sign out everywhere") by bumping `sessionVersion`,
   * and nothing else: the account, its password and roles stay as they are, and the user may
   * log in again at once. Resolves to the updated user; `null` when the user does not exist.
   *
   * @example
   * ```ts
   * const user = await store.getUserByUsername({ username: 'alice' })
   * if (user !== null) await store.endSessions({ id: user.id }) // alice's cookies are refused from now on
   * ```
   */
  endSessions(args: { readonly id: string }): Promise<StoredUser | null>
  /** `true` when a user was deleted. */
  deleteUser(args: { readonly id: string }): Promise<boolean>
  /** Records a successful login. */
  recordLogin(args: { readonly id: string; readonly at: Date }): Promise<void>
  /** One page of users ordered by normalized username, starting after `after` (exclusive). */
  listUsers(args: { readonly after?: string | undefined; readonly limit: number }): Promise<StoredUser[]>
  /** Reports changes; returns a function that stops the subscription. */
  subscribe?(listener: (change: UserChange) => void): () => void
}

/**
 * Remembers sessions ended by logout until they would have expired anyway, so a cookie captured
 * before logout is refused when replayed.
 */
export interface RevocationList {
  /** Ends one session. `expiresAt` is when the cookie expires on its own; the entry may go then. */
  revoke(args: { readonly sessionId: string; readonly expiresAt: Date }): Promise<void>
  /**
   * `true` when the session was revoked by id, or — for lists that implement
   * {@link RevocationList.revokeProviderSessions} — when its provider session or subject was ended
   * at or after `issuedAt`. Lists without provider revocation ignore the extra fields.
   */
  isRevoked(args: SessionHandle): Promise<boolean>
  /**
   * Ends every session of `source` that carries the provider session id `providerSessionId`, or
   * whose provider subject is `subject`, and was issued before now. Sessions issued later are not
   * affected. `expiresAt` bounds how long the entry must be kept. Announced to subscribers as a
   * `provider-session` change (in every instance the list can reach).
   */
  revokeProviderSessions?(args: ProviderSessionRevocation): Promise<void>
  subscribe?(listener: (change: UserChange) => void): () => void
}

/** What {@link RevocationList.isRevoked} is asked about one session. */
export interface SessionHandle {
  /** Gatehouse's own random session id. */
  readonly sessionId: string
  /** Id of the authenticator that vouched for the session's user. */
  readonly source?: string
  /** The identity provider's session id (`sid` claim) the session was started from, if any. */
  readonly providerSessionId?: string
  /** The identity provider's subject (`sub`), if any. */
  readonly subject?: string
  /** When the session was issued. */
  readonly issuedAt?: Date
}

/** What {@link RevocationList.revokeProviderSessions} ends; at least one of the two ids is given. */
export interface ProviderSessionRevocation {
  readonly source: string
  readonly providerSessionId?: string
  readonly subject?: string
  readonly expiresAt: Date
}

/**
 * Hashes and verifies passwords. Implementations must be slow on purpose (argon2id) and must
 * cap their own concurrency so that a login storm cannot starve other requests.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>
  /** `false` for a wrong password and for a corrupt or foreign hash; never throws for those. */
  verify(args: { readonly hash: string; readonly password: string }): Promise<boolean>
  /** `true` when the hash was made with weaker parameters than the current ones. */
  needsRehash(hash: string): boolean
}

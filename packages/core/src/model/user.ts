/**
 * A principal as Gatehouse sees it. Identity is `(source, id)`: an LDAP `alice` and a SQL `alice`
 * are different principals and never merge.
 */
export interface User {
  /** Stable id within its source (a database key, an LDAP DN, an OIDC `sub`). */
  readonly id: string
  /** Login name, normalized (see {@link normalizeUsername}). */
  readonly username: string
  /** Role names. Permissions are derived from them through the {@link RoleRegistry}. */
  readonly roles: readonly string[]
  /** Id of the authenticator that vouched for this user (`'sql'`, `'ldap'`, ...). */
  readonly source: string
  readonly displayName?: string | undefined
  readonly email?: string | undefined
  /** Extra, source-specific facts (e.g. token claims). Never used for authorization by Gatehouse. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  /** For users of a store: the session version their new sessions are bound to. */
  readonly sessionVersion?: number | undefined
}

/** The user of a request that nobody authenticated. It holds no roles. */
export const ANONYMOUS_USER: User = Object.freeze({
  id: '',
  username: 'anonymous',
  roles: Object.freeze([]) as readonly string[],
  source: 'anonymous',
})

/** `true` when `user` is someone (not {@link ANONYMOUS_USER}). */
export function isAuthenticated(user: User | undefined | null): user is User {
  return user != null && user !== ANONYMOUS_USER && user.source !== 'anonymous'
}

/**
 * Normalizes a login name once, everywhere: Unicode NFKC then case folding, surrounding white
 * space removed. `Alice`, `alice` and fullwidth `ａｌｉｃｅ` are one account.
 */
export function normalizeUsername(username: string): string {
  // toLowerCase after NFKC is the case fold JavaScript offers; NFKC again folds what lowering produced.
  return username.normalize('NFKC').toLowerCase().normalize('NFKC').trim()
}

import type { User } from '../model/user.js'

/** Credentials parsed from a login request. Authenticators read what they understand. */
export interface Credentials {
  /** As typed by the user; authenticators normalize it themselves where their backend wants. */
  readonly username: string
  readonly password: string
}

/** The outcome of an authentication attempt. Expected outcomes are values, never exceptions. */
export type AuthResult =
  | { readonly outcome: 'authenticated'; readonly user: User }
  | { readonly outcome: 'rejected'; readonly reason: RejectReason }
  /** Not mine: the registry tries the next authenticator. */
  | { readonly outcome: 'skipped' }

export type RejectReason = 'invalid-credentials' | 'disabled' | 'expired'

/**
 * What a session cookie remembers about its user. Sealed (encrypted and signed) in the cookie;
 * never a password, hash or token.
 */
export interface SessionPrincipal {
  /** Id of the authenticator that vouched for the user. */
  readonly source: string
  readonly id: string
  /** The store's session version at login; a newer version in the store ends this session. */
  readonly version: number
  /** The user as vouched for at login, for authenticators that have no store to ask. */
  readonly user: Pick<User, 'username' | 'roles' | 'displayName' | 'email'>
  /** When the user authenticated (ms since epoch). */
  readonly authenticatedAt: number
}

/**
 * A plugin that recognises users. Implement only what you support; one method is enough.
 *
 * Contract:
 * - Return `authenticated`, `rejected` or `skipped`; never throw for a wrong password.
 * - Throw {@link AuthenticatorUnavailableError} (with `cause`) when the backend is down, refused,
 *   timed out or failed TLS. The registry logs and counts it and goes on with the next one.
 * - Any other exception is a bug; the registry treats it like unavailability (fail closed).
 *
 * @example
 * ```ts
 * const apiKeys: Authenticator = {
 *   id: 'api-key',
 *   async identify({ request }) {
 *     const key = request.headers.get('x-api-key')
 *     if (key === null) return { outcome: 'skipped' }
 *     if (key !== process.env.API_KEY) return { outcome: 'rejected', reason: 'invalid-credentials' }
 *     return { outcome: 'authenticated', user: { id: 'robot', username: 'robot', roles: ['Viewer'], source: 'api-key' } }
 *   },
 * }
 * ```
 */
export interface Authenticator {
  /** Unique id, used as {@link User.source} of the users it vouches for. */
  readonly id: string
  /** Login: check credentials parsed from the login request. */
  authenticate?(args: { readonly credentials: Credentials; readonly request: Request }): Promise<AuthResult>
  /** Every request: recognise the caller from the request itself (e.g. an Authorization header). */
  identify?(args: { readonly request: Request }): Promise<AuthResult>
  /**
   * Turns a session's principal back into a live user, or `null` when it is gone, disabled or
   * its session version is stale (the session is then refused). Without `resume`, the session
   * trusts the user recorded at login until the cookie expires or is revoked.
   */
  resume?(args: { readonly principal: SessionPrincipal }): Promise<User | null>
  /** Releases connections and timers; `auth.close()` calls it. */
  close?(): Promise<void>
}

import type { Hono } from 'hono'
import type { Auth, AuthEnv } from '../hono/create-auth.js'
import type { Logger } from '../internal/logger.js'
import type { AuthMetrics } from '../metrics.js'
import type { User } from '../model/user.js'

/** Credentials parsed from a login request. Authenticators read what they understand. */
export interface Credentials {
  /** As typed by the user; authenticators normalize it themselves where their backend wants. */
  readonly username: string
  readonly password: string
}

/**
 * The outcome of an authentication attempt. Expected outcomes are values, never exceptions.
 *
 * - `rejected`: this authenticator knows the user (or owns the credential, e.g. a token of its
 *   issuer) and refuses it. The login counts as a failed attempt.
 * - `skipped`: not mine — the chain goes on.
 *
 * For a username it does not know, an authenticator that shares the login form with others
 * answers `skipped` (the SQL store's does, after the same dummy verify a known user costs, so
 * neither the answer nor its time tells who exists), so that a user of the next authenticator is
 * not counted as a failed password here. One that speaks for a whole directory may answer
 * `rejected` (LDAP does). A backend that cannot be asked throws instead. The HTTP answer is the
 * same 401 either way. The conformance suite (`describeAuthenticator`) asserts which one an
 * authenticator answers.
 */
export type AuthResult =
  | {
      readonly outcome: 'authenticated'
      readonly user: User
      /**
       * Scopes the presented credential grants (a bearer token's `scope`), checked by
       * `Protected({ requiredScopes })`. A cookie session never carries scopes. Treated as
       * immutable: an authenticator may hand back the same array for a cached credential.
       */
      readonly scopes?: readonly string[]
    }
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
  /** The identity provider's session this one was started from (OpenID Connect `sid`, `sub`). */
  readonly provider?: ProviderSession
}

/** An identity provider's session a Gatehouse session is tied to. */
export interface ProviderSession {
  /** The provider's session id (`sid` claim): its back-channel logout ends this session. */
  readonly sessionId?: string | undefined
  /** The provider's subject (`sub`): a logout of all the subject's sessions ends this one. */
  readonly subject?: string | undefined
  /** The Gatehouse session ends no later than this. */
  readonly expiresAt?: Date | undefined
}

/** What {@link Authenticator.health} reports: each backend check, how long it took. */
export interface AuthenticatorHealth {
  readonly ok: boolean
  readonly checks: ReadonlyArray<{
    readonly name: string
    readonly ok: boolean
    readonly durationMs: number
    readonly error?: string
    /** ISO date at which the backend's TLS certificate expires, for TLS endpoints. */
    readonly certificateExpiresAt?: string
  }>
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
  /**
   * Called once by `createAuth` with the app's logger and metrics, so the authenticator reports
   * its own events (bind or token latency, provider fetches) where the app looks.
   */
  attach?(args: { readonly logger: Logger; readonly metrics: AuthMetrics }): void
  /**
   * Routes of its own (a browser login's redirect and callback, a back-channel endpoint), mounted
   * by `auth.routes()` at its root: with `app.route('/auth', auth.routes())`, a route
   * `/oidc/login` answers at `/auth/oidc/login`. Core's CSRF checks do not apply to them.
   */
  routes?(args: { readonly auth: Auth }): Hono<AuthEnv>
  /** A "Sign in with …" button on the login page; `path` is relative to where the routes are mounted. */
  readonly loginButton?: { readonly label: string; readonly path: string }
  /**
   * Where a browser goes after logging out of a session this authenticator started (the
   * provider's logout page), or `null` for the login page.
   */
  logoutRedirect?(args: { readonly principal: SessionPrincipal }): string | null
  /** Checks that the backend answers; `auth.health()` calls it. Never throws. */
  health?(): Promise<AuthenticatorHealth>
}

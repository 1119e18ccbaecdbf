import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { AuthenticatorRegistry } from '../authenticators/authenticator-registry.js'
import type { Authenticator } from '../authenticators/authenticator.js'
import type { Logger } from '../internal/logger.js'
import { STDERR_LOGGER } from '../internal/logger.js'
import { RoleRegistry } from '../model/role-registry.js'
import type { Role } from '../model/role.js'
import type { User } from '../model/user.js'
import { ANONYMOUS_USER } from '../model/user.js'
import type { SessionCookie, SessionOptions, SessionState } from '../session/session-manager.js'
import { SessionManager } from '../session/session-manager.js'
import { MemoryRevocationList } from '../store/memory-revocation-list.js'
import type { RevocationList, UserChange, UserStore } from '../store/user-store.js'
import type { LoginThrottle } from '../throttle/login-throttle.js'
import { MemoryLoginThrottle } from '../throttle/memory-login-throttle.js'
import { loginRoutes } from './login-routes.js'
import { newCSRFToken } from './request-guards.js'

/** Size limits at the login boundary. Checked before any hashing. */
export interface LoginLimits {
  /** @default 16384 */
  readonly maxBodyBytes: number
  /** @default 256 (characters) */
  readonly maxUsernameLength: number
  /** Longer passwords are refused with 413 before they reach argon2. @default 1024 (bytes) */
  readonly maxPasswordBytes: number
}

/** Callbacks for auditing. They run after the response is decided; a throwing hook is logged. */
export interface AuthHooks {
  onLogin?(args: { user: User; request: Request }): void | Promise<void>
  onLoginFailed?(args: { username: string; reason: 'invalid-credentials' | 'throttled' | 'unavailable'; request: Request }): void | Promise<void>
  onLogout?(args: { user: User; request: Request }): void | Promise<void>
}

/** Options of {@link createAuth}. */
export interface CreateAuthOptions {
  /** The application's roles. The registry is frozen by `createAuth`. */
  readonly roles: RoleRegistry | Iterable<Role>
  /** The chain, in order (or a registry with explicit positions). Frozen by `createAuth`. */
  readonly authenticators: AuthenticatorRegistry | Iterable<Authenticator>
  readonly session: SessionOptions
  /**
   * The user store, if any: its change notifications keep the session cache fresh, and, when it is
   * also a {@link RevocationList}, logouts are recorded there (shared by every instance).
   */
  readonly store?: UserStore | (UserStore & RevocationList)
  /** Where logouts are remembered. @default the store when it is a RevocationList, else memory */
  readonly revocations?: RevocationList
  /** @default new MemoryLoginThrottle() */
  readonly throttle?: LoginThrottle
  /** @default warnings and errors as JSON lines on stderr */
  readonly logger?: Logger
  /** Where browsers are sent to log in. @default '/auth/login' */
  readonly loginPath?: string
  /** Where browsers go after login when no `next` is given. @default '/' */
  readonly defaultRedirect?: string
  /**
   * Peer addresses of reverse proxies whose `X-Forwarded-For` is believed. Without them the
   * socket address is the client address and `X-Forwarded-For` is ignored. @default []
   */
  readonly trustedProxies?: readonly string[]
  /** Origins besides the request's own that may post the login and logout forms. @default [] */
  readonly allowedOrigins?: readonly string[]
  readonly limits?: Partial<LoginLimits>
  readonly hooks?: AuthHooks
}

/** Hono environment of routes behind `auth.middleware()`: `c.var.user` is always set. */
export type AuthEnv = {
  Variables: {
    user: User
    gatehouse: RequestAuth
  }
}

/** Per-request state the middleware leaves for `Protected` and the routes. */
export interface RequestAuth {
  readonly auth: Auth
  readonly session: SessionState
  /** Nobody authenticated the request and an authenticator was unavailable (→ 503, not 401). */
  readonly unavailable: boolean
}

/** What {@link createAuth} returns. */
export interface Auth {
  readonly roles: RoleRegistry
  readonly authenticators: AuthenticatorRegistry
  readonly sessions: SessionManager
  readonly throttle: LoginThrottle
  readonly logger: Logger
  readonly options: ResolvedOptions
  /** Identifies the caller on every request and sets `c.var.user` (anonymous if nobody). */
  middleware(): MiddlewareHandler<AuthEnv>
  /** `GET /login`, `POST /login`, `POST /logout`, `GET /me`; mount it, e.g. `app.route('/auth', auth.routes())`. */
  routes(): Hono<AuthEnv>
  /** Permission names the user holds through their roles. */
  permissionsOf(user: User): Set<string>
  /** The CSRF token for forms that post to the login or logout route (sets its cookie if needed). */
  csrfToken(c: Context): string
  /** Sets a session cookie on the response. */
  setSessionCookie(c: Context, cookie: SessionCookie): void
  /** Stops listening to the store and closes every authenticator that has a `close`. */
  close(): Promise<void>
}

/** Options after defaults. */
export interface ResolvedOptions {
  readonly loginPath: string
  readonly defaultRedirect: string
  readonly trustedProxies: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly limits: LoginLimits
  readonly hooks: AuthHooks
  readonly csrfCookieName: string
}

/**
 * Builds Gatehouse for a Hono app. Validates every option now: a misconfiguration throws a
 * `TypeError` at startup, never at request time.
 *
 * @example
 * ```ts
 * const auth = createAuth({
 *   roles: [admin, user],
 *   authenticators: [new PasswordAuthenticator({ store, hasher })],
 *   session: { secret: process.env.AUTH_SECRET! },
 *   store,
 * })
 * const app = new Hono<AuthEnv>()
 * app.use(auth.middleware())
 * app.route('/auth', auth.routes())
 * app.get('/admin', Protected(['Administrator']), (c) => c.text(`hello ${c.var.user.username}`))
 * ```
 */
export function createAuth(options: CreateAuthOptions): Auth {
  if (typeof options !== 'object' || options === null) throw new TypeError('createAuth: options are required')
  const roles = options.roles instanceof RoleRegistry ? options.roles : new RoleRegistry(options.roles)
  const authenticators =
    options.authenticators instanceof AuthenticatorRegistry ? options.authenticators : new AuthenticatorRegistry(options.authenticators)
  if (authenticators.list().length === 0) throw new TypeError('createAuth: at least one authenticator is required')
  const logger = options.logger ?? STDERR_LOGGER
  roles.freeze()
  authenticators.freeze(logger)
  const revocations: RevocationList = options.revocations ?? (isRevocationList(options.store) ? options.store : new MemoryRevocationList())
  const sessions = new SessionManager(options.session, { registry: authenticators, revocations })
  const resolved = resolveOptions(options, sessions.secure)

  const onChange = (change: UserChange): void => sessions.invalidate(change)
  const unsubscribe = [options.store?.subscribe?.(onChange), revocations !== options.store ? revocations.subscribe?.(onChange) : undefined]

  const auth: Auth = {
    roles,
    authenticators,
    sessions,
    throttle: options.throttle ?? new MemoryLoginThrottle(),
    logger,
    options: resolved,
    middleware: () => authMiddleware(auth),
    routes: () => loginRoutes(auth),
    permissionsOf: (user) => roles.permissionsOf(user.roles),
    csrfToken(c) {
      const existing = getCookie(c, resolved.csrfCookieName)
      if (existing !== undefined && existing.length >= 32) return existing
      const token = newCSRFToken()
      setCookie(c, resolved.csrfCookieName, token, { httpOnly: true, secure: sessions.secure, sameSite: 'Strict', path: '/' })
      return token
    },
    setSessionCookie(c, cookie) {
      setCookie(c, cookie.name, cookie.value, {
        httpOnly: true,
        secure: cookie.secure,
        sameSite: 'Lax',
        path: '/',
        maxAge: cookie.maxAgeSeconds,
      })
    },
    async close() {
      for (const stop of unsubscribe) stop?.()
      await Promise.allSettled(authenticators.list().map((authenticator) => authenticator.close?.()))
    },
  }
  return auth
}

function authMiddleware(auth: Auth): MiddlewareHandler<AuthEnv> {
  return async function gatehouseAuth(c, next) {
    const cookie = getCookie(c, auth.sessions.cookieName)
    const session = await auth.sessions.read(cookie)
    let user: User = ANONYMOUS_USER
    let unavailable = false
    if (session.status === 'active') {
      user = session.user
      if (session.refresh) auth.setSessionCookie(c, await auth.sessions.refresh(session.payload))
    } else {
      unavailable = session.status === 'unavailable'
      // A dead cookie (expired, revoked, tampered) is removed so the browser stops sending it.
      if (cookie !== undefined && session.status === 'none') auth.setSessionCookie(c, auth.sessions.clearCookie())
      const identified = await auth.authenticators.identify({ request: c.req.raw })
      if (identified.outcome === 'authenticated') user = identified.user
      else if (identified.outcome === 'unavailable') unavailable = true
    }
    c.set('user', user)
    c.set('gatehouse', { auth, session, unavailable: unavailable && user === ANONYMOUS_USER })
    await next()
  }
}

function resolveOptions(options: CreateAuthOptions, secure: boolean): ResolvedOptions {
  const loginPath = options.loginPath ?? '/auth/login'
  if (!loginPath.startsWith('/') || loginPath.startsWith('//')) throw new TypeError('createAuth: loginPath must be a path such as "/auth/login"')
  const defaultRedirect = options.defaultRedirect ?? '/'
  if (!defaultRedirect.startsWith('/') || defaultRedirect.startsWith('//')) throw new TypeError('createAuth: defaultRedirect must be a path')
  const limits: LoginLimits = { maxBodyBytes: 16_384, maxUsernameLength: 256, maxPasswordBytes: 1024, ...options.limits }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`createAuth: limits.${name} must be a positive integer`)
  }
  for (const origin of options.allowedOrigins ?? []) {
    if (new URL(origin).origin !== origin) throw new TypeError(`createAuth: allowedOrigins entry "${origin}" is not an origin`)
  }
  return {
    loginPath,
    defaultRedirect,
    trustedProxies: [...(options.trustedProxies ?? [])],
    allowedOrigins: [...(options.allowedOrigins ?? [])],
    limits,
    hooks: options.hooks ?? {},
    csrfCookieName: secure ? '__Host-gatehouse-csrf' : 'gatehouse-csrf',
  }
}

function isRevocationList(store: unknown): store is UserStore & RevocationList {
  const candidate = store as Partial<RevocationList> | undefined
  return typeof candidate?.revoke === 'function' && typeof candidate.isRevoked === 'function'
}

import type { Context, Env, ErrorHandler, MiddlewareHandler, Next } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { audit } from '../audit.js'
import type { OutageCode } from '../errors.js'
import { isAuthError, outageOf } from '../errors.js'
import type { AuthMetrics } from '../metrics.js'
import { NOOP_METRICS } from '../metrics.js'
import { AuthenticatorRegistry } from '../authenticators/authenticator-registry.js'
import type { Authenticator, AuthenticatorHealth, ProviderSession } from '../authenticators/authenticator.js'
import type { Logger } from '../internal/logger.js'
import { readCookie } from '../internal/cookie.js'
import { STDERR_LOGGER } from '../internal/logger.js'
import { RoleRegistry } from '../model/role-registry.js'
import type { PermissionNameOf, Role, RoleNameOf } from '../model/role.js'
import type { User } from '../model/user.js'
import { ANONYMOUS_USER } from '../model/user.js'
import type { SessionCookie, SessionOptions, SessionState } from '../session/session-manager.js'
import { SessionManager } from '../session/session-manager.js'
import { MemoryRevocationList } from '../store/memory-revocation-list.js'
import type { ProviderSessionRevocation, RevocationList, UserChange, UserStore } from '../store/user-store.js'
import type { LoginThrottle } from '../throttle/login-throttle.js'
import { MemoryLoginThrottle } from '../throttle/memory-login-throttle.js'
import type { LoginFailureDelay } from './failure-delay.js'
import { FailureDelay } from './failure-delay.js'
import { errorResponse, statusOf } from './http-errors.js'
import type { LoginPageArgs } from './pages.js'
import { renderLoginPage } from './pages.js'
import type { ProtectedOptions } from './protected.js'
import { protectWith } from './protected.js'
import { loginRoutes } from './login-routes.js'
import { clientAddress, newCSRFToken, safeNextPath } from './request-guards.js'

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
export interface CreateAuthOptions<R extends Role = Role> {
  /**
   * The application's roles. The registry is frozen by `createAuth`. Their names become the
   * types `auth.protect` accepts, so a misspelled role is a compile error.
   */
  readonly roles: RoleRegistry<R> | Iterable<R>
  /** The chain, in order (or a registry with explicit positions). Frozen by `createAuth`. */
  readonly authenticators: AuthenticatorRegistry | Iterable<Authenticator>
  readonly session: SessionOptions
  /**
   * The user store, if any: its change notifications keep the session cache fresh, and, when it is
   * also a {@link RevocationList}, logouts are recorded there (shared by every instance).
   * `createAuth({ ...sql.authOptions, roles, session })` passes the SQL store's store, throttle and
   * authenticator together.
   */
  readonly store?: UserStore | (UserStore & RevocationList)
  /**
   * Where logouts are remembered. @default the store when it is a RevocationList; otherwise pass
   * `new MemoryRevocationList()` to accept that logouts hold in this process only (without either,
   * startup warns).
   */
  readonly revocations?: RevocationList
  /**
   * Login throttle. Pass `new MemoryLoginThrottle()` to accept counts kept in this process only
   * (without a throttle, that is the default and startup warns). @default new MemoryLoginThrottle()
   */
  readonly throttle?: LoginThrottle
  /** @default warnings and errors as JSON lines on stderr */
  readonly logger?: Logger
  /** Counters and latencies for dashboards (authenticators report theirs through the same object). @default NOOP_METRICS */
  readonly metrics?: AuthMetrics
  /** Where `auth.routes()` is mounted (`auth.mount(app)` mounts it there). @default '/auth' */
  readonly routesPath?: string
  /** Where browsers are sent to log in. @default `${routesPath}/login` */
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
  /**
   * Throttled logins (429) are answered after a short delay held on a timer, so that clients who
   * guess in a loop cannot take the event loop from signed-in users (see {@link LoginFailureDelay}).
   * @default { throttledMs: 250, invalidCredentialsMs: 0, maxPending: 1024 }
   */
  readonly failureDelay?: Partial<LoginFailureDelay>
  readonly hooks?: AuthHooks
  /**
   * Renders the login page instead of Gatehouse's, keeping the login route itself. Escape what
   * you interpolate; the form must post `username`, `password`, `csrf` and `next`.
   * @default Gatehouse's self-contained page
   */
  readonly loginPage?: (args: LoginPageArgs) => string
}

/** The variables `auth.middleware()` sets on every request. */
export type AuthVariables = {
  user: User
  gatehouse: RequestAuth
}

/**
 * Hono environment of routes behind `auth.middleware()`: `c.var.user` is always set. Pass the
 * app's own environment to compose: `new Hono<AuthEnv<{ Bindings: { DB: D1Database }; Variables: { requestId: string } }>>()`.
 */
export type AuthEnv<E extends Env = {}> = Omit<E, 'Variables'> & {
  Variables: AuthVariables & (E extends { Variables: infer V extends object } ? V : {})
}

/** Per-request state the middleware leaves for `Protected` and the routes. */
export interface RequestAuth {
  readonly auth: Auth
  readonly session: SessionState
  /**
   * How the caller was recognised: by the session cookie, by a credential the request carries
   * itself (a bearer token, an API key: no browser attaches those, so no CSRF check), or not.
   */
  readonly via: 'session' | 'credential' | 'none'
  /** Scopes the request's credential grants; always empty for a cookie session. */
  readonly scopes: ReadonlySet<string>
  /** The request presented `Authorization: Bearer` and no authenticator accepted it. */
  readonly bearerRefused: boolean
  /**
   * Nobody authenticated the request and a backend was down: which outage (→ 503, not 401), or
   * `undefined`.
   */
  readonly unavailable: OutageCode | undefined
  /** The outage's error, for logs and `auth.getUser`. */
  readonly error?: unknown
}

/**
 * What {@link createAuth} returns. `RoleName` and `PermissionName` are the registered names, as
 * literal types when the roles were written inline.
 */
export interface Auth<RoleName extends string = string, PermissionName extends string = string> {
  readonly roles: RoleRegistry
  readonly authenticators: AuthenticatorRegistry
  readonly sessions: SessionManager
  readonly throttle: LoginThrottle
  readonly logger: Logger
  readonly metrics: AuthMetrics
  readonly options: ResolvedOptions
  /** Identifies the caller on every request and sets `c.var.user` (anonymous if nobody). */
  middleware(): MiddlewareHandler<AuthEnv>
  /**
   * {@link Protected}, bound to this app's role registry: a role or permission name that is not
   * registered is a compile error and, should it slip through, a `TypeError` when the app is built.
   *
   * @example
   * ```ts
   * app.get('/admin', auth.protect(['Administrator']), (c) => c.text('admin'))
   * app.delete('/entries/:id', auth.protect({ requiredPermissions: ['delete'] }), handler)
   * ```
   */
  protect(requirements?: readonly RoleName[] | ProtectedOptions<RoleName, PermissionName>): MiddlewareHandler<AuthEnv>
  /**
   * Who is this request: the same identification as `auth.middleware()` (session cookie with its
   * revocation rules, then the per-request authenticators), for code outside the middleware chain
   * such as WebSocket upgrades, RPC handlers and tests. Anonymous when nobody; never throws for a
   * bad cookie or token; a backend outage throws its `AuthError` (`outageOf` names it).
   */
  getUser(request: Request): Promise<User>
  /** `GET /login`, `POST /login`, `POST /logout`, `GET /me`; mount it at `routesPath`: `app.route('/auth', auth.routes())`. */
  routes(): Hono<AuthEnv>
  /**
   * Installs Gatehouse on an app in one call: `auth.middleware()` on every route and
   * `auth.routes()` at `routesPath`, so the login page and the redirects to it cannot disagree.
   * Call it before the app's own routes.
   */
  mount<A extends Hono<any, any, any>>(app: A): A
  /** Permission names the user holds through their roles. */
  permissionsOf(user: User): Set<string>
  /** The CSRF token for forms that post to the login or logout route (sets its cookie if needed). */
  csrfToken(c: Context): string
  /**
   * Starts a new session for a user an authenticator has just vouched for outside the login form
   * (an OpenID Connect callback) and answers with a 303 to the sanitized `next`. The session the
   * browser carried before is ended (no fixation). With `providerSession` the session ends no later
   * than the provider's and with its back-channel logout.
   */
  signIn(c: Context<AuthEnv>, user: User, options?: { readonly next?: unknown; readonly providerSession?: ProviderSession }): Promise<Response>
  /** A sign-in outside the login form failed: logs `reason` and answers with a 303 to the login page. */
  signInFailed(c: Context<AuthEnv>, args: { readonly reason: string; readonly source: string }): Response
  /** Ends every session started from a provider session (or of a provider subject), in every instance. */
  revokeProviderSessions(args: Omit<ProviderSessionRevocation, 'expiresAt'>): Promise<void>
  /**
   * The app's error handler, so apps need not write their own: `app.onError(auth.onError)`.
   * Gatehouse errors become their JSON (or HTML) answer by code (an outage → 503); anything else
   * is logged and answered `500 ERR_INTERNAL` with a generic body.
   */
  readonly onError: ErrorHandler<AuthEnv>
  /** The health of every authenticator that can tell (see {@link Authenticator.health}). */
  health(): Promise<{ readonly ok: boolean; readonly authenticators: Readonly<Record<string, AuthenticatorHealth>> }>
  /**
   * Stops taking logins (they answer 503), waits up to `timeoutMs` for those in flight so their
   * throttle counts are settled, stops listening to the store and closes every authenticator that
   * has a `close`. Close the store after this.
   */
  close(options?: { readonly timeoutMs?: number }): Promise<void>
}

/** Options after defaults. */
export interface ResolvedOptions {
  readonly routesPath: string
  readonly loginPath: string
  readonly defaultRedirect: string
  readonly trustedProxies: readonly string[]
  readonly allowedOrigins: readonly string[]
  readonly limits: LoginLimits
  /** Holds the answers of refused logins; `auth.close()` sends what it holds. */
  readonly failureDelay: FailureDelay
  readonly hooks: AuthHooks
  readonly loginPage: (args: LoginPageArgs) => string
  readonly csrfCookieName: string
  /** Tracks logins in flight so that `close()` can wait for them. */
  readonly logins: LoginGate
}

/** Logins in flight; closed by `auth.close()`. */
export class LoginGate {
  #closed = false
  readonly #inFlight = new Set<Promise<unknown>>()

  get closed(): boolean {
    return this.#closed
  }

  /** Runs one login; its promise is awaited by {@link LoginGate.close}. */
  run<T>(login: () => Promise<T>): Promise<T> {
    const running = login()
    const settled = running
      .then(
        () => {},
        () => {},
      )
      .finally(() => this.#inFlight.delete(settled))
    this.#inFlight.add(settled)
    return running
  }

  /** Refuses new logins, then waits (at most `timeoutMs`) for those in flight. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline])
    clearTimeout(timer)
  }
}

/**
 * Builds Gatehouse for a Hono app. Validates every option now: a misconfiguration throws a
 * `TypeError` at startup, never at request time.
 *
 * @example
 * ```ts
 * const sql = await openSQLStore({ uri: process.env.AUTH_DB_URI })
 * const auth = createAuth({ ...sql.authOptions, roles: [admin, user], session: { secret: process.env.AUTH_SECRET! } })
 * const app = new Hono<AuthEnv>()
 * app.onError(auth.onError)
 * auth.mount(app)
 * app.get('/admin', auth.protect(['Administrator']), (c) => c.text(`hello ${c.var.user.username}`))
 * ```
 */
export function createAuth<R extends Role>(options: CreateAuthOptions<R>): Auth<RoleNameOf<R>, PermissionNameOf<R>> {
  if (typeof options !== 'object' || options === null) throw new TypeError('createAuth: options are required')
  const roles: RoleRegistry = options.roles instanceof RoleRegistry ? options.roles : new RoleRegistry(options.roles)
  const authenticators = options.authenticators instanceof AuthenticatorRegistry ? options.authenticators : new AuthenticatorRegistry(options.authenticators)
  if (authenticators.list().length === 0) throw new TypeError('createAuth: at least one authenticator is required')
  const logger = options.logger ?? STDERR_LOGGER
  const metrics = options.metrics ?? NOOP_METRICS
  roles.freeze()
  authenticators.freeze(logger, metrics)
  const revocations: RevocationList = options.revocations ?? (isRevocationList(options.store) ? options.store : new MemoryRevocationList())
  const sessions = new SessionManager(options.session, { registry: authenticators, revocations, metrics })
  const resolved = resolveOptions(options, sessions.secure)
  // The memory fallbacks hold in one process only: say what is lost unless chosen by name.
  if (options.revocations === undefined && !isRevocationList(options.store)) {
    logger.warn(
      { option: 'store' },
      'createAuth: no store or revocation list — logouts are remembered in this process only, so another instance accepts a replayed cookie; pass store (e.g. ...sql.authOptions) or revocations: new MemoryRevocationList()',
    )
  }
  if (options.throttle === undefined) {
    logger.warn(
      { option: 'throttle' },
      'createAuth: no login throttle — attempts are counted in this process only, so each instance allows its own guesses; pass throttle (e.g. ...sql.authOptions) or throttle: new MemoryLoginThrottle()',
    )
  }

  const onChange = (change: UserChange): void => {
    sessions.invalidate(change)
    metrics.revocation({ kind: change.type, origin: 'store' })
    audit({ logger, metrics }, 'session.revoked', { kind: change.type, ...(change.type === 'provider-session' && { source: change.source }) })
  }
  const unsubscribe = [options.store?.subscribe?.(onChange), revocations !== options.store ? revocations.subscribe?.(onChange) : undefined]

  const auth: Auth<RoleNameOf<R>, PermissionNameOf<R>> = {
    roles,
    authenticators,
    sessions,
    throttle: options.throttle ?? new MemoryLoginThrottle(),
    logger,
    metrics,
    options: resolved,
    middleware: () => authMiddleware(auth),
    protect: (requirements) => protectWith(auth, requirements),
    async getUser(request) {
      const authorization = request.headers.get('authorization')
      const bearer = authorization !== null && BEARER.test(authorization)
      const cookie = bearer ? undefined : readCookie(request.headers.get('cookie'), sessions.cookieName)
      const { user, state } = await identify(auth, request, { bearer, cookie, address: () => undefined, refresh: false })
      if (state.unavailable !== undefined) throw state.error
      return user
    },
    routes: () => loginRoutes(auth),
    mount(app) {
      app.use(auth.middleware())
      app.route(resolved.routesPath, auth.routes())
      return app
    },
    permissionsOf: (user) => roles.permissionsOf(user.roles),
    csrfToken(c) {
      const existing = getCookie(c, resolved.csrfCookieName)
      if (existing !== undefined && existing.length >= 32) return existing
      const token = newCSRFToken()
      setCookie(c, resolved.csrfCookieName, token, { httpOnly: true, secure: sessions.secure, sameSite: 'Strict', path: '/' })
      return token
    },
    async signIn(c, user, { next, providerSession } = {}) {
      await startSession(auth, c, user, providerSession)
      return c.redirect(safeNextPath(next, resolved.defaultRedirect), 303)
    },
    signInFailed(c, { reason, source }) {
      c.header('Cache-Control', 'no-store')
      logger.warn({ source, reason, address: clientAddress(c, resolved.trustedProxies) }, 'sign-in failed')
      return c.redirect(`${resolved.loginPath}?error=signin-failed`, 303)
    },
    revokeProviderSessions: (args) => sessions.revokeProviderSessions(args),
    onError(error, c) {
      if (error instanceof HTTPException) return error.getResponse()
      const outage = outageOf(error)
      if (outage !== undefined) {
        logger.warn({ path: c.req.path, err: error.message }, 'backend unavailable')
        return errorResponse(c, outage)
      }
      if (isAuthError(error) && statusOf(error.code) < 500) return errorResponse(c, error.code)
      logger.error({ path: c.req.path, err: String(error) }, 'request failed')
      return errorResponse(c, 'ERR_INTERNAL')
    },
    async health() {
      const checked = await Promise.all(authenticators.list().flatMap((a) => (a.health ? [a.health().then((health) => [a.id, health] as const)] : [])))
      return { ok: checked.every(([, health]) => health.ok), authenticators: Object.fromEntries(checked) }
    },
    async close({ timeoutMs = 10_000 } = {}) {
      // Held refusals go out now: shutting down never waits for their timers.
      resolved.failureDelay.close()
      await resolved.logins.close(timeoutMs)
      for (const stop of unsubscribe) stop?.()
      await Promise.allSettled(authenticators.list().map((authenticator) => authenticator.close?.()))
    },
  }
  return auth
}

/** Sets a session cookie on the response: HttpOnly, SameSite=Lax, Path=/, Secure unless turned off. */
export function setSessionCookie(c: Context, cookie: SessionCookie): void {
  setCookie(c, cookie.name, cookie.value, { httpOnly: true, secure: cookie.secure, sameSite: 'Lax', path: '/', maxAge: cookie.maxAgeSeconds })
}

/**
 * Issues a new session cookie for `user`; a session the browser still carried is ended first
 * (no fixation). Shared by the login form and {@link Auth.signIn}.
 */
export async function startSession(auth: Auth, c: Context<AuthEnv>, user: User, providerSession?: ProviderSession): Promise<void> {
  const unknownRoles = user.roles.filter((role) => !auth.roles.has(role))
  if (unknownRoles.length > 0) {
    // Grants nothing, but usually a typo in a group → role mapping that someone should see.
    auth.logger.warn({ source: user.source, roles: unknownRoles }, 'user holds roles the role registry does not know')
  }
  const previous = c.get('gatehouse')?.session
  if (previous?.status === 'active') await auth.sessions.revoke(previous.payload)
  setSessionCookie(c, await auth.sessions.issue(user, Date.now(), providerSession))
  audit(auth, 'login.succeeded', { username: user.username, source: user.source, address: clientAddress(c, auth.options.trustedProxies) })
}

/** RFC 6750: the scheme is case-insensitive. */
const BEARER = /^bearer[ \t]/i
const NO_SCOPES: ReadonlySet<string> = Object.freeze(new Set<string>())
// A cached bearer verification hands back the same result each time: its scope set is built once.
const SCOPE_SETS = new WeakMap<readonly string[], ReadonlySet<string>>()

function scopeSet(scopes: readonly string[] | undefined): ReadonlySet<string> {
  if (scopes === undefined || scopes.length === 0) return NO_SCOPES
  let set = SCOPE_SETS.get(scopes)
  if (set === undefined) {
    set = new Set(scopes)
    SCOPE_SETS.set(scopes, set)
  }
  return set
}
const NO_SESSION: SessionState = Object.freeze({ status: 'none' })

function authMiddleware(auth: Auth): MiddlewareHandler<AuthEnv> {
  const { sessions, options } = auth
  // Nobody, when no authenticator could identify a request without a cookie: decided at once.
  const nobody = auth.authenticators.identifiesRequests
    ? undefined
    : { user: ANONYMOUS_USER, state: Object.freeze<RequestAuth>({ auth, session: NO_SESSION, via: 'none', scopes: NO_SCOPES, bearerRefused: false, unavailable: undefined }) }
  // Headers are set before `next()`: set after it, Hono rebuilds the finished response from its
  // body stream and @hono/node-server leaves its fast path. A request decided without waiting (a
  // cached session, or nobody) returns `next()` itself: an async layer costs a promise per request.
  const gatehouseAuth = (c: Context<AuthEnv>, next: Next): Promise<void> => {
    const authorization = c.req.header('authorization')
    const bearer = authorization !== undefined && BEARER.test(authorization)
    const cookie = bearer ? undefined : readCookie(c.req.header('cookie'), sessions.cookieName)
    if (bearer || cookie !== undefined) {
      // The answer depends on the credential: keep it out of shared caches.
      c.header('Cache-Control', 'no-store')
      c.header('Vary', bearer ? 'Authorization' : 'Cookie', { append: true })
    }
    const known = bearer ? undefined : cookie === undefined ? nobody : cachedSession(auth, cookie)
    if (known !== undefined) {
      c.set('user', known.user)
      c.set('gatehouse', known.state)
      return next()
    }
    return identifyThenNext(c, next, bearer, cookie)
  }
  async function identifyThenNext(c: Context<AuthEnv>, next: Next, bearer: boolean, cookie: string | undefined): Promise<void> {
    const { user, state, setCookie } = await identify(auth, c.req.raw, { bearer, cookie, address: () => clientAddress(c, options.trustedProxies), refresh: true })
    if (setCookie !== undefined) setSessionCookie(c, setCookie)
    // A credential of another kind (an API key header) is just as personal.
    if (!bearer && cookie === undefined && state.via === 'credential') c.header('Cache-Control', 'no-store')
    c.set('user', user)
    c.set('gatehouse', state)
    await next()
  }
  return gatehouseAuth
}

/** A session the cache already knows, active and not due for a refresh; `undefined` when `identify` must run. */
function cachedSession(auth: Auth, cookie: string): { user: User; state: RequestAuth } | undefined {
  const session = auth.sessions.readCached(cookie)
  if (session?.status !== 'active' || session.refresh) return undefined
  return { user: session.user, state: sessionState(auth, session) }
}

function sessionState(auth: Auth, session: SessionState): RequestAuth {
  return { auth, session, via: 'session', scopes: NO_SCOPES, bearerRefused: false, unavailable: undefined }
}

/** Who a request is, and what its response must carry. Shared by the middleware and `getUser`. */
async function identify(
  auth: Auth,
  request: Request,
  args: { readonly bearer: boolean; readonly cookie: string | undefined; readonly address: () => string | undefined; readonly refresh: boolean },
): Promise<{ user: User; state: RequestAuth; setCookie?: SessionCookie }> {
  const { sessions, authenticators, logger } = auth
  if (args.bearer) {
    // A presented bearer token decides the request: a refused one never falls back to a cookie.
    const identified = await authenticators.identify({ request })
    const accepted = identified.outcome === 'authenticated'
    const unavailable = identified.outcome === 'unavailable' ? chainOutage(identified.errors) : undefined
    if (!accepted && !unavailable) audit(auth, 'token.refused', { address: args.address() })
    const state: RequestAuth = {
      auth,
      session: NO_SESSION,
      via: accepted ? 'credential' : 'none',
      scopes: accepted ? scopeSet(identified.scopes) : NO_SCOPES,
      bearerRefused: !accepted && !unavailable,
      unavailable,
      ...(unavailable && identified.outcome === 'unavailable' && { error: identified.errors[0] }),
    }
    return { user: accepted ? identified.user : ANONYMOUS_USER, state }
  }
  const session = args.cookie === undefined ? NO_SESSION : await sessions.read(args.cookie)
  if (session.status === 'active') {
    const setCookie = args.refresh && session.refresh ? await sessions.refresh(session.payload) : undefined
    return { user: session.user, state: sessionState(auth, session), ...(setCookie && { setCookie }) }
  }
  let unavailable = session.status === 'unavailable' ? outageOf(session.error) : undefined
  let error = session.status === 'unavailable' ? session.error : undefined
  let setCookie: SessionCookie | undefined
  if (session.status === 'none' && args.cookie !== undefined) {
    if (session.reason === 'invalid') audit(auth, 'session.invalid', { address: args.address() })
    // A dead cookie (expired, revoked, tampered) is removed so the browser stops sending it.
    setCookie = sessions.clearCookie()
  }
  const identified = await authenticators.identify({ request })
  if (identified.outcome === 'authenticated') {
    const scopes = scopeSet(identified.scopes)
    return { user: identified.user, state: { auth, session, via: 'credential', scopes, bearerRefused: false, unavailable: undefined }, ...(setCookie && { setCookie }) }
  }
  if (identified.outcome === 'unavailable' && unavailable === undefined) {
    unavailable = chainOutage(identified.errors)
    error = identified.errors[0]
  }
  const state: RequestAuth = { auth, session, via: 'none', scopes: NO_SCOPES, bearerRefused: false, unavailable, ...(error !== undefined && { error }) }
  return { user: ANONYMOUS_USER, state, ...(setCookie && { setCookie }) }
}

/** The outage a chain's failures stand for: the store's only when every failure was the store's. */
export function chainOutage(errors: readonly unknown[]): OutageCode {
  return errors.length > 0 && errors.every((error) => outageOf(error) === 'ERR_STORE_UNAVAILABLE') ? 'ERR_STORE_UNAVAILABLE' : 'ERR_AUTHENTICATOR_UNAVAILABLE'
}

function resolveOptions(options: CreateAuthOptions, secure: boolean): ResolvedOptions {
  const routesPath = options.routesPath ?? '/auth'
  if (!/^\/[^/\\]/.test(routesPath) || routesPath.endsWith('/')) throw new TypeError('createAuth: routesPath must be a path such as "/auth"')
  const loginPath = options.loginPath ?? `${routesPath}/login`
  if (!loginPath.startsWith('/') || loginPath.startsWith('//')) throw new TypeError('createAuth: loginPath must be a path such as "/auth/login"')
  const defaultRedirect = options.defaultRedirect ?? '/'
  if (!defaultRedirect.startsWith('/') || defaultRedirect.startsWith('//')) throw new TypeError('createAuth: defaultRedirect must be a path')
  const limits: LoginLimits = { maxBodyBytes: 16_384, maxUsernameLength: 256, maxPasswordBytes: 1024, ...options.limits }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`createAuth: limits.${name} must be a positive integer`)
  }
  if (options.loginPage !== undefined && typeof options.loginPage !== 'function') throw new TypeError('createAuth: loginPage must be a function')
  for (const origin of options.allowedOrigins ?? []) {
    if (new URL(origin).origin !== origin) throw new TypeError(`createAuth: allowedOrigins entry "${origin}" is not an origin`)
  }
  return {
    routesPath,
    loginPath,
    defaultRedirect,
    trustedProxies: [...(options.trustedProxies ?? [])],
    allowedOrigins: [...(options.allowedOrigins ?? [])],
    limits,
    failureDelay: new FailureDelay(options.failureDelay),
    hooks: options.hooks ?? {},
    loginPage: options.loginPage ?? renderLoginPage,
    csrfCookieName: secure ? '__Host-gatehouse-csrf' : 'gatehouse-csrf',
    logins: new LoginGate(),
  }
}

function isRevocationList(store: unknown): store is UserStore & RevocationList {
  const candidate = store as Partial<RevocationList> | undefined
  return typeof candidate?.revoke === 'function' && typeof candidate.isRevoked === 'function'
}

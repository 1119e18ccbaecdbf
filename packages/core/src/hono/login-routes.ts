import type { Context } from 'hono'
import { Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { HTTPException } from 'hono/http-exception'
import type { Credentials } from '../authenticators/authenticator.js'
import { audit } from '../audit.js'
import type { OutageCode } from '../errors.js'
import { RequestRejectedError, isAuthError, outageOf } from '../errors.js'
import type { User } from '../model/user.js'
import { isAuthenticated, normalizeUsername } from '../model/user.js'
import type { Auth, AuthEnv, AuthHooks } from './create-auth.js'
import { chainOutage, setSessionCookie, startSession } from './create-auth.js'
import { errorResponse, statusOf } from './http-errors.js'
import { clientAddress, csrfTokensMatch, isCrossSite, readBodyLimited, safeNextPath } from './request-guards.js'

type Mode = 'form' | 'json'

interface LoginBody {
  readonly mode: Mode
  readonly fields: Readonly<Record<string, unknown>>
}

/** The login, logout and "who am I" routes. See `Auth.routes()`. */
export function loginRoutes(auth: Auth): Hono<AuthEnv> {
  const { options, sessions, throttle, authenticators, logger } = auth
  const { limits } = options
  const routes = new Hono<AuthEnv>()
  // The routes work whether or not the app installed `auth.middleware()` in front of them.
  const identify = auth.middleware()
  let mountChecked = false
  routes.use(async function gatehouseEnsureIdentified(c, next) {
    if (!mountChecked) {
      mountChecked = true
      // Browsers are sent to loginPath: routes mounted elsewhere would send them to a 404.
      if (!c.req.path.startsWith(`${options.routesPath}/`)) {
        logger.error({ path: c.req.path, routesPath: options.routesPath }, 'auth.routes() is not mounted at routesPath: set createAuth({ routesPath }) or use auth.mount(app)')
      }
    }
    if (c.get('gatehouse') === undefined) return identify(c, next)
    await next()
  })

  // A store or throttle that is down mid-request (revoking at logout, counting a failure) is a
  // 503 with the generic body, never a 500 that hides what happened.
  routes.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse()
    const outage = outageOf(error)
    if (outage !== undefined) {
      logger.warn({ path: c.req.path, err: error.message }, 'backend unavailable')
      return errorResponse(c, outage, { html: contentMode(c) === 'form' })
    }
    throw error
  })

  const buttons = authenticators.list().flatMap((a) => (a.loginButton ? [a.loginButton] : []))
  /** The providers' "Sign in with …" links, next to the login page wherever the routes are mounted. */
  const providerLinks = (c: Context, next: string) => {
    const base = c.req.path.slice(0, c.req.path.lastIndexOf('/') + 1)
    return buttons.map(({ label, path }) => ({ label, href: `${base}${path}?next=${encodeURIComponent(next)}` }))
  }
  routes.get('/login', (c) => {
    noStore(c)
    const next = safeNextPath(c.req.query('next'), options.defaultRedirect)
    const error = c.req.query('error') === 'signin-failed' ? 'Sign-in did not complete. Please try again.' : undefined
    return c.html(options.loginPage({ csrfToken: auth.csrfToken(c), next, error, providers: providerLinks(c, next) }))
  })

  const { logins, failureDelay } = options
  routes.post('/login', async function gatehouseLogin(c) {
    const response = await logins.run(() => login(c))
    // Held outside the login gate: the attempt is settled already, and close() sends held answers.
    return failureDelay.answer(response)
  })
  async function login(c: Context<AuthEnv>): Promise<Response> {
    noStore(c)
    let body: LoginBody
    try {
      body = await readLoginBody(c, auth)
    } catch (error) {
      return rejected(c, error, contentMode(c) === 'form')
    }
    const { mode, fields } = body
    const next = safeNextPath(fields.next, options.defaultRedirect)
    const fail = (code: 'ERR_INVALID_CREDENTIALS' | 'ERR_TOO_MANY_ATTEMPTS' | OutageCode, retryAfterSeconds?: number) => {
      if (mode === 'json') return errorResponse(c, code, retryAfterSeconds === undefined ? { html: false } : { html: false, retryAfterSeconds })
      const message =
        code === 'ERR_INVALID_CREDENTIALS'
          ? 'Invalid username or password.'
          : code === 'ERR_TOO_MANY_ATTEMPTS'
            ? 'Too many attempts. Try again later.'
            : 'Sign-in is temporarily unavailable. Try again later.'
      if (retryAfterSeconds !== undefined) c.header('Retry-After', String(retryAfterSeconds))
      return c.html(options.loginPage({ csrfToken: auth.csrfToken(c), next, error: message, username: String(fields.username ?? ''), providers: providerLinks(c, next) }), statusOf(code))
    }
    // Shutting down: an attempt that started now could not be settled before the store closes.
    if (auth.options.logins.closed) return fail('ERR_AUTHENTICATOR_UNAVAILABLE')

    const credentials: Credentials = { username: fields.username as string, password: fields.password as string }
    const username = normalizeUsername(credentials.username)
    const device = await sessions.deviceOf(getCookie(c, sessions.deviceCookieName), username)
    const attempt = { username, address: clientAddress(c, options.trustedProxies), device }
    // Counted in advance by the same atomic step that lets it through, so parallel guesses (in
    // every instance) cannot all slip past the limit; a throttled attempt costs no hashing at all.
    const decision = await throttle.begin(attempt)
    if (!decision.allowed) {
      auth.metrics.loginAttempt({ authenticator: undefined, outcome: 'throttled' })
      audit(auth, 'login.throttled', { username: attempt.username, address: attempt.address, retryAfterSeconds: decision.retryAfterSeconds })
      void runHook(auth, 'onLoginFailed', { username: attempt.username, reason: 'throttled', request: c.req.raw })
      return fail('ERR_TOO_MANY_ATTEMPTS', decision.retryAfterSeconds)
    }
    const result = await authenticators.authenticate({ credentials, request: c.req.raw })
    if (result.outcome === 'unavailable') {
      // Not the user's fault, unless another authenticator did check and refuse the password: then
      // it stays counted, or an outage elsewhere would switch brute-force protection off.
      if (!result.rejected) await throttle.abandoned(attempt)
      auth.metrics.loginAttempt({ authenticator: undefined, outcome: 'unavailable' })
      audit(auth, 'login.unavailable', { username: attempt.username, address: attempt.address })
      void runHook(auth, 'onLoginFailed', { username: attempt.username, reason: 'unavailable', request: c.req.raw })
      return fail(chainOutage(result.errors))
    }
    if (result.outcome !== 'authenticated') {
      auth.metrics.loginAttempt({ authenticator: undefined, outcome: 'failed' })
      audit(auth, 'login.failed', { username: attempt.username, address: attempt.address })
      void runHook(auth, 'onLoginFailed', { username: attempt.username, reason: 'invalid-credentials', request: c.req.raw })
      return fail('ERR_INVALID_CREDENTIALS')
    }
    // Settled while the answer goes out: the count only shrinks here, so in the meantime the
    // throttle errs on the strict side (and a later attempt of this process queues behind it in
    // the SQL throttle's write order). The login gate tracks it, so close() waits for it.
    void logins
      .run(() => throttle.succeeded(attempt))
      .catch((error: unknown) => {
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'login throttle: a success could not be settled')
      })
    auth.metrics.loginAttempt({ authenticator: result.user.source, outcome: 'succeeded' })
    // Both seals at once: each is a few hops through the crypto thread pool.
    const [, deviceCookie] = await Promise.all([startSession(auth, c, result.user), device === undefined ? sessions.issueDevice(username) : null])
    if (deviceCookie !== null) {
      setCookie(c, deviceCookie.name, deviceCookie.value, { httpOnly: true, secure: deviceCookie.secure, sameSite: 'Strict', path: '/', maxAge: deviceCookie.maxAgeSeconds })
    }
    void runHook(auth, 'onLogin', { user: result.user, request: c.req.raw })
    if (mode === 'json') return c.json({ user: describeUser(auth, result.user) })
    return c.redirect(next, 303)
  }

  routes.post('/logout', async function gatehouseLogout(c) {
    noStore(c)
    const form = contentMode(c) === 'form'
    try {
      if (isCrossSite(c, options.allowedOrigins)) throw new RequestRejectedError('ERR_CSRF', 'cross-site logout')
      if (form) {
        const fields = await parseBody(c, 'form', limits.maxBodyBytes)
        if (!csrfTokensMatch(fields.csrf, getCookie(c, options.csrfCookieName))) throw new RequestRejectedError('ERR_CSRF', 'bad csrf token')
      } else if (contentMode(c) !== 'json') {
        // A JSON (or empty-bodied fetch with the JSON type) logout cannot be sent by a cross-site form.
        throw new RequestRejectedError('ERR_UNSUPPORTED_MEDIA_TYPE', 'logout needs a form or application/json')
      }
    } catch (error) {
      return rejected(c, error, form)
    }
    // Cleared first: even when the revocation store is down (503), this browser is signed out.
    setSessionCookie(c, sessions.clearCookie())
    const state = c.get('gatehouse')?.session
    // Also when the store could not confirm the user: a valid cookie is revoked all the same (or
    // the logout fails with 503), so a copy of it cannot come back once the store does.
    if (state?.status === 'active' || state?.status === 'unavailable') await sessions.revoke(state.payload)
    if (state?.status === 'active') {
      audit(auth, 'logout', { username: state.user.username, source: state.user.source })
      void runHook(auth, 'onLogout', { user: state.user, request: c.req.raw })
    }
    if (!form) return c.body(null, 204)
    // A session an identity provider started is ended there too (RP-initiated logout).
    const principal = state?.status === 'active' || state?.status === 'unavailable' ? state.payload.principal : undefined
    const providerLogout = principal && authenticators.get(principal.source)?.logoutRedirect?.({ principal })
    return c.redirect(providerLogout ?? options.loginPath, 303)
  })

  routes.get('/me', (c) => {
    noStore(c)
    const user = c.get('user')
    if (!isAuthenticated(user)) return errorResponse(c, c.get('gatehouse')?.unavailable ?? 'ERR_UNAUTHENTICATED', { html: false })
    return c.json({ user: describeUser(auth, user) })
  })

  // Authenticators' own routes (a provider's login and callback) sit beside these.
  for (const authenticator of authenticators.list()) {
    const own = authenticator.routes?.({ auth })
    if (own) routes.route('/', own)
  }
  return routes
}

/** The JSON shape of a user in `/me` and the JSON login answer. */
function describeUser(auth: Auth, user: User) {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName ?? null,
    email: user.email ?? null,
    source: user.source,
    roles: [...user.roles],
    permissions: [...auth.permissionsOf(user)].sort(),
  }
}

async function readLoginBody(c: Context<AuthEnv>, auth: Auth): Promise<LoginBody> {
  const { options } = auth
  const mode = contentMode(c)
  if (mode === undefined) throw new RequestRejectedError('ERR_UNSUPPORTED_MEDIA_TYPE', 'login needs a form or application/json')
  if (isCrossSite(c, options.allowedOrigins)) throw new RequestRejectedError('ERR_CSRF', 'cross-site login')
  const fields = await parseBody(c, mode, options.limits.maxBodyBytes)
  // Forms need the CSRF token; a JSON body cannot be sent cross-site without a CORS preflight.
  if (mode === 'form' && !csrfTokensMatch(fields.csrf, getCookie(c, options.csrfCookieName))) {
    throw new RequestRejectedError('ERR_CSRF', 'bad csrf token')
  }
  const { username, password } = fields
  if (typeof username !== 'string' || typeof password !== 'string' || username.trim() === '' || password === '') {
    throw new RequestRejectedError('ERR_BAD_REQUEST', 'username and password are required')
  }
  if (username.length > options.limits.maxUsernameLength || Buffer.byteLength(password) > options.limits.maxPasswordBytes) {
    throw new RequestRejectedError('ERR_PAYLOAD_TOO_LARGE', 'username or password too long')
  }
  return { mode, fields }
}

function contentMode(c: Context): Mode | undefined {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'application/json') return 'json'
  if (type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data') return 'form'
  return undefined
}

const UTF8 = new TextDecoder()
const URLENCODED = /^\s*application\/x-www-form-urlencoded\s*(?:;|$)/i

async function parseBody(c: Context, mode: Mode, maxBytes: number): Promise<Record<string, unknown>> {
  const bytes = await readBodyLimited(c.req.raw, maxBytes)
  try {
    if (mode === 'json') {
      const parsed: unknown = JSON.parse(UTF8.decode(bytes))
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('not an object')
      // Copy own string-keyed fields onto a null-prototype object: `__proto__` keys grant nothing.
      return Object.assign(Object.create(null) as Record<string, unknown>, parsed)
    }
    const type = c.req.header('content-type')!
    // A urlencoded form is what URLSearchParams parses (as formData() would, without a Response).
    const form = URLENCODED.test(type) ? new URLSearchParams(UTF8.decode(bytes)) : await new Response(bytes, { headers: { 'content-type': type } }).formData()
    const fields = Object.create(null) as Record<string, unknown>
    for (const [key, value] of form) if (typeof value === 'string' && !(key in fields)) fields[key] = value
    return fields
  } catch (error) {
    throw new RequestRejectedError('ERR_BAD_REQUEST', 'malformed body', { cause: error })
  }
}

function rejected(c: Context, error: unknown, html: boolean): Response {
  if (!isAuthError(error)) throw error
  return errorResponse(c, error.code, { html })
}

function noStore(c: Context): void {
  c.header('Cache-Control', 'no-store')
}

async function runHook<K extends keyof AuthHooks>(auth: Auth, name: K, args: Parameters<NonNullable<AuthHooks[K]>>[0]): Promise<void> {
  try {
    await (auth.options.hooks[name] as ((a: typeof args) => unknown) | undefined)?.(args)
  } catch (error) {
    auth.logger.error({ hook: name, err: String(error) }, 'hook failed')
  }
}

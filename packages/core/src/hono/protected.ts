import type { Context, MiddlewareHandler, Next } from 'hono'
import { audit } from '../audit.js'
import { STDERR_LOGGER } from '../internal/logger.js'
import type { User } from '../model/user.js'
import { isAuthenticated } from '../model/user.js'
import type { Auth, AuthEnv } from './create-auth.js'
import { errorResponse, wantsHTML } from './http-errors.js'
import { clientAddress, isCrossSite } from './request-guards.js'

/**
 * What a route requires: data, so other parts (an OpenAPI document, a policy) can read the same
 * object the guard checks. Every given requirement must hold.
 */
export interface ProtectedOptions<RoleName extends string = string, PermissionName extends string = string> {
  /** Role names; the user needs any of them (all of them with `requireAll`). */
  readonly requiredRoles?: readonly RoleName[]
  /** Permission names; the user needs any of them (all of them with `requireAll`). */
  readonly requiredPermissions?: readonly PermissionName[]
  /**
   * Scopes the request's bearer token must grant (any of them; all with `requireAll`). A cookie
   * session never satisfies them.
   */
  readonly requiredScopes?: readonly string[]
  /** Require every listed role, permission and scope instead of any one. @default false */
  readonly requireAll?: boolean
  /** A custom check that runs after the others; `false` → 403. */
  readonly check?: (user: User, c: Context<AuthEnv>) => boolean | Promise<boolean>
  /**
   * Let anonymous callers through (with `c.var.user` anonymous) while still marking the response
   * `no-store`. Cannot be combined with requirements. @default false
   */
  readonly optional?: boolean
  /**
   * Refuse unsafe methods (POST, PUT, PATCH, DELETE, …) authenticated by the session cookie when
   * the browser says the request is cross-site (`Sec-Fetch-Site`, else `Origin`) and the origin is
   * not in `allowedOrigins`: 403 `ERR_CSRF`, the handler does not run. `SameSite=Lax` alone does
   * not cover sibling subdomains. Requests with a bearer token or an API key are exempt: no
   * browser attaches those on its own. @default true
   */
  readonly csrf?: boolean
}

const KNOWN_OPTIONS = new Set(['requiredRoles', 'requiredPermissions', 'requiredScopes', 'requireAll', 'check', 'optional', 'csrf'])
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer error="invalid_token"' }

/**
 * Guards a route. `Protected()` admits any authenticated user; `Protected(['Administrator'])`
 * admits users holding that role; the options form combines roles, permissions and a check.
 *
 * Anonymous → 401 JSON for API clients, a redirect to the login page for browsers (503 when an
 * authenticator was down). Authenticated but not allowed → 403. Deny by default: options are
 * checked when the app is built (a `TypeError` for a typo such as `requiredRole`), and a missing
 * `auth.middleware()` or a role that the registry does not know answers 500, never lets through.
 * Responses carry `Cache-Control: no-store`.
 *
 * @example
 * ```ts
 * app.get('/admin', Protected(['Administrator']), (c) => c.text('admin'))
 * app.delete('/entries/:id', Protected({ requiredPermissions: ['delete'] }), handler)
 * ```
 */
export function Protected(requirements: readonly string[] | ProtectedOptions = {}): MiddlewareHandler<AuthEnv> {
  const options = validate(requirements)
  const roles = options.requiredRoles ?? []
  const permissions = options.requiredPermissions ?? []
  const scopes = options.requiredScopes ?? []
  const requireAll = options.requireAll ?? false
  const csrf = options.csrf ?? true
  const check = options.check
  // The registry is frozen by createAuth, so the role names are checked once per app.
  const checkedRegistries = new WeakSet<Auth>()

  // Errors are returned, not thrown, and headers are set before `next()`: either of the other
  // two makes Hono rebuild the response, which costs most of a request's speed. Without a custom
  // check the guard awaits nothing and returns `next()` itself (no promise of its own).
  const gatehouseProtected = (c: Context<AuthEnv>, next: Next): Response | Promise<Response | void> => {
    // c.get, not c.var: c.var copies every variable into a new object on each access.
    const state = c.get('gatehouse')
    if (state === undefined) {
      STDERR_LOGGER.error({ path: c.req.path }, 'Protected: auth.middleware() is not installed in front of this route; denying')
      return errorResponse(c, 'ERR_MISCONFIGURED')
    }
    const { auth } = state
    if (!checkedRegistries.has(auth)) {
      const unknown = roles.filter((role) => !auth.roles.has(role))
      if (unknown.length > 0) {
        auth.logger.error({ path: c.req.path, roles: unknown }, 'Protected: roles not in the role registry; denying')
        return errorResponse(c, 'ERR_MISCONFIGURED')
      }
      checkedRegistries.add(auth)
    }
    const user = c.get('user')
    if (!isAuthenticated(user)) {
      // An authenticated answer is already no-store (auth.middleware() marks every credential).
      c.header('Cache-Control', 'no-store')
      if (options.optional) return next()
      if (state.unavailable) return errorResponse(c, state.unavailable)
      // RFC 6750: a refused token is told so, and an API client is never sent to a login page.
      if (state.bearerRefused) return errorResponse(c, 'ERR_UNAUTHENTICATED', { html: false, headers: INVALID_TOKEN })
      if (wantsHTML(c) && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
        const url = new URL(c.req.url)
        return c.redirect(`${auth.options.loginPath}?next=${encodeURIComponent(url.pathname + url.search)}`, 302)
      }
      return errorResponse(c, 'ERR_UNAUTHENTICATED')
    }
    if (csrf && state.via === 'session' && !SAFE_METHODS.has(c.req.method) && isCrossSite(c, auth.options.allowedOrigins)) {
      audit(auth, 'csrf.refused', { path: c.req.path, method: c.req.method, address: clientAddress(c, auth.options.trustedProxies) })
      return errorResponse(c, 'ERR_CSRF')
    }
    const allowed =
      matches(roles, (role) => user.roles.includes(role), requireAll) &&
      (permissions.length === 0 || matches(permissions, holds(auth.permissionsOf(user)), requireAll)) &&
      matches(scopes, holds(state.scopes), requireAll)
    if (!allowed) return errorResponse(c, 'ERR_FORBIDDEN')
    if (check === undefined) return next()
    return checkThenNext(check, user, c, next)
  }
  // Hono awaits what a handler returns, so a Response returned without a promise is an answer too.
  return gatehouseProtected as MiddlewareHandler<AuthEnv>
}

async function checkThenNext(check: NonNullable<ProtectedOptions['check']>, user: User, c: Context<AuthEnv>, next: Next): Promise<Response | void> {
  if ((await check(user, c)) !== true) return errorResponse(c, 'ERR_FORBIDDEN')
  await next()
}

function holds(names: ReadonlySet<string>): (name: string) => boolean {
  return (name) => names.has(name)
}

/**
 * {@link Protected} bound to `auth`'s role registry (what `auth.protect` runs): role and permission
 * names that the registry does not know throw a `TypeError` when the app is built.
 */
export function protectWith(auth: Pick<Auth, 'roles'>, requirements: readonly string[] | ProtectedOptions = {}): MiddlewareHandler<AuthEnv> {
  const guard = Protected(requirements)
  const options: ProtectedOptions = Array.isArray(requirements) ? { requiredRoles: requirements } : (requirements as ProtectedOptions)
  const unknownRoles = (options.requiredRoles ?? []).filter((role) => !auth.roles.has(role))
  if (unknownRoles.length > 0) throw new TypeError(`auth.protect: roles not in the role registry: ${unknownRoles.join(', ')}`)
  const unknownPermissions = (options.requiredPermissions ?? []).filter((permission) => !auth.roles.hasPermission(permission))
  if (unknownPermissions.length > 0) throw new TypeError(`auth.protect: no registered role grants: ${unknownPermissions.join(', ')}`)
  return guard
}

function matches(required: readonly string[], holds: (name: string) => boolean, all: boolean): boolean {
  if (required.length === 0) return true
  return all ? required.every(holds) : required.some(holds)
}

function validate(requirements: readonly string[] | ProtectedOptions): ProtectedOptions {
  if (Array.isArray(requirements)) {
    if (requirements.length === 0) {
      throw new TypeError('Protected([]): an empty role list is ambiguous; use Protected() for "any signed-in user"')
    }
    return validate({ requiredRoles: requirements as readonly string[] })
  }
  if (typeof requirements !== 'object' || requirements === null) throw new TypeError('Protected: expected a role list or an options object')
  const options = requirements as ProtectedOptions
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`Protected: unknown option "${key}"`)
  }
  for (const key of ['requiredRoles', 'requiredPermissions', 'requiredScopes'] as const) {
    const list = options[key]
    if (list === undefined) continue
    if (!Array.isArray(list) || list.length === 0 || !list.every((name) => typeof name === 'string' && name !== '')) {
      throw new TypeError(`Protected: ${key} must be a non-empty list of names`)
    }
  }
  if (options.check !== undefined && typeof options.check !== 'function') throw new TypeError('Protected: check must be a function')
  if (options.csrf !== undefined && typeof options.csrf !== 'boolean') throw new TypeError('Protected: csrf must be a boolean')
  if (options.optional && (options.requiredRoles || options.requiredPermissions || options.requiredScopes || options.check)) {
    throw new TypeError('Protected: optional cannot be combined with requirements')
  }
  // A private copy: later changes to the caller's object cannot loosen the guard.
  const copy = (list: readonly string[] | undefined) => list && Object.freeze([...list])
  return Object.freeze({ ...options, requiredRoles: copy(options.requiredRoles), requiredPermissions: copy(options.requiredPermissions), requiredScopes: copy(options.requiredScopes) })
}

import type { Context, MiddlewareHandler } from 'hono'
import { STDERR_LOGGER } from '../internal/logger.js'
import type { User } from '../model/user.js'
import { isAuthenticated } from '../model/user.js'
import type { AuthEnv } from './create-auth.js'
import { authException, wantsHTML } from './http-errors.js'

/** What a route requires. Every given requirement must hold. */
export interface ProtectedOptions {
  /** Role names; the user needs any of them (all of them with `requireAll`). */
  readonly requiredRoles?: readonly string[]
  /** Permission names; the user needs any of them (all of them with `requireAll`). */
  readonly requiredPermissions?: readonly string[]
  /** Require every listed role and every listed permission instead of any one. @default false */
  readonly requireAll?: boolean
  /** A custom check that runs after the others; `false` → 403. */
  readonly check?: (user: User, c: Context<AuthEnv>) => boolean | Promise<boolean>
  /**
   * Let anonymous callers through (with `c.var.user` anonymous) while still marking the response
   * `no-store`. Cannot be combined with requirements. @default false
   */
  readonly optional?: boolean
}

const KNOWN_OPTIONS = new Set(['requiredRoles', 'requiredPermissions', 'requireAll', 'check', 'optional'])

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
  const requireAll = options.requireAll ?? false

  return async function gatehouseProtected(c, next) {
    // c.get, not c.var: c.var copies every variable into a new object on each access.
    const state = c.get('gatehouse')
    if (state === undefined) {
      STDERR_LOGGER.error({ path: c.req.path }, 'Protected: auth.middleware() is not installed in front of this route; denying')
      throw authException(c, 'ERR_MISCONFIGURED')
    }
    const unknown = roles.filter((role) => !state.auth.roles.has(role))
    if (unknown.length > 0) {
      state.auth.logger.error({ path: c.req.path, roles: unknown }, 'Protected: roles not in the role registry; denying')
      throw authException(c, 'ERR_MISCONFIGURED')
    }
    c.header('Cache-Control', 'no-store')
    const user = c.get('user')
    if (!isAuthenticated(user)) {
      if (options.optional) return next()
      if (state.unavailable) throw authException(c, 'ERR_AUTHENTICATOR_UNAVAILABLE')
      if (wantsHTML(c) && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
        const url = new URL(c.req.url)
        const target = `${state.auth.options.loginPath}?next=${encodeURIComponent(url.pathname + url.search)}`
        return c.redirect(target, 302)
      }
      throw authException(c, 'ERR_UNAUTHENTICATED')
    }
    const held = state.auth.permissionsOf(user)
    const allowed =
      matches(roles, (role) => user.roles.includes(role), requireAll) &&
      matches(permissions, (permission) => held.has(permission), requireAll) &&
      (options.check === undefined || (await options.check(user, c)) === true)
    if (!allowed) throw authException(c, 'ERR_FORBIDDEN')
    await next()
    c.header('Cache-Control', 'no-store')
  }
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
  for (const key of ['requiredRoles', 'requiredPermissions'] as const) {
    const list = options[key]
    if (list === undefined) continue
    if (!Array.isArray(list) || list.length === 0 || !list.every((name) => typeof name === 'string' && name !== '')) {
      throw new TypeError(`Protected: ${key} must be a non-empty list of names`)
    }
  }
  if (options.check !== undefined && typeof options.check !== 'function') throw new TypeError('Protected: check must be a function')
  if (options.optional && (options.requiredRoles || options.requiredPermissions || options.check)) {
    throw new TypeError('Protected: optional cannot be combined with requirements')
  }
  // A private copy: later changes to the caller's object cannot loosen the guard.
  return Object.freeze({ ...options, requiredRoles: options.requiredRoles && [...options.requiredRoles], requiredPermissions: options.requiredPermissions && [...options.requiredPermissions] })
}

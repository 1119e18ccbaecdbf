import type { AuthEnv } from '@gatehouse/core'
import { Protected } from '@gatehouse/core'
import type { Enforcer } from 'casbin'
import type { Context, MiddlewareHandler } from 'hono'
import type { CasbinSubject } from './casbin-subject.js'
import { casbinSubject } from './casbin-subject.js'
import { GatehouseRoleManager } from './gatehouse-role-manager.js'

/** A request value for the policy: fixed, or computed from the request (may be async). */
export type RequestValue<T> = T | ((c: Context<AuthEnv>) => T | Promise<T>)

/** Options of {@link casbinGuard}. */
export interface CasbinGuardOptions {
  /**
   * `r.obj`: a string, or an object for ABAC matchers (`r.obj.owner == r.sub.id`), or a function
   * of the request that returns one (it may load the entry). @default the request path, `c.req.path`
   */
  readonly object?: string | Readonly<Record<string, unknown>> | ((c: Context<AuthEnv>) => unknown)
  /** `r.act`. @default the HTTP method, `c.req.method` */
  readonly action?: RequestValue<string>
  /**
   * `r.dom`, for models with domains (`r = sub, dom, obj, act`): the tenant, from the request or
   * the token (`keycloakRealm`: the realm of the token's issuer). Required exactly when the model's request has
   * four fields. A request whose domain is empty or missing is denied. @default none
   */
  readonly domain?: RequestValue<string | undefined>
  /** Passed to the underlying `Protected` guard: cross-site unsafe requests on a cookie session. @default true */
  readonly csrf?: boolean
}

const KNOWN_OPTIONS = new Set(['object', 'action', 'domain', 'csrf'])
// One role manager per enforcer, installed once however many guards share the enforcer.
const ROLE_MANAGERS = new WeakMap<Enforcer, GatehouseRoleManager | null>()

/**
 * Guards a route with a Casbin policy: allowed when `enforcer.enforceSync(subject, [domain,]
 * object, action)` says so. Use it after `auth.middleware()`, alone or after `auth.protect(...)`.
 *
 * It is core's `Protected` with a policy check: anonymous callers get 401 (browsers a redirect
 * to the login page, 503 when an authenticator was down), cross-site unsafe requests on a cookie
 * session 403 `ERR_CSRF`, a route without `auth.middleware()` 500, and every answer carries
 * `Cache-Control: no-store`. A signed-in user the policy does not allow gets 403 `ERR_FORBIDDEN`
 * with the generic body. A check that throws (a matcher calling an unknown function, a broken
 * model, an object function that fails) is a 403 too, never an allow, and its reason is logged
 * through the app's logger, never sent to the client.
 *
 * The subject is a {@link CasbinSubject}: the principal `<source>:<id>` (its string form), with the
 * user's Gatehouse roles counted as `g` memberships: the guard installs a
 * {@link GatehouseRoleManager} as the enforcer's `g` role manager (once per enforcer; the links
 * already built are kept).
 *
 * Checked when the app is built (`TypeError`): the options, that `enforcer` is a Casbin enforcer
 * with a matcher and an effect, and that its request definition has three fields (`sub, obj,
 * act`), or four (`sub, dom, obj, act`) exactly when `domain` is given.
 *
 * @example
 * ```ts
 * const enforcer = await newCasbinEnforcer({ model: MODEL, policy: POLICY })
 * app.get('/reports/*', casbinGuard(enforcer), (c) => c.text('report'))
 * app.delete('/entries/:id', casbinGuard(enforcer, { object: async (c) => entries.get(c.req.param('id')) }), handler)
 * ```
 */
export function casbinGuard(enforcer: Enforcer, options: CasbinGuardOptions = {}): MiddlewareHandler<AuthEnv> {
  const { object, action, domain, csrf } = validate(enforcer, options)
  const roleManager = installRoleManager(enforcer)

  return Protected({
    ...(csrf === undefined ? {} : { csrf }),
    // Errors are return values here: Protected answers `false` with 403, and a throw would be a 500.
    check: async (user, c) => {
      let subject: CasbinSubject | undefined
      try {
        const dom = domain === undefined ? undefined : await resolveValue(domain, c)
        if (domain !== undefined && (typeof dom !== 'string' || dom === '')) {
          c.get('gatehouse').auth.logger.warn({ path: c.req.path, method: c.req.method }, 'casbinGuard: the request has no domain; denying')
          return false
        }
        // Only registered roles count: a name from a directory group or a token claim that the
        // app never registered grants nothing here either (and one like `sql:42`, never a principal).
        const { auth } = c.get('gatehouse')
        subject = casbinSubject(
          user,
          dom,
          user.roles.filter((role) => auth.roles.has(role)),
        )
        const obj = object === undefined ? c.req.path : await resolveValue(object as RequestValue<unknown>, c)
        const act = action === undefined ? c.req.method : await resolveValue(action, c)
        const request = dom === undefined ? [subject, obj, act] : [subject, dom, obj, act]
        // enableEnforce(false) makes Casbin allow everything; a guard never does.
        if ((enforcer as unknown as { enabled?: unknown }).enabled === false) throw new Error('enforcement is disabled on this enforcer (enableEnforce(false))')
        // Synchronous, so the user's roles seen by the role manager are this request's alone.
        const enforce = () => enforcer.enforceSync(...request)
        const allowed = roleManager === null ? enforce() : roleManager.withSubject(subject, enforce)
        return allowed === true
      } catch (error) {
        c.get('gatehouse').auth.logger.error(
          { path: c.req.path, method: c.req.method, principal: subject?.id, err: error instanceof Error ? error.message : String(error) },
          'casbinGuard: the policy check failed; denying',
        )
        return false
      }
    },
  })
}

async function resolveValue<T>(value: RequestValue<T>, c: Context<AuthEnv>): Promise<T> {
  return typeof value === 'function' ? await (value as (c: Context<AuthEnv>) => T | Promise<T>)(c) : value
}

/**
 * The {@link GatehouseRoleManager} of `enforcer`'s `g`, installed if needed; `null` for a model
 * without `[role_definition]` (nothing to count roles in).
 */
export function installRoleManager(enforcer: Enforcer): GatehouseRoleManager | null {
  const known = ROLE_MANAGERS.get(enforcer)
  if (known !== undefined) return known
  let manager: GatehouseRoleManager | null = null
  const assertion = enforcer.getModel().model.get('g')?.get('g')
  if (assertion !== undefined) {
    const current = enforcer.getRoleManager()
    manager = current instanceof GatehouseRoleManager ? current : new GatehouseRoleManager(current)
    enforcer.setRoleManager(manager)
    // The matcher's g() reads the assertion's manager, which Casbin sets only when it rebuilds the
    // role links (every loadPolicy); set it now, keeping the links the current manager holds.
    assertion.rm = manager
  }
  ROLE_MANAGERS.set(enforcer, manager)
  return manager
}

function validate(enforcer: Enforcer, options: CasbinGuardOptions): CasbinGuardOptions {
  if (typeof enforcer !== 'object' || enforcer === null || typeof enforcer.enforceSync !== 'function' || typeof enforcer.getModel !== 'function') {
    throw new TypeError("casbinGuard: expected a Casbin enforcer (newCasbinEnforcer or casbin's newEnforcer)")
  }
  if (typeof options !== 'object' || options === null) throw new TypeError('casbinGuard: options must be an object')
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new TypeError(`casbinGuard: unknown option "${key}"`)
  }
  if (options.action !== undefined && typeof options.action !== 'function' && (typeof options.action !== 'string' || options.action === '')) {
    throw new TypeError('casbinGuard: action must be a non-empty string or a function')
  }
  if (options.domain !== undefined && typeof options.domain !== 'function' && (typeof options.domain !== 'string' || options.domain === '')) {
    throw new TypeError('casbinGuard: domain must be a non-empty string or a function')
  }
  if (options.object === null) throw new TypeError('casbinGuard: object must not be null')
  if (options.csrf !== undefined && typeof options.csrf !== 'boolean') throw new TypeError('casbinGuard: csrf must be a boolean')
  const model = enforcer.getModel().model
  const tokens = model.get('r')?.get('r')?.tokens
  if (tokens === undefined) throw new TypeError('casbinGuard: the model has no request_definition "r"')
  if (!model.get('m')?.get('m')?.value) throw new TypeError('casbinGuard: the model has no matchers "m"')
  if (!model.get('e')?.get('e')?.value) throw new TypeError('casbinGuard: the model has no policy_effect "e"')
  const expected = options.domain === undefined ? 3 : 4
  if (tokens.length !== expected) {
    throw new TypeError(
      `casbinGuard: the model's request has ${tokens.length} fields (${tokens.join(', ')}); ` +
        (options.domain === undefined ? 'without a domain option it must be "sub, obj, act"' : 'with a domain option it must be "sub, dom, obj, act"'),
    )
  }
  // A private copy: later changes to the caller's object cannot change the guard.
  return Object.freeze({ ...options })
}

const REALM = /\/realms\/([^/]+)\/?$/

/**
 * The Keycloak realm of the request's user: the last path segment after `/realms/` in the `iss`
 * claim an OpenID authenticator recorded (`https://sso.example.org/realms/acme` → `acme`), else
 * `undefined` (a cookie session of a local user: denied by a guard with `domain: keycloakRealm`).
 *
 * @example
 * ```ts
 * app.get('/t/docs/:id', casbinGuard(enforcer, { domain: keycloakRealm }), handler)
 * ```
 */
export function keycloakRealm(c: Context<AuthEnv>): string | undefined {
  const iss = c.get('user')?.claims?.iss
  if (typeof iss !== 'string') return undefined
  const match = REALM.exec(iss)
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1])
}

import type { AuthEnv, ProtectedOptions } from '@gatehouse/core'
import { Protected } from '@gatehouse/core'
import type { MiddlewareHandler } from 'hono'

/** The names under which {@link gatehouseSecuritySchemes} declares Gatehouse's schemes. */
export const SECURITY_SCHEME_NAMES = Object.freeze({ session: 'sessionCookie', bearer: 'bearerJWT', oidc: 'oidc' } as const)

/** Which of Gatehouse's ways in a document declares; a scheme left out is never offered. */
export type GatehouseScheme = keyof typeof SECURITY_SCHEME_NAMES

/** The identity provider's browser login, as Swagger UI's "Authorize" runs it (code + PKCE). */
export interface OIDCSchemeOptions {
  /** The provider's authorization endpoint (with Keycloak: `<issuer>/protocol/openid-connect/auth`). */
  readonly authorizationUrl: string
  /** The provider's token endpoint (with Keycloak: `<issuer>/protocol/openid-connect/token`). */
  readonly tokenUrl: string
  /** Scopes a user may pick in the dialog, with a description each. @default { openid: 'OpenID Connect' } */
  readonly scopes?: Readonly<Record<string, string>>
}

/** Options of {@link gatehouseSecuritySchemes}. */
export interface SecuritySchemesOptions {
  /** The session cookie's name: `auth.sessions.cookieName`. Leave out to declare no cookie scheme. */
  readonly sessionCookie?: string
  /** Declare the bearer JWT scheme (access tokens of the OpenID provider). @default true */
  readonly bearer?: boolean
  /** Declare the provider's authorization-code flow with PKCE. Leave out when no provider is configured. */
  readonly oidc?: OIDCSchemeOptions
}

/** An OpenAPI security scheme object, the subset Gatehouse declares. */
export type SecuritySchemeObject =
  | { readonly type: 'apiKey'; readonly in: 'cookie'; readonly name: string; readonly description: string }
  | { readonly type: 'http'; readonly scheme: 'bearer'; readonly bearerFormat: 'JWT'; readonly description: string }
  | {
      readonly type: 'oauth2'
      readonly description: string
      readonly flows: { readonly authorizationCode: { readonly authorizationUrl: string; readonly tokenUrl: string; readonly scopes: Readonly<Record<string, string>> } }
    }

/** One alternative of an operation's `security`: scheme name → required scopes (or role names). */
export type SecurityRequirement = Record<string, string[]>

/**
 * Gatehouse's security schemes for an OpenAPI document's `components.securitySchemes`: the session
 * cookie, bearer JWTs and, when a provider is configured, its authorization-code flow (Swagger UI
 * runs it with PKCE when `initOAuth({ usePkceWithAuthorizationCodeGrant: true })` is set, as the demo does).
 *
 * @example
 * ```ts
 * const schemes = gatehouseSecuritySchemes({ sessionCookie: auth.sessions.cookieName, oidc: { authorizationUrl, tokenUrl } })
 * app.doc31('/openapi.json', { openapi: '3.1.0', info, components: { securitySchemes: schemes } })
 * ```
 */
export function gatehouseSecuritySchemes(options: SecuritySchemesOptions = {}): Readonly<Record<string, SecuritySchemeObject>> {
  const schemes: Record<string, SecuritySchemeObject> = {}
  if (options.sessionCookie !== undefined) {
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(options.sessionCookie)) throw new TypeError('gatehouseSecuritySchemes: invalid sessionCookie name')
    schemes[SECURITY_SCHEME_NAMES.session] = {
      type: 'apiKey',
      in: 'cookie',
      name: options.sessionCookie,
      description: 'The Gatehouse session cookie, set by POST /auth/login (sealed, HttpOnly: a browser sends it, scripts cannot read it). Never grants token scopes.',
    }
  }
  if (options.bearer ?? true) {
    schemes[SECURITY_SCHEME_NAMES.bearer] = {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'An access token of the OpenID provider: `Authorization: Bearer <token>`. A refused token is a 401, never a fall-back to the cookie.',
    }
  }
  if (options.oidc !== undefined) {
    for (const key of ['authorizationUrl', 'tokenUrl'] as const) {
      const url = options.oidc[key]
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new TypeError(`gatehouseSecuritySchemes: oidc.${key} must be an http(s) URL`)
    }
    schemes[SECURITY_SCHEME_NAMES.oidc] = {
      type: 'oauth2',
      description: "The OpenID provider's login: authorization code with PKCE; the access token is then sent as a bearer token.",
      flows: { authorizationCode: { authorizationUrl: options.oidc.authorizationUrl, tokenUrl: options.oidc.tokenUrl, scopes: { ...(options.oidc.scopes ?? { openid: 'OpenID Connect' }) } } },
    }
  }
  return Object.freeze(schemes)
}

/** Options of {@link openAPIGuards}. */
export interface OpenAPIGuardsOptions<Requirements> {
  /**
   * Builds the middleware from the requirements: `auth.protect` (role names checked against the
   * registry, at compile time too), else core's `Protected`.
   * @default Protected
   */
  readonly protect?: (requirements: Requirements) => MiddlewareHandler<AuthEnv>
  /**
   * The schemes the app accepts, in the order a document lists them. Only those declared with
   * {@link gatehouseSecuritySchemes} should be named.
   * @default ['session', 'bearer']
   */
  readonly schemes?: readonly GatehouseScheme[]
  /**
   * `'3.1'` lists the required role names in the cookie and bearer requirements (OpenAPI 3.1
   * allows role names there); `'3.0'` leaves those arrays empty, as 3.0 demands.
   * @default '3.1'
   */
  readonly openapi?: '3.0' | '3.1'
}

/** A guard with its documentation: spread `route` into `createRoute({...})`. */
export interface OpenAPIGuard {
  /** The middleware that checks the requirements (the same object the document is written from). */
  readonly middleware: MiddlewareHandler<AuthEnv>
  /** The guard as an operation's fields: `middleware`, `security`, `description` and `x-gatehouse-guard`. */
  readonly route: {
    readonly middleware: MiddlewareHandler<AuthEnv>
    readonly security: SecurityRequirement[]
    readonly description: string
    readonly 'x-gatehouse-guard': {
      readonly requiredRoles: readonly string[]
      readonly requiredPermissions: readonly string[]
      readonly requiredScopes: readonly string[]
      readonly requireAll: boolean
      readonly check: boolean
      readonly optional: boolean
    }
  }
  /** The 401 and 403 answers the guard gives (none for an optional guard), for `responses`. */
  readonly responses: Readonly<Record<string, { readonly description: string }>>
}

/**
 * Guards for routes of an `OpenAPIHono` app whose OpenAPI description is written from the very
 * requirements the middleware checks, so the document and the check cannot disagree: each call
 * builds the middleware (`protect(requirements)`) and, from the same object, the operation's
 * `security` (one alternative per accepted scheme; the cookie is left out when scopes are
 * required, since a session never grants them; the provider's flow lists the required scopes),
 * a description naming the roles, permissions and scopes, and an `x-gatehouse-guard` extension.
 *
 * @example
 * ```ts
 * const guarded = openAPIGuards({ protect: auth.protect, schemes: ['session', 'bearer', 'oidc'] })
 * const admin = guarded(['Administrator'])
 * app.openapi(createRoute({ method: 'get', path: '/admin', ...admin.route, responses: { ...admin.responses, 200: { description: 'ok' } } }), handler)
 * ```
 */
export function openAPIGuards<Requirements = readonly string[] | ProtectedOptions>(options: OpenAPIGuardsOptions<Requirements> = {}): (requirements?: Requirements) => OpenAPIGuard {
  const protect = options.protect ?? (Protected as (requirements: Requirements) => MiddlewareHandler<AuthEnv>)
  const schemes = [...(options.schemes ?? ['session', 'bearer'])]
  for (const scheme of schemes) {
    if (!Object.hasOwn(SECURITY_SCHEME_NAMES, scheme)) throw new TypeError(`openAPIGuards: unknown scheme "${String(scheme)}"`)
  }
  if (schemes.length === 0) throw new TypeError('openAPIGuards: at least one scheme is needed')
  const roleNames = (options.openapi ?? '3.1') === '3.1'

  return (requirements) => {
    // The middleware first: it validates the requirements (a typo throws here, before any document).
    const middleware = protect((requirements ?? {}) as Requirements)
    const guard: ProtectedOptions = Array.isArray(requirements) ? { requiredRoles: requirements as readonly string[] } : ((requirements ?? {}) as unknown as ProtectedOptions)
    const roles = [...(guard.requiredRoles ?? [])]
    const permissions = [...(guard.requiredPermissions ?? [])]
    const scopes = [...(guard.requiredScopes ?? [])]
    const requireAll = guard.requireAll ?? false
    const optional = guard.optional ?? false

    const security: SecurityRequirement[] = []
    for (const scheme of schemes) {
      if (scheme === 'session' && scopes.length > 0) continue
      security.push({ [SECURITY_SCHEME_NAMES[scheme]]: scheme === 'oidc' ? scopes : roleNames ? roles : [] })
    }
    if (optional) security.push({})
    return Object.freeze({
      middleware,
      route: Object.freeze({
        middleware,
        security,
        description: describe({ roles, permissions, scopes, requireAll, optional, check: guard.check !== undefined }),
        'x-gatehouse-guard': Object.freeze({ requiredRoles: roles, requiredPermissions: permissions, requiredScopes: scopes, requireAll, check: guard.check !== undefined, optional }),
      }),
      responses: Object.freeze<Record<string, { readonly description: string }>>(
        optional
          ? {}
          : {
              401: { description: 'Not signed in, or the bearer token was refused (`ERR_UNAUTHENTICATED`).' },
              403: { description: 'Signed in without the required roles, permissions or scopes (`ERR_FORBIDDEN`).' },
            },
      ),
    })
  }
}

function describe(guard: { roles: string[]; permissions: string[]; scopes: string[]; requireAll: boolean; optional: boolean; check: boolean }): string {
  if (guard.optional) return 'Authentication: optional (anonymous callers are let through).'
  const list = (names: string[]) => names.map((name) => `\`${name}\``).join(', ')
  const quantifier = guard.requireAll ? 'all of' : 'any of'
  const parts = [
    guard.roles.length > 0 && `roles (${quantifier}): ${list(guard.roles)}`,
    guard.permissions.length > 0 && `permissions (${quantifier}): ${list(guard.permissions)}`,
    guard.scopes.length > 0 && `token scopes (${quantifier}): ${list(guard.scopes)}; a session cookie never grants them`,
    guard.check && 'and an application-specific check',
  ].filter((part): part is string => typeof part === 'string')
  return parts.length === 0 ? 'Requires: any signed-in user.' : `Requires ${parts.join('; ')}.`
}

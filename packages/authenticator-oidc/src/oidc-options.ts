import { isIP } from 'node:net'
import type { Logger } from '@gatehouse/core'
import { NOOP_LOGGER } from '@gatehouse/core'
import { z } from 'zod'

/** Signature algorithms an access token may use. HS* (shared secrets) and `none` are never accepted. */
export type OIDCSignatureAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA'

/** Endpoints given explicitly instead of discovery (`<issuer>/.well-known/openid-configuration`). */
export interface OIDCEndpoints {
  /** Where the provider publishes its signing keys. Required without discovery. */
  readonly jwksUri: string
  readonly tokenEndpoint?: string
  readonly authorizationEndpoint?: string
  readonly introspectionEndpoint?: string
  readonly endSessionEndpoint?: string
  readonly userinfoEndpoint?: string
}

/** How the provider's roles and groups become Gatehouse roles. */
export interface OIDCRoleOptions {
  /**
   * Provider role (realm role, this resource server's client role, or group) → Gatehouse role(s),
   * e.g. `{ admin: 'Administrator', user: ['Viewer'] }`. Unmapped roles are dropped unless
   * {@link OIDCRoleOptions.keepUnmapped}.
   * @default {}
   */
  readonly map?: Readonly<Record<string, string | readonly string[]>>
  /** Read `realm_access.roles`. @default true */
  readonly realmRoles?: boolean
  /**
   * The `resource_access` entry whose roles are read: this resource server's, never another
   * client's. `false` reads none.
   * @default the first audience, else the client id
   */
  readonly clientRolesFrom?: string | false
  /** Also map the `groups` claim (Keycloak group paths such as `/staff`). @default false */
  readonly groups?: boolean
  /** Keep provider roles that the map does not name, under their own names. @default false */
  readonly keepUnmapped?: boolean
  /** Roles every user of this provider gets. @default [] */
  readonly defaultRoles?: readonly string[]
}

/** How the signing keys (JWKS) are fetched and cached. */
export interface OIDCKeySetOptions {
  /** An unknown `kid` refetches the key set at most once per this many seconds. @default 30 */
  readonly cooldownSeconds?: number
  /** A key set older than this is refreshed in the background (the old one stays in use). @default 600 */
  readonly maxAgeSeconds?: number
  /** A larger answer is refused. @default 262144 (256 KiB) */
  readonly maxBytes?: number
}

/** Browser login (authorization code + PKCE S256 + state + nonce). */
export interface OIDCBrowserLoginOptions {
  /**
   * The callback URL registered at the provider, e.g. `https://app.example.org/auth/oidc/callback`.
   * Never derived from the request's Host header.
   */
  readonly redirectUri: string
  /** Seals the login-in-progress cookie (≥ 32 characters). Use a secret of its own, not the session secret. */
  readonly secret: string
  /** @default ['openid', 'profile', 'email'] */
  readonly scopes?: readonly string[]
  /** Where the provider sends the browser after RP-initiated logout. @default no logout at the provider */
  readonly postLogoutRedirectUri?: string
  /** How long a login may stay in progress. @default 600 */
  readonly transactionSeconds?: number
}

/** Introspection (RFC 7662) of opaque access tokens. */
export interface OIDCIntrospectionOptions {
  /** An answer is reused for at most this long (and never past the token's `exp`). @default 60 */
  readonly cacheSeconds?: number
}

/**
 * Options of {@link OIDCAuthenticator}. Validated when the authenticator is constructed: a
 * misconfiguration throws a `TypeError` naming every problem, at startup.
 */
export interface OIDCAuthenticatorOptions {
  /**
   * The issuer identifier, exactly as in the tokens' `iss`, e.g.
   * `https://sso.example.org/realms/acme`. `http://` only for loopback hosts (development, tests).
   */
  readonly issuer: string
  readonly clientId: string
  /** Needed for introspection, refresh, the browser login and the password grant. Never logged. */
  readonly clientSecret?: string
  /** Accepted `aud` value(s) of access tokens; a token must name one. @default the client id */
  readonly audience?: string | readonly string[]
  /** Explicit endpoints instead of discovery. @default discovery from the issuer */
  readonly endpoints?: OIDCEndpoints
  /** Authenticator id and {@link User.source} of its users; several providers need distinct ids. @default 'oidc' */
  readonly id?: string
  /** Shown on the login page: "Sign in with <name>". @default 'OpenID Connect' */
  readonly name?: string
  /** @default ['RS256', 'PS256', 'ES256'] */
  readonly algorithms?: readonly OIDCSignatureAlgorithm[]
  /** Allowed clock difference for `exp`, `nbf` and `iat`. @default 30 (at most 300) */
  readonly clockToleranceSeconds?: number
  /**
   * What makes a JWT an access token: a `typ` claim in `claim` (Keycloak: `Bearer`) or a `typ`
   * header in `header` (RFC 9068: `at+jwt`). A `typ` claim outside the list (Keycloak's `ID`,
   * `Refresh`, `Logout`) is refused either way.
   * @default { claim: ['Bearer'], header: ['at+jwt', 'application/at+jwt'] }
   */
  readonly accessTokenTypes?: { readonly claim?: readonly string[]; readonly header?: readonly string[] }
  /** The claim that becomes {@link User.username} (normalized). @default 'preferred_username' (else `sub`) */
  readonly usernameClaim?: string
  readonly roles?: OIDCRoleOptions
  readonly keySet?: OIDCKeySetOptions
  /** Deadline of every call to the provider (discovery, keys, token, introspection). @default 5000 */
  readonly timeoutMs?: number
  /** Verified tokens remembered (by SHA-256 of the token, never past `exp`). @default 10000 */
  readonly maxCachedTokens?: number
  /** Opaque (non-JWT) access tokens are introspected. Needs `clientSecret`. @default off */
  readonly introspection?: boolean | OIDCIntrospectionOptions
  /** Browser login routes. @default off */
  readonly browserLogin?: OIDCBrowserLoginOptions
  /**
   * Where the routes live below the auth routes' mount.
   * @default 'oidc' for the id 'oidc', else 'oidc/<id>'
   */
  readonly routesPath?: string
  /**
   * LEGACY: the login form's username + password are exchanged at the token endpoint (the
   * Resource Owner Password Credentials grant, removed in OAuth 2.1). Needs `clientSecret`.
   * @default false
   */
  readonly passwordGrant?: boolean
  /** @default no logging */
  readonly logger?: Logger
}

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const
const roleName = z.string().trim().min(1, 'role names must not be empty')
const nonEmpty = z.string().trim().min(1, 'must not be empty')
const seconds = (max: number) => z.number().positive('must be positive').max(max, `must be at most ${max}`)
const logger = z.custom<Logger>(
  (value) => typeof value === 'object' && value !== null && ['debug', 'info', 'warn', 'error'].every((level) => typeof (value as Record<string, unknown>)[level] === 'function'),
  'must have debug, info, warn and error methods',
)
const webURL = z.string().refine((value) => urlProblem(value) === null, { error: (issue) => urlProblem(String(issue.input)) ?? 'invalid URL' })

/** The zod schema of {@link OIDCAuthenticatorOptions}. */
export const oidcOptionsSchema = z
  .strictObject({
    issuer: webURL,
    clientId: nonEmpty,
    clientSecret: z.string().min(1, 'must not be empty').optional(),
    audience: z.union([nonEmpty, z.array(nonEmpty).min(1, 'needs at least one audience')]).optional(),
    endpoints: z
      .strictObject({
        jwksUri: webURL,
        tokenEndpoint: webURL.optional(),
        authorizationEndpoint: webURL.optional(),
        introspectionEndpoint: webURL.optional(),
        endSessionEndpoint: webURL.optional(),
        userinfoEndpoint: webURL.optional(),
      })
      .optional(),
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'must be letters, digits, ".", "_" or "-"')
      .optional(),
    name: nonEmpty.optional(),
    algorithms: z
      .array(z.enum(ALGORITHMS, { error: `must be among ${ALGORITHMS.join(', ')} (never none or HS*)` }))
      .min(1, 'needs at least one algorithm')
      .optional(),
    clockToleranceSeconds: z.number().nonnegative('must not be negative').max(300, 'must be at most 300').optional(),
    accessTokenTypes: z.strictObject({ claim: z.array(nonEmpty).optional(), header: z.array(nonEmpty).optional() }).optional(),
    usernameClaim: nonEmpty.optional(),
    roles: z
      .strictObject({
        map: z.record(nonEmpty, z.union([roleName, z.array(roleName)])).optional(),
        realmRoles: z.boolean().optional(),
        clientRolesFrom: z.union([nonEmpty, z.literal(false)]).optional(),
        groups: z.boolean().optional(),
        keepUnmapped: z.boolean().optional(),
        defaultRoles: z.array(roleName).optional(),
      })
      .optional(),
    keySet: z
      .strictObject({
        cooldownSeconds: seconds(3600).optional(),
        maxAgeSeconds: seconds(86_400).optional(),
        maxBytes: z
          .number()
          .int()
          .min(1024, 'must be at least 1024')
          .max(16 * 1024 * 1024, 'must be at most 16 MiB')
          .optional(),
      })
      .optional(),
    timeoutMs: z.number().int('must be an integer').positive('must be positive').max(60_000, 'must be at most 60000').optional(),
    maxCachedTokens: z.number().int().nonnegative().max(1_000_000).optional(),
    introspection: z.union([z.boolean(), z.strictObject({ cacheSeconds: z.number().nonnegative().max(3600).optional() })]).optional(),
    browserLogin: z
      .strictObject({
        redirectUri: webURL,
        secret: z.string().min(32, 'must be at least 32 characters'),
        scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token')).optional(),
        postLogoutRedirectUri: webURL.optional(),
        transactionSeconds: seconds(3600).optional(),
      })
      .optional(),
    routesPath: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)*$/i, 'must be a relative path such as "oidc" or "oidc/keycloak"')
      .optional(),
    passwordGrant: z.boolean().optional(),
    logger: logger.optional(),
  })
  .superRefine((options, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message })
    const needsSecret = [
      [options.introspection !== undefined && options.introspection !== false, 'introspection'],
      [options.browserLogin !== undefined, 'browserLogin'],
      [options.passwordGrant === true, 'passwordGrant'],
    ] as const
    for (const [on, name] of needsSecret) if (on && options.clientSecret === undefined) issue(name, 'needs clientSecret')
    if (options.endpoints !== undefined) {
      if (options.browserLogin !== undefined && (options.endpoints.authorizationEndpoint === undefined || options.endpoints.tokenEndpoint === undefined)) {
        issue('endpoints', 'browserLogin needs authorizationEndpoint and tokenEndpoint')
      }
      if (options.passwordGrant === true && options.endpoints.tokenEndpoint === undefined) issue('endpoints', 'passwordGrant needs tokenEndpoint')
      if (options.introspection && options.endpoints.introspectionEndpoint === undefined) issue('endpoints', 'introspection needs introspectionEndpoint')
    }
    try {
      const issuer = new URL(options.issuer)
      if (issuer.search !== '' || issuer.hash !== '') issue('issuer', 'must not have a query or fragment')
    } catch {
      // reported by webURL
    }
  })

/** Options after validation and defaults; what the authenticator runs on. */
export interface ResolvedOIDCOptions {
  readonly id: string
  readonly name: string
  readonly issuer: string
  readonly clientId: string
  readonly clientSecret: string | undefined
  readonly audiences: readonly string[]
  readonly endpoints: OIDCEndpoints | undefined
  readonly algorithms: readonly OIDCSignatureAlgorithm[]
  readonly clockToleranceSeconds: number
  readonly accessTokenTypes: { readonly claim: readonly string[]; readonly header: readonly string[] }
  readonly usernameClaim: string
  readonly roles: {
    /** Provider role → Gatehouse roles; a null-prototype map, so `__proto__` is just a key. */
    readonly map: ReadonlyMap<string, readonly string[]>
    readonly realmRoles: boolean
    readonly clientRolesFrom: string | null
    readonly groups: boolean
    readonly keepUnmapped: boolean
    readonly defaultRoles: readonly string[]
  }
  readonly keySet: { readonly cooldownMs: number; readonly maxAgeMs: number; readonly maxBytes: number }
  readonly timeoutMs: number
  readonly maxCachedTokens: number
  readonly introspection: { readonly cacheMs: number } | null
  readonly browserLogin: {
    readonly redirectUri: string
    readonly secret: string
    readonly scopes: readonly string[]
    readonly postLogoutRedirectUri: string | undefined
    readonly transactionSeconds: number
  } | null
  readonly routesPath: string
  readonly passwordGrant: boolean
  /** The issuer is plain http on loopback: openid-client's https requirement is lifted. */
  readonly allowInsecureRequests: boolean
  readonly logger: Logger
}

/**
 * Validates options and applies defaults. Throws a `TypeError` listing every problem
 * (`OIDCAuthenticator: invalid options: issuer: ...`); values are never echoed, so a client
 * secret cannot end up in a startup log.
 */
export function resolveOIDCOptions(input: OIDCAuthenticatorOptions): ResolvedOIDCOptions {
  const parsed = oidcOptionsSchema.safeParse(input)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'options'}: ${issue.message}`)
    throw new TypeError(`OIDCAuthenticator: invalid options: ${problems.join('; ')}`, { cause: parsed.error })
  }
  const options = parsed.data
  const id = options.id ?? 'oidc'
  const audiences = options.audience === undefined ? [options.clientId] : typeof options.audience === 'string' ? [options.audience] : [...new Set(options.audience)]
  const map = new Map<string, string[]>()
  for (const [role, roles] of Object.entries(options.roles?.map ?? {})) {
    map.set(role, [...new Set([...(map.get(role) ?? []), ...(typeof roles === 'string' ? [roles] : roles).map((name) => name.trim())])])
  }
  const clientRolesFrom = options.roles?.clientRolesFrom === false ? null : (options.roles?.clientRolesFrom ?? audiences[0] ?? options.clientId)
  const introspection =
    options.introspection === undefined || options.introspection === false ? null : { cacheMs: ((options.introspection === true ? undefined : options.introspection.cacheSeconds) ?? 60) * 1000 }
  return {
    id,
    name: options.name ?? 'OpenID Connect',
    issuer: options.issuer,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    audiences,
    endpoints: options.endpoints,
    algorithms: options.algorithms ?? ['RS256', 'PS256', 'ES256'],
    clockToleranceSeconds: options.clockToleranceSeconds ?? 30,
    accessTokenTypes: {
      claim: options.accessTokenTypes?.claim ?? ['Bearer'],
      header: (options.accessTokenTypes?.header ?? ['at+jwt', 'application/at+jwt']).map((typ) => typ.toLowerCase()),
    },
    usernameClaim: options.usernameClaim ?? 'preferred_username',
    roles: {
      map,
      realmRoles: options.roles?.realmRoles ?? true,
      clientRolesFrom,
      groups: options.roles?.groups ?? false,
      keepUnmapped: options.roles?.keepUnmapped ?? false,
      defaultRoles: [...new Set((options.roles?.defaultRoles ?? []).map((role) => role.trim()))],
    },
    keySet: {
      cooldownMs: (options.keySet?.cooldownSeconds ?? 30) * 1000,
      maxAgeMs: (options.keySet?.maxAgeSeconds ?? 600) * 1000,
      maxBytes: options.keySet?.maxBytes ?? 256 * 1024,
    },
    timeoutMs: options.timeoutMs ?? 5000,
    maxCachedTokens: options.maxCachedTokens ?? 10_000,
    introspection,
    browserLogin:
      options.browserLogin === undefined
        ? null
        : {
            redirectUri: options.browserLogin.redirectUri,
            secret: options.browserLogin.secret,
            scopes: options.browserLogin.scopes ?? ['openid', 'profile', 'email'],
            postLogoutRedirectUri: options.browserLogin.postLogoutRedirectUri,
            transactionSeconds: options.browserLogin.transactionSeconds ?? 600,
          },
    routesPath: options.routesPath ?? (id === 'oidc' ? 'oidc' : `oidc/${id}`),
    passwordGrant: options.passwordGrant ?? false,
    allowInsecureRequests: new URL(options.issuer).protocol === 'http:',
    logger: options.logger ?? NOOP_LOGGER,
  }
}

/** Options of {@link keycloak}: a Keycloak realm and its client, plus any other option. */
export interface KeycloakOptions extends Omit<OIDCAuthenticatorOptions, 'issuer'> {
  /** Where Keycloak answers, e.g. `https://sso.example.org` (older versions: `https://sso.example.org/auth`). */
  readonly serverUrl: string
  readonly realm: string
}

/**
 * The options for a Keycloak realm: the issuer is `<serverUrl>/realms/<realm>`, the audience the
 * client id (add an "audience" mapper to the client in Keycloak), roles from `realm_access` and
 * `resource_access[<client id>]`, named "Keycloak" on the login page.
 *
 * @example
 * ```ts
 * const sso = new OIDCAuthenticator(
 *   keycloak({ serverUrl: 'https://sso.example.org', realm: 'acme', clientId: 'notes', clientSecret: secrets.kc, roles: { map: { admin: 'Administrator' } } }),
 * )
 * ```
 */
export function keycloak(options: KeycloakOptions): OIDCAuthenticatorOptions {
  const parsed = z
    .looseObject({
      serverUrl: webURL.refine((value) => !value.includes('?') && !value.includes('#'), 'must not have a query or fragment'),
      realm: z
        .string()
        .min(1, 'must not be empty')
        .refine((value) => !/[/?#\s]/.test(value), 'must be a realm name, not a path'),
    })
    .safeParse(options)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'options'}: ${issue.message}`)
    throw new TypeError(`keycloak: invalid options: ${problems.join('; ')}`, { cause: parsed.error })
  }
  const { serverUrl, realm, ...rest } = options
  return { name: 'Keycloak', ...rest, issuer: `${serverUrl.replace(/\/+$/, '')}/realms/${encodeURIComponent(realm)}` }
}

/** What is wrong with a URL the authenticator would call, or `null`. */
function urlProblem(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'must be an absolute URL'
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials'
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:') return isLoopbackHost(url.hostname) ? null : 'must be https:// (plain http only on loopback: 127.0.0.0/8, ::1, localhost)'
  return 'must be an https:// URL'
}

/** `true` for loopback hosts (127.0.0.0/8, ::1, localhost), where plain http does not cross a network. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
  if (host.toLowerCase() === 'localhost') return true
  if (isIP(host) === 4) return host.split('.')[0] === '127'
  return host === '::1'
}

/** `true` when `value` is an absolute URL the authenticator may call (https, or http on loopback). */
export function isAllowedURL(value: string): boolean {
  return urlProblem(value) === null
}

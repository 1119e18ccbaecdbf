import type { Auth, AuthEnv, AuthMetrics, AuthResult, Authenticator, AuthenticatorHealth, Credentials, Logger, SessionPrincipal, User } from '@gatehouse/core'
import { AuthenticatorUnavailableError, NOOP_METRICS, isAuthError, normalizeUsername } from '@gatehouse/core'
import type { Hono } from 'hono'
import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose'
import * as client from 'openid-client'
import { ProviderRequestError, boundedFetch } from './bounded-fetch.js'
import { mapRoles, providerRoles, scopesOf, stringClaim } from './claims-roles.js'
import { checkHealth } from './health.js'
import { oidcRoutes } from './oidc-routes.js'
import type { OIDCAuthenticatorOptions, ResolvedOIDCOptions } from './oidc-options.js'
import { isAllowedURL, resolveOIDCOptions } from './oidc-options.js'
import { KeySetUnavailableError, RemoteKeySet } from './remote-key-set.js'
import { LoggedOutSessions, TokenCache } from './token-cache.js'

const SKIPPED: AuthResult = Object.freeze({ outcome: 'skipped' })
const REJECTED: AuthResult = Object.freeze({ outcome: 'rejected', reason: 'invalid-credentials' })
const SKIPPED_ANSWER = Promise.resolve(SKIPPED)
const REJECTED_ANSWER = Promise.resolve(REJECTED)

/** RFC 6750 `b64token`; anything else after "Bearer " is not a token. */
const BEARER = /^bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i
const BEARER_SCHEME = /^bearer(?:[ \t]|$)/i
/** Longer tokens are refused before any parsing. */
const MAX_TOKEN_LENGTH = 16_384
/** Provider metadata documents larger than this are refused. */
const MAX_METADATA_BYTES = 1024 * 1024
/** A failed discovery is retried no sooner than this. */
const DISCOVERY_RETRY_MS = 1000

/** Tokens from the token endpoint (refresh, browser login, password grant). */
export interface OIDCTokens {
  readonly accessToken: string
  readonly refreshToken: string | undefined
  readonly idToken: string | undefined
  /** When the access token expires, if the provider said. */
  readonly expiresAt: Date | undefined
  readonly scope: string | undefined
}

/** The provider as discovered (or configured), ready to be called. */
export interface ProviderContext {
  readonly config: client.Configuration
  readonly keys: RemoteKeySet
  readonly metadata: Readonly<client.ServerMetadata>
}

/** A verified access token's outcome and what a logout needs to find it. */
interface Verified {
  readonly result: AuthResult & { outcome: 'authenticated' }
  /** `result`, already resolved: a cache hit costs no extra turn of the event loop. */
  readonly answer: Promise<AuthResult>
  readonly sid: string | undefined
  readonly sub: string
  readonly iat: number | undefined
}

/**
 * OpenID Connect (Keycloak or any certified provider) for Gatehouse: a resource server that
 * accepts the provider's access tokens as `Authorization: Bearer`, and, when configured, a
 * relying party with a browser login (authorization code + PKCE), RP-initiated and back-channel
 * logout, introspection of opaque tokens, refresh, and the legacy password grant.
 *
 * Users are `{ id: <sub>, source: <id>, username: <preferred_username> }`: the same `sub` from two
 * providers, or an SQL user of the same name, are different principals.
 *
 * Outcomes of `identify`: no bearer header, or a JWT of another issuer ⇒ `skipped` (several
 * providers can share the chain); a token that fails any check ⇒ `rejected`; the provider's keys
 * cannot be fetched and no cached key applies ⇒ {@link AuthenticatorUnavailableError} (503).
 *
 * @example
 * ```ts
 * const oidc = new OIDCAuthenticator({
 *   issuer: 'https://sso.example.org/realms/acme',
 *   clientId: 'notes',
 *   roles: { map: { admin: 'Administrator', user: 'Viewer' } },
 * })
 * const auth = createAuth({ roles, authenticators: [sql.authenticator, oidc], session })
 * ```
 */
export class OIDCAuthenticator implements Authenticator {
  readonly id: string
  readonly loginButton?: { readonly label: string; readonly path: string }
  /** Present only with `passwordGrant: true` (legacy). */
  readonly authenticate?: (args: { readonly credentials: Credentials; readonly request: Request }) => Promise<AuthResult>
  readonly #options: ResolvedOIDCOptions
  readonly #cache: TokenCache<Verified>
  readonly #introspected: TokenCache<Verified>
  readonly #loggedOut: LoggedOutSessions
  #provider: Promise<ProviderContext> | null = null
  #ready: ProviderContext | null = null
  #failedAt = Number.NEGATIVE_INFINITY
  #failure: AuthenticatorUnavailableError | null = null
  #closed = false
  #signatureChecks = 0
  #metrics: AuthMetrics = NOOP_METRICS

  /** Validates `options` (a `TypeError` at startup on any misconfiguration). Contacts the provider lazily. */
  constructor(options: OIDCAuthenticatorOptions) {
    this.#options = resolveOIDCOptions(options)
    this.id = this.#options.id
    this.#cache = new TokenCache(this.#options.maxCachedTokens)
    this.#introspected = new TokenCache(this.#options.maxCachedTokens)
    // Long enough for any access token issued before a logout to expire (Keycloak's maximum is hours).
    this.#loggedOut = new LoggedOutSessions(this.#options.maxCachedTokens, 24 * 3600 * 1000)
    if (this.#options.browserLogin !== null) this.loginButton = { label: this.#options.name, path: `${this.#options.routesPath}/login` }
    if (this.#options.passwordGrant) this.authenticate = (args) => this.#passwordLogin(args.credentials)
  }

  /**
   * Called by `createAuth`: token validations (`tokenValidation`, with whether the cache answered)
   * and requests to the provider (`providerFetch`: discovery, JWKS, introspection, token endpoint)
   * are reported to the app's metrics.
   */
  attach({ metrics }: { readonly logger: Logger; readonly metrics: AuthMetrics }): void {
    this.#metrics = metrics
  }

  /** Options after defaults (for the routes and tests). */
  get options(): ResolvedOIDCOptions {
    return this.#options
  }

  /** Requests made to the provider's `jwks_uri` so far (0 before the first token). */
  get keySetFetches(): number {
    return this.#ready?.keys.fetches ?? 0
  }

  /** JWT signatures verified so far (a cached token is not verified again). */
  get signatureChecks(): number {
    return this.#signatureChecks
  }

  /** Verified tokens currently remembered. */
  get cachedTokens(): number {
    return this.#cache.size
  }

  identify({ request }: { readonly request: Request }): Promise<AuthResult> {
    const header = request.headers.get('authorization')
    // Only the Authorization header: never a query parameter or a form field (RFC 6750 §2.1 only).
    if (header === null || !BEARER_SCHEME.test(header)) return SKIPPED_ANSWER
    const token = BEARER.exec(header)?.[1]
    if (token === undefined) return REJECTED_ANSWER
    return this.verifyAccessToken(token)
  }

  /**
   * Checks an access token (a JWT, or an opaque token when introspection is on) and returns the
   * outcome `identify` would. Throws {@link AuthenticatorUnavailableError} when the provider must
   * be asked and cannot answer.
   */
  verifyAccessToken(token: string): Promise<AuthResult> {
    if (token.length > MAX_TOKEN_LENGTH) return REJECTED_ANSWER
    const started = performance.now()
    const key = TokenCache.key(token)
    const cached = this.#cache.get(key)
    if (cached !== undefined) {
      const refused = this.#loggedOut.has(cached)
      this.#metrics.tokenValidation({ authenticator: this.id, outcome: refused ? 'invalid' : 'valid', cached: true, seconds: (performance.now() - started) / 1000 })
      return refused ? REJECTED_ANSWER : cached.answer
    }
    const checking = this.#verifyUncached(token, key)
    const report = (outcome: 'valid' | 'invalid' | 'unavailable') => this.#metrics.tokenValidation({ authenticator: this.id, outcome, cached: false, seconds: (performance.now() - started) / 1000 })
    // Another issuer's token (skipped) is not ours to count.
    checking.then(
      (result) => result.outcome !== 'skipped' && report(result.outcome === 'authenticated' ? 'valid' : 'invalid'),
      () => report('unavailable'),
    )
    return checking
  }

  /**
   * Every request to the provider goes through here (openid-client's and the key set's), so each
   * is counted by endpoint: discovery, the token endpoint, introspection (the JWKS reports itself).
   */
  #measuredFetch(limits: { timeoutMs: number; maxBytes: number }, endpoints: () => client.ServerMetadata | undefined): client.CustomFetch {
    return async (url, init) => {
      const endpoint = endpointOf(String(url), endpoints())
      const started = performance.now()
      const report = (outcome: 'ok' | 'error') => endpoint !== undefined && this.#metrics.providerFetch({ authenticator: this.id, endpoint, outcome, seconds: (performance.now() - started) / 1000 })
      try {
        const response = await boundedFetch(url, init as RequestInit, limits)
        // A 4xx is the provider's answer (an expired refresh token); only 5xx means it failed.
        report(response.status >= 500 ? 'error' : 'ok')
        return response
      } catch (error) {
        report('error')
        throw error
      }
    }
  }

  async #verifyUncached(token: string, key: string): Promise<AuthResult> {
    const parts = token.split('.')
    if (parts.length === 3) {
      let unverified: JWTPayload
      try {
        unverified = decodeJwt(token)
      } catch {
        return REJECTED
      }
      // Another provider's token: not ours to judge (the next authenticator may know its issuer).
      // Nothing of the unverified payload is used beyond this comparison.
      if (unverified.iss !== this.#options.issuer) return SKIPPED
      return this.#verifyJWT(token, key)
    }
    if (this.#options.introspection !== null && parts.length === 1) return this.#introspect(token, key)
    return REJECTED
  }

  /**
   * Exchanges a refresh token at the token endpoint. `null` when the provider refuses it
   * (expired, revoked, another client's); throws {@link AuthenticatorUnavailableError} when it
   * cannot be asked. Needs `clientSecret`.
   */
  async refresh(refreshToken: string): Promise<OIDCTokens | null> {
    if (this.#options.clientSecret === undefined) throw new TypeError('OIDCAuthenticator.refresh needs clientSecret')
    if (typeof refreshToken !== 'string' || refreshToken === '' || refreshToken.length > MAX_TOKEN_LENGTH) return null
    const { config } = await this.provider()
    try {
      return toTokens(await client.refreshTokenGrant(config, refreshToken))
    } catch (error) {
      if (isRefusal(error)) return null
      throw this.#unavailable(error, 'refresh')
    }
  }

  /** The browser login and back-channel logout routes (when `browserLogin` is configured). */
  routes({ auth }: { readonly auth: Auth }): Hono<AuthEnv> {
    // Discovered in the background now, so that logoutRedirect (synchronous) can name the
    // provider's logout page even for sessions started before this process did.
    if (this.#options.browserLogin?.postLogoutRedirectUri !== undefined) this.provider().catch(() => {})
    return oidcRoutes(this, auth, {
      options: this.#options,
      verifyLogoutToken: (token) => this.#verifyLogoutToken(token),
      endProviderSession: (session) => this.#endProviderSession(session),
      verifyLogin: (tokens) => this.#verifyLogin(tokens),
    })
  }

  /**
   * RP-initiated logout: the provider's `end_session_endpoint` for sessions this provider started
   * in the browser, when `browserLogin.postLogoutRedirectUri` is configured; else `null`.
   */
  logoutRedirect({ principal }: { readonly principal: SessionPrincipal }): string | null {
    const postLogout = this.#options.browserLogin?.postLogoutRedirectUri
    const ready = this.#ready
    if (postLogout === undefined || ready === null || principal.source !== this.id || principal.provider === undefined) return null
    if (typeof ready.metadata.end_session_endpoint !== 'string') return null
    return client.buildEndSessionUrl(ready.config, { client_id: this.#options.clientId, post_logout_redirect_uri: postLogout }).href
  }

  /** Whether discovery, the key set and the token endpoint answer, how long each took, TLS expiry. */
  async health(): Promise<AuthenticatorHealth> {
    return checkHealth(this.#options, () => this.provider())
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#cache.clear()
    this.#introspected.clear()
  }

  /**
   * The provider's configuration, discovered once (or built from explicit endpoints). Throws
   * {@link AuthenticatorUnavailableError} when discovery fails; it is retried on a later call.
   */
  async provider(): Promise<ProviderContext> {
    if (this.#ready !== null) return this.#ready
    if (this.#failure !== null && Date.now() - this.#failedAt < DISCOVERY_RETRY_MS) throw this.#failure
    this.#provider ??= this.#discover().then(
      (ready) => {
        this.#ready = ready
        this.#failure = null
        return ready
      },
      (error: unknown) => {
        this.#provider = null
        this.#failedAt = Date.now()
        this.#failure = this.#unavailable(error, 'discovery')
        throw this.#failure
      },
    )
    return this.#provider
  }

  async #discover(): Promise<ProviderContext> {
    const { issuer, clientId, clientSecret, endpoints, timeoutMs, allowInsecureRequests } = this.#options
    const fetchLimits = { timeoutMs, maxBytes: MAX_METADATA_BYTES }
    let known: client.ServerMetadata | undefined
    const customFetch = this.#measuredFetch(fetchLimits, () => known)
    const clientAuth = clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret)
    let config: client.Configuration
    if (endpoints === undefined) {
      config = await client.discovery(new URL(issuer), clientId, clientSecret, clientAuth, {
        [client.customFetch]: customFetch,
        timeout: Math.ceil(timeoutMs / 1000),
        // Plain http passed validation only for loopback issuers (development and tests).
        execute: allowInsecureRequests ? [client.allowInsecureRequests] : [],
      })
    } else {
      const metadata: client.ServerMetadata = {
        issuer,
        jwks_uri: endpoints.jwksUri,
        ...(endpoints.tokenEndpoint !== undefined && { token_endpoint: endpoints.tokenEndpoint }),
        ...(endpoints.authorizationEndpoint !== undefined && { authorization_endpoint: endpoints.authorizationEndpoint }),
        ...(endpoints.introspectionEndpoint !== undefined && { introspection_endpoint: endpoints.introspectionEndpoint }),
        ...(endpoints.endSessionEndpoint !== undefined && { end_session_endpoint: endpoints.endSessionEndpoint }),
        ...(endpoints.userinfoEndpoint !== undefined && { userinfo_endpoint: endpoints.userinfoEndpoint }),
      }
      config = new client.Configuration(metadata, clientId, clientSecret, clientAuth)
      if (allowInsecureRequests) client.allowInsecureRequests(config)
    }
    config[client.customFetch] = customFetch
    config.timeout = Math.ceil(timeoutMs / 1000)
    const metadata = config.serverMetadata()
    known = metadata
    // A discovery document may name any URL: the same https-or-loopback rule as the issuer.
    for (const name of ['jwks_uri', 'token_endpoint', 'authorization_endpoint', 'introspection_endpoint', 'end_session_endpoint', 'userinfo_endpoint'] as const) {
      const url = metadata[name]
      if (url !== undefined && (typeof url !== 'string' || !isAllowedURL(url))) throw new ProviderRequestError(`${name} must be https (plain http only on loopback)`)
    }
    if (typeof metadata.jwks_uri !== 'string') throw new ProviderRequestError('the provider publishes no jwks_uri')
    const keys = new RemoteKeySet(metadata.jwks_uri, {
      ...this.#options.keySet,
      timeoutMs,
      onFetch: ({ outcome, seconds }) => this.#metrics.providerFetch({ authenticator: this.id, endpoint: 'jwks', outcome, seconds }),
    })
    return { config, keys, metadata }
  }

  async #verifyJWT(token: string, cacheKey: string): Promise<AuthResult> {
    const { keys } = await this.provider()
    const { issuer, audiences, algorithms, clockToleranceSeconds } = this.#options
    let payload: JWTPayload
    let header: ProtectedHeaderParameters
    this.#signatureChecks++
    try {
      // The signature is verified before any claim is used; keys come only from the provider's
      // JWKS (jku, x5u, jwk and x5c headers are never read); only the allow-listed algorithms.
      ;({ payload, protectedHeader: header } = await jwtVerify(token, keys.getKey, {
        issuer,
        audience: [...audiences],
        algorithms: [...algorithms],
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }))
    } catch (error) {
      if (error instanceof KeySetUnavailableError) throw this.#unavailable(error, 'key set')
      if (error instanceof joseErrors.JOSEError) {
        this.#options.logger.debug({ authenticator: this.id, code: error.code }, 'bearer token refused')
        return REJECTED
      }
      throw this.#unavailable(error, 'token verification')
    }
    if (!this.#isAccessToken(payload, header)) {
      this.#options.logger.debug({ authenticator: this.id, code: 'ERR_NOT_ACCESS_TOKEN' }, 'bearer token refused')
      return REJECTED
    }
    const verified = this.#toVerified(payload)
    if (verified === null || this.#loggedOut.has(verified)) return REJECTED
    this.#cache.set(cacheKey, verified, { expiresAt: payload.exp! * 1000, sid: verified.sid, sub: verified.sub })
    return verified.result
  }

  /**
   * Only access tokens: a `typ` claim in the configured list (Keycloak: `Bearer`) or a `typ`
   * header in it (RFC 9068: `at+jwt`). A `typ` claim outside the list (`ID`, `Refresh`,
   * `Logout`), a logout token's `events` or an ID token's `nonce` refuses it whatever the header.
   */
  #isAccessToken(payload: JWTPayload, header: ProtectedHeaderParameters): boolean {
    const { claim, header: headers } = this.#options.accessTokenTypes
    if (payload.events !== undefined || payload.nonce !== undefined) return false
    const typ = payload.typ
    if (typ !== undefined) return typeof typ === 'string' && claim.includes(typ)
    return typeof header.typ === 'string' && headers.includes(header.typ.toLowerCase())
  }

  /** The user and scopes of verified claims; `null` when `sub` is unusable. */
  #toVerified(claims: JWTPayload): Verified | null {
    const sub = stringClaim(claims, 'sub')
    if (sub === undefined || sub.length > 255) return null
    const roles = providerRoles(claims, this.#options.roles)
    const username = stringClaim(claims, this.#options.usernameClaim) ?? sub
    const sid = stringClaim(claims, 'sid')
    const user: User = {
      id: sub,
      username: normalizeUsername(username),
      roles: mapRoles(roles, this.#options.roles),
      source: this.id,
      displayName: stringClaim(claims, 'name'),
      email: stringClaim(claims, 'email'),
      claims: { iss: this.#options.issuer, sub, sid, azp: stringClaim(claims, 'azp') ?? stringClaim(claims, 'client_id'), providerRoles: roles },
    }
    const result = { outcome: 'authenticated', user, scopes: scopesOf(claims) } as const
    return {
      result,
      answer: Promise.resolve(result),
      sid,
      sub,
      iat: typeof claims.iat === 'number' ? claims.iat : undefined,
    }
  }

  async #introspect(token: string, cacheKey: string): Promise<AuthResult> {
    const cached = this.#introspected.get(cacheKey)
    if (cached !== undefined) return this.#loggedOut.has(cached) ? REJECTED : cached.result
    const { config } = await this.provider()
    let answer: client.IntrospectionResponse
    try {
      answer = await client.tokenIntrospection(config, token, { token_type_hint: 'access_token' })
    } catch (error) {
      // Any failure to get an answer is "cannot tell", never "refused": 503-class.
      throw this.#unavailable(error, 'introspection')
    }
    if (answer.active !== true) return REJECTED
    const now = Date.now()
    if (typeof answer.exp !== 'number' || answer.exp * 1000 <= now - this.#options.clockToleranceSeconds * 1000) return REJECTED
    if (answer.iss !== undefined && answer.iss !== this.#options.issuer) return REJECTED
    // Only access tokens: a positive sign is required (providers answer for refresh tokens too,
    // oidc-provider without any token_type, Keycloak with typ "Refresh").
    const typ = (answer as Record<string, unknown>).typ
    const typSays = typ === undefined ? undefined : typeof typ === 'string' && this.#options.accessTokenTypes.claim.includes(typ)
    const tokenTypeSays = answer.token_type === undefined ? undefined : /^(?:bearer|dpop)$/i.test(String(answer.token_type))
    if (typSays === false || tokenTypeSays === false || (typSays !== true && tokenTypeSays !== true)) return REJECTED
    // The token must be meant for this resource server: its audience, or (no aud) issued to this client.
    const audiences = answer.aud === undefined ? [] : typeof answer.aud === 'string' ? [answer.aud] : answer.aud
    const mine = audiences.length > 0 ? audiences.some((aud) => this.#options.audiences.includes(aud)) : answer.client_id === this.#options.clientId
    if (!mine) return REJECTED
    const verified = this.#toVerified(answer as unknown as JWTPayload)
    if (verified === null || this.#loggedOut.has(verified)) return REJECTED
    // Never past the token's own expiry, and no longer than cacheSeconds (a revocation shows after that).
    const expiresAt = Math.min(answer.exp * 1000, now + this.#options.introspection!.cacheMs)
    this.#introspected.set(cacheKey, verified, { expiresAt, sid: verified.sid, sub: verified.sub })
    return verified.result
  }

  /** The legacy password grant: `rejected` when the provider refuses the credentials. */
  async #passwordLogin(credentials: Credentials): Promise<AuthResult> {
    const { username, password } = credentials
    if (typeof username !== 'string' || typeof password !== 'string' || username.trim() === '' || password === '') return REJECTED
    const { config } = await this.provider()
    let tokens: client.TokenEndpointResponse
    try {
      tokens = await client.genericGrantRequest(config, 'password', { username, password, scope: 'openid' })
    } catch (error) {
      if (isRefusal(error)) return REJECTED
      throw this.#unavailable(error, 'password grant')
    }
    const result = await this.verifyAccessToken(tokens.access_token)
    if (result.outcome !== 'authenticated') {
      // The provider vouched for the user but issued a token this resource server refuses
      // (audience, algorithm, type): a configuration problem, not a wrong password.
      this.#options.logger.error({ authenticator: this.id }, 'the password grant returned an access token that does not verify: check audience and algorithms')
      throw new AuthenticatorUnavailableError(this.id, { message: 'the provider issued an unusable access token' })
    }
    // A session from the login form carries no scopes (only bearer requests do).
    return { outcome: 'authenticated', user: result.user }
  }

  /** Checks the tokens of a browser login: the access token's user, tied to the ID token's subject. */
  async #verifyLogin(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<{ user: User; sid: string | undefined; sub: string } | string> {
    const idClaims = tokens.claims()
    if (idClaims === undefined) return 'no ID token'
    const result = await this.verifyAccessToken(tokens.access_token)
    if (result.outcome !== 'authenticated') return 'the access token does not verify (check audience and algorithms)'
    if (result.user.id !== idClaims.sub) return 'the access token and the ID token name different subjects'
    return { user: result.user, sid: typeof idClaims.sid === 'string' ? idClaims.sid : undefined, sub: idClaims.sub }
  }

  /** Verifies a back-channel logout token; the reason when it is refused. */
  async #verifyLogoutToken(token: string): Promise<{ sid: string | undefined; sub: string | undefined; jti: string; iat: number } | string> {
    if (token.length > MAX_TOKEN_LENGTH) return 'too long'
    const { keys } = await this.provider()
    const { issuer, clientId, algorithms, clockToleranceSeconds } = this.#options
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, keys.getKey, {
        issuer,
        audience: clientId,
        algorithms: [...algorithms],
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['iat', 'jti'],
        // Logout tokens are sent at once; an old one is a replay.
        maxTokenAge: 300 + clockToleranceSeconds,
      }))
    } catch (error) {
      if (error instanceof KeySetUnavailableError) throw this.#unavailable(error, 'key set')
      if (error instanceof joseErrors.JOSEError) return error.code
      throw error
    }
    const events = payload.events
    const event =
      typeof events === 'object' && events !== null && !Array.isArray(events) && Object.hasOwn(events, BACKCHANNEL_EVENT) ? (events as Record<string, unknown>)[BACKCHANNEL_EVENT] : undefined
    if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'no back-channel logout event'
    if (payload.nonce !== undefined) return 'a nonce is present (an ID token?)'
    const sid = stringClaim(payload, 'sid')
    const sub = stringClaim(payload, 'sub')
    if (sid === undefined && sub === undefined) return 'neither sid nor sub'
    if (typeof payload.jti !== 'string' || payload.jti === '') return 'no jti'
    return { sid, sub, jti: payload.jti, iat: payload.iat! }
  }

  /** A back-channel logout: tokens of that session (or subject) are refused from now on. */
  #endProviderSession(session: { sid: string | undefined; sub: string | undefined }): void {
    this.#loggedOut.add(session)
    this.#cache.dropSession(session)
    this.#introspected.dropSession(session)
  }

  #unavailable(error: unknown, step: string): AuthenticatorUnavailableError {
    if (isAuthError(error, 'ERR_AUTHENTICATOR_UNAVAILABLE')) return error as AuthenticatorUnavailableError
    const detail = error instanceof Error ? error.message : String(error)
    return new AuthenticatorUnavailableError(this.id, { cause: error, message: `OpenID provider unavailable during ${step}${this.#closed ? ' (closed)' : ''}: ${detail}` })
  }
}

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/** The provider answered and said no (`invalid_grant` and friends), as opposed to not answering. */
function isRefusal(error: unknown): boolean {
  return error instanceof client.ResponseBodyError && error.status >= 400 && error.status < 500 && error.error === 'invalid_grant'
}

function toTokens(response: client.TokenEndpointResponse): OIDCTokens {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token,
    idToken: response.id_token,
    expiresAt: typeof response.expires_in === 'number' ? new Date(Date.now() + response.expires_in * 1000) : undefined,
    scope: response.scope,
  }
}

/** Which provider endpoint a request goes to, by its URL (the query aside); `undefined` for others. */
function endpointOf(url: string, metadata: client.ServerMetadata | undefined): 'discovery' | 'token' | 'introspection' | undefined {
  const bare = url.split('?')[0]
  if (metadata === undefined) return bare?.includes('/.well-known/') ? 'discovery' : undefined
  if (bare === metadata.token_endpoint) return 'token'
  if (bare === metadata.introspection_endpoint) return 'introspection'
  return bare?.includes('/.well-known/') ? 'discovery' : undefined
}

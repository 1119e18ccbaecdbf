import { hkdfSync } from 'node:crypto'
import type { Auth, AuthEnv, User } from '@gatehouse/core'
import { readCapped } from '@gatehouse/core/internals'
import type { Context } from 'hono'
import { Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { EncryptJWT, jwtDecrypt } from 'jose'
import * as client from 'openid-client'
import type { OIDCAuthenticator } from './oidc-authenticator.js'
import type { ResolvedOIDCOptions } from './oidc-options.js'
import { TokenCache } from './token-cache.js'

/** What the routes need from the authenticator beyond its public API. */
export interface OIDCRouteHooks {
  readonly options: ResolvedOIDCOptions
  verifyLogoutToken(token: string): Promise<{ sid: string | undefined; sub: string | undefined; jti: string; iat: number } | string>
  endProviderSession(session: { sid: string | undefined; sub: string | undefined }): void
  verifyLogin(tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<{ user: User; sid: string | undefined; sub: string } | string>
}

/** A login in progress, sealed in a short-lived cookie. */
interface Transaction {
  readonly state: string
  readonly nonce: string
  readonly verifier: string
  readonly next: string
  /** ms since epoch */
  readonly expiresAt: number
}

/** Logins in progress kept per browser (several tabs); the oldest goes first. */
const MAX_PENDING = 3

const MAX_NEXT_LENGTH = 2048
const MAX_LOGOUT_BODY_BYTES = 16_384
const MAX_SEEN = 10_000

/**
 * `GET <path>/login?next=…` → 302 to the provider (code + PKCE S256 + state + nonce);
 * `GET <path>/callback` → a new Gatehouse session and a 303 to the sanitized `next`;
 * `POST <path>/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0).
 * Any failure of the callback is a 303 to the login page with `?error=signin-failed` and no session.
 */
export function oidcRoutes(authenticator: OIDCAuthenticator, auth: Auth, hooks: OIDCRouteHooks): Hono<AuthEnv> {
  const { options } = hooks
  const routes = new Hono<AuthEnv>()
  const base = `/${options.routesPath}`
  const source = authenticator.id
  // Logout tokens already used, by jti, for as long as they could be accepted (maxTokenAge).
  const seenLogoutTokens = new TokenCache<true>(MAX_SEEN)

  routes.post(`${base}/backchannel-logout`, async function gatehouseOIDCBackchannelLogout(c) {
    c.header('Cache-Control', 'no-store')
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    const length = Number(c.req.header('content-length') ?? '0')
    if (type !== 'application/x-www-form-urlencoded' || length > MAX_LOGOUT_BODY_BYTES) return badLogout(c, 'not a form, or too large')
    const bytes = await readCapped(c.req.raw.body, MAX_LOGOUT_BODY_BYTES)
    const text = bytes === null ? null : new TextDecoder().decode(bytes)
    if (text === null) return badLogout(c, 'too large')
    const token = new URLSearchParams(text).get('logout_token')
    if (token === null || token === '') return badLogout(c, 'no logout_token')
    let verified: Awaited<ReturnType<OIDCRouteHooks['verifyLogoutToken']>>
    try {
      verified = await hooks.verifyLogoutToken(token)
    } catch (error) {
      auth.logger.warn({ source, err: (error as Error).message }, 'back-channel logout: the provider keys cannot be fetched')
      return c.json({ error: 'temporarily_unavailable' }, 503)
    }
    if (typeof verified === 'string') return badLogout(c, verified)
    const jtiKey = TokenCache.key(`${verified.jti}`)
    if (seenLogoutTokens.get(jtiKey) !== undefined) return badLogout(c, 'replayed jti')
    seenLogoutTokens.set(jtiKey, true, { expiresAt: (verified.iat + 300 + options.clockToleranceSeconds) * 1000 + 60_000 })
    hooks.endProviderSession(verified)
    try {
      await auth.revokeProviderSessions({ source, ...(verified.sid !== undefined && { providerSessionId: verified.sid }), ...(verified.sub !== undefined && { subject: verified.sub }) })
    } catch (error) {
      auth.logger.error({ source, err: (error as Error).message }, 'back-channel logout: sessions could not be revoked')
      return c.json({ error: 'temporarily_unavailable' }, 503)
    }
    auth.logger.info({ source, sid: verified.sid, sub: verified.sub }, 'back-channel logout')
    return c.body(null, 200)
  })

  function badLogout(c: Context<AuthEnv>, reason: string): Response {
    auth.logger.warn({ source, reason }, 'back-channel logout refused')
    return c.json({ error: 'invalid_request' }, 400)
  }

  const login = options.browserLogin
  if (login === null) return routes

  const secure = new URL(login.redirectUri).protocol === 'https:'
  // __Host-: only this origin, path /, Secure; a sibling subdomain cannot plant a transaction.
  const cookieName = secure ? `__Host-gatehouse-oidc-${source}` : `gatehouse-oidc-${source}`
  const key = new Uint8Array(hkdfSync('sha256', login.secret, new Uint8Array(), `gatehouse-oidc-transaction:${source}`, 32))
  // States already used (per process): a replayed callback is refused even with its cookie.
  const usedStates = new TokenCache<true>(MAX_SEEN)

  /** The logins in progress of this browser (expired ones dropped), or 'invalid' for a cookie that does not unseal. */
  async function readTransactions(sealed: string | undefined): Promise<Transaction[] | 'invalid'> {
    if (sealed === undefined) return []
    try {
      const { payload } = await jwtDecrypt(sealed, key, { audience: `gatehouse-oidc:${source}`, keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] })
      const list = Array.isArray(payload.tx) ? (payload.tx as unknown[]) : []
      const now = Date.now()
      return list.filter(
        (item): item is Transaction =>
          typeof item === 'object' &&
          item !== null &&
          ['state', 'nonce', 'verifier', 'next'].every((name) => typeof (item as Record<string, unknown>)[name] === 'string') &&
          typeof (item as Transaction).expiresAt === 'number' &&
          (item as Transaction).expiresAt > now,
      )
    } catch {
      return 'invalid'
    }
  }

  async function writeTransactions(c: Context<AuthEnv>, list: readonly Transaction[]): Promise<void> {
    if (list.length === 0) {
      deleteCookie(c, cookieName, { path: '/', secure, httpOnly: true, sameSite: 'Lax' })
      return
    }
    const expiresAt = Math.max(...list.map((item) => item.expiresAt))
    const sealed = await new EncryptJWT({ tx: list })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt()
      .setExpirationTime(Math.ceil(expiresAt / 1000))
      .setAudience(`gatehouse-oidc:${source}`)
      .encrypt(key)
    setCookie(c, cookieName, sealed, { httpOnly: true, secure, sameSite: 'Lax', path: '/', maxAge: Math.max(1, Math.ceil((expiresAt - Date.now()) / 1000)) })
  }

  routes.get(`${base}/login`, async function gatehouseOIDCLogin(c) {
    c.header('Cache-Control', 'no-store')
    let config: client.Configuration
    try {
      ;({ config } = await authenticator.provider())
    } catch (error) {
      return auth.signInFailed(c, { reason: `provider unavailable: ${(error as Error).message}`, source })
    }
    const next = c.req.query('next') ?? ''
    const verifier = client.randomPKCECodeVerifier()
    const transaction: Transaction = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier,
      // Kept as given; core's signIn sanitizes it (same-origin relative paths only).
      next: next.length <= MAX_NEXT_LENGTH ? next : '',
      expiresAt: Date.now() + login.transactionSeconds * 1000,
    }
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: login.redirectUri,
      scope: login.scopes.join(' '),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: transaction.state,
      nonce: transaction.nonce,
    })
    // Logins begun in other tabs stay valid (a few, until they expire).
    const pending = await readTransactions(getCookie(c, cookieName))
    await writeTransactions(c, [...(Array.isArray(pending) ? pending : []).slice(-(MAX_PENDING - 1)), transaction])
    return c.redirect(url.href, 302)
  })

  routes.get(`${base}/callback`, async function gatehouseOIDCCallback(c) {
    c.header('Cache-Control', 'no-store')
    const fail = (reason: string) => auth.signInFailed(c, { reason, source })
    const pending = await readTransactions(getCookie(c, cookieName))
    if (pending === 'invalid') {
      deleteCookie(c, cookieName, { path: '/', secure, httpOnly: true, sameSite: 'Lax' })
      return fail('login transaction expired or tampered with')
    }
    if (pending.length === 0) return fail('no login in progress')
    const query = new URL(c.req.url).searchParams
    const transaction = pending.find((candidate) => candidate.state === query.get('state'))
    if (transaction === undefined) return fail('state mismatch')
    // Single-use: gone from the browser whatever the outcome.
    await writeTransactions(
      c,
      pending.filter((candidate) => candidate !== transaction),
    )
    const stateKey = TokenCache.key(transaction.state)
    if (usedStates.get(stateKey) !== undefined) return fail('replayed state')
    usedStates.set(stateKey, true, { expiresAt: Date.now() + login.transactionSeconds * 1000 })
    if (query.has('error')) return fail(`provider error: ${String(query.get('error')).slice(0, 100)}`)
    let config: client.Configuration
    try {
      ;({ config } = await authenticator.provider())
    } catch (error) {
      return fail(`provider unavailable: ${(error as Error).message}`)
    }
    // The configured redirect URI with the provider's answer: never the request's Host header.
    const current = new URL(login.redirectUri)
    current.search = query.toString()
    let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: transaction.verifier,
        expectedState: transaction.state,
        expectedNonce: transaction.nonce,
        idTokenExpected: true,
      })
    } catch (error) {
      const code = (error as { code?: string; error?: string }).error ?? (error as { code?: string }).code ?? 'error'
      return fail(`code exchange failed: ${code}: ${causes(error)}`)
    }
    let verified: Awaited<ReturnType<OIDCRouteHooks['verifyLogin']>>
    try {
      verified = await hooks.verifyLogin(tokens)
    } catch (error) {
      return fail(`tokens could not be verified: ${(error as Error).message}`)
    }
    if (typeof verified === 'string') return fail(verified)
    const refreshExpiresIn = (tokens as Record<string, unknown>).refresh_expires_in
    const expiresAt = typeof refreshExpiresIn === 'number' && refreshExpiresIn > 0 ? new Date(Date.now() + refreshExpiresIn * 1000) : undefined
    return auth.signIn(c, verified.user, {
      next: transaction.next,
      providerSession: { sessionId: verified.sid, subject: verified.sub, ...(expiresAt !== undefined && { expiresAt }) },
    })
  })

  return routes
}

/** An error's message and its causes' (openid-client wraps the telling one). */
function causes(error: unknown): string {
  const messages: string[] = []
  for (let current = error, depth = 0; current instanceof Error && depth < 4; current = current.cause, depth++) messages.push(current.message)
  return messages.join(': ')
}

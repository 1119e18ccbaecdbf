import { randomBytes } from 'node:crypto'
import { sealData, unsealData } from 'iron-session'
import type { AuthenticatorRegistry } from '../authenticators/authenticator-registry.js'
import type { ProviderSession, SessionPrincipal } from '../authenticators/authenticator.js'
import { outageOf } from '../errors.js'
import { TTLCache } from '../internal/ttl-cache.js'
import type { AuthMetrics } from '../metrics.js'
import { NOOP_METRICS } from '../metrics.js'
import type { User } from '../model/user.js'
import type { ProviderSessionRevocation, RevocationList, UserChange } from '../store/user-store.js'

/** Session options of `createAuth`. */
export interface SessionOptions {
  /**
   * Secret(s) that seal the cookie (AES-256-CBC + HMAC-SHA-256 through iron-session), each at
   * least 32 characters. For rotation pass numbered secrets: the highest number seals new
   * cookies, all of them unseal (e.g. `{ 1: oldSecret, 2: newSecret }`).
   */
  readonly secret: string | Readonly<Record<number, string>>
  /** @default '__Host-gatehouse' when `secure`, else 'gatehouse' */
  readonly cookieName?: string
  /**
   * Send the cookie over HTTPS only. Turn off only for plain-http local development.
   * @default true
   */
  readonly secure?: boolean
  /** A session unused this long ends (rolling). @default 1800 (30 minutes) */
  readonly idleTimeoutSeconds?: number
  /** A session ends this long after login, however active. @default 28800 (8 hours) */
  readonly absoluteTimeoutSeconds?: number
  /**
   * The in-process cache that keeps the hot path off WebCrypto and the store: unsealed cookie →
   * live user. Local writes and changes the store reports invalidate at once; `ttlMs` bounds how
   * long a change that nobody reported (another process on a store without notifications) can go
   * unseen. `false` turns the cache off.
   * @default { ttlMs: 5000, maxEntries: 10000 }
   */
  readonly cache?: { readonly ttlMs?: number; readonly maxEntries?: number } | false
  /**
   * After a successful login the browser gets a sealed device cookie bound to the username.
   * Login attempts that carry it are throttled per device, so failures an attacker piles onto
   * the username do not lock the user out of browsers they used before. 0 turns it off.
   * @default 180 (days)
   */
  readonly trustedDeviceDays?: number
}

/** What the sealed cookie holds. */
interface SessionPayload {
  /** Random session id: the handle for logout revocation. */
  readonly sid: string
  readonly principal: SessionPrincipal
  /** Issued at (ms): start of the absolute lifetime. */
  readonly iat: number
  /** Last activity (ms): start of the idle timeout. */
  readonly lat: number
  /** The provider session's end (ms), when it ends before the absolute timeout. */
  readonly exp?: number
}

/** What a device cookie holds: which user logged in from this browser before. */
interface DevicePayload {
  readonly kind: 'device'
  readonly username: string
  readonly device: string
}

/** The state of a request's session. */
export type SessionState =
  /** No session. `reason` says why a cookie that was sent did not count (for the audit log). */
  | { readonly status: 'none'; readonly reason?: 'invalid' | 'expired' | 'revoked' }
  /** The cookie is valid but the store or authenticator could not confirm the user. */
  | { readonly status: 'unavailable'; readonly error: unknown; readonly payload: SessionPayload }
  | { readonly status: 'active'; readonly user: User; readonly payload: SessionPayload; readonly refresh: boolean }

/** A cookie to send: name, value and attributes. */
export interface SessionCookie {
  readonly name: string
  readonly value: string
  readonly maxAgeSeconds: number
  readonly secure: boolean
}

const MAX_COOKIE_BYTES = 4096
/** An iron seal (`Fe26.2*id*…*mac`) followed by iron-session's format version. */
const IRON_SEAL = /^Fe26\.2\*\d+\*[\w-]+\*[\w-]+\*[\w-]+\*\d*\*[\w-]+\*[\w-]+~2$/

/**
 * Seals, unseals, caches and revokes sessions. Created by `createAuth`; exported for tests and
 * for frameworks around Hono that need the same cookies.
 */
export class SessionManager {
  readonly cookieName: string
  readonly deviceCookieName: string
  readonly secure: boolean
  readonly #deviceTTLSeconds: number
  readonly #passwords: Record<number, string>
  readonly #idleMs: number
  readonly #absoluteMs: number
  readonly #refreshAfterMs: number
  /** Unsealed sessions by {@link cacheKey} of their cookie; an entry counts only for its exact cookie. */
  readonly #cache: TTLCache<string, { cookie: string; user: User; payload: SessionPayload }>
  /** Lookups in progress by cookie: concurrent misses of one cookie share one unseal and one store read. */
  readonly #lookups = new Map<string, Promise<SessionState>>()
  /** Session id → its latest re-seal, so a client that ignores Set-Cookie does not cost a seal per request. */
  readonly #resealed: TTLCache<string, SessionCookie>
  readonly #registry: AuthenticatorRegistry
  readonly #revocations: RevocationList
  readonly #metrics: AuthMetrics
  /** Bumped by every invalidation; a lookup that overlapped one does not fill the cache. */
  #generation = 0

  constructor(options: SessionOptions, deps: { registry: AuthenticatorRegistry; revocations: RevocationList; metrics?: AuthMetrics }) {
    const passwords: Record<number, string> = typeof options.secret === 'string' ? { 1: options.secret } : { ...options.secret }
    const ids = Object.keys(passwords)
    if (ids.length === 0) throw new TypeError('createAuth: session.secret is required')
    for (const id of ids) {
      if (!/^\d+$/.test(id)) throw new TypeError('createAuth: session.secret keys must be numbers')
      const secret = passwords[Number(id)]
      if (typeof secret !== 'string' || secret.length < 32) {
        throw new TypeError('createAuth: session.secret must be at least 32 characters (e.g. `openssl rand -base64 32`)')
      }
    }
    this.#passwords = passwords
    this.secure = options.secure ?? true
    this.cookieName = options.cookieName ?? (this.secure ? '__Host-gatehouse' : 'gatehouse')
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(this.cookieName)) throw new TypeError('createAuth: invalid session.cookieName')
    if (this.cookieName.startsWith('__Host-') && !this.secure) throw new TypeError('createAuth: a __Host- cookie must be secure')
    this.deviceCookieName = this.secure ? '__Host-gatehouse-device' : 'gatehouse-device'
    const deviceDays = options.trustedDeviceDays ?? 180
    if (!(deviceDays >= 0)) throw new TypeError('createAuth: session.trustedDeviceDays must be 0 or more')
    this.#deviceTTLSeconds = Math.round(deviceDays * 86_400)
    const idle = options.idleTimeoutSeconds ?? 1800
    const absolute = options.absoluteTimeoutSeconds ?? 28_800
    if (!(idle > 0) || !(absolute > 0)) throw new TypeError('createAuth: session timeouts must be positive')
    this.#idleMs = idle * 1000
    this.#absoluteMs = absolute * 1000
    // Re-seal at most every tenth of the idle timeout: rolling without paying a seal per request.
    this.#refreshAfterMs = Math.max(1000, this.#idleMs / 10)
    const cache = options.cache === false ? { ttlMs: 0, maxEntries: 0 } : (options.cache ?? {})
    this.#cache = new TTLCache({ ttlMs: cache.ttlMs ?? 5000, maxEntries: cache.maxEntries ?? 10_000 })
    this.#resealed = new TTLCache({ ttlMs: this.#refreshAfterMs, maxEntries: cache.maxEntries ?? 10_000 })
    this.#registry = deps.registry
    this.#revocations = deps.revocations
    this.#metrics = deps.metrics ?? NOOP_METRICS
  }

  /** A device cookie for this username, or `null` when trusted devices are off. */
  async issueDevice(username: string): Promise<SessionCookie | null> {
    if (this.#deviceTTLSeconds === 0) return null
    const device: DevicePayload = { kind: 'device', username, device: randomBytes(16).toString('base64url') }
    const value = await sealData(device, { password: this.#passwords, ttl: this.#deviceTTLSeconds })
    return { name: this.deviceCookieName, value, maxAgeSeconds: this.#deviceTTLSeconds, secure: this.secure }
  }

  /** The device id in a device cookie, if the cookie is genuine and was issued for `username`. */
  async deviceOf(cookie: string | undefined, username: string): Promise<string | undefined> {
    if (this.#deviceTTLSeconds === 0 || cookie === undefined || cookie.length > MAX_COOKIE_BYTES || !IRON_SEAL.test(cookie)) return undefined
    let data: unknown
    try {
      data = await unsealData(cookie, { password: this.#passwords, ttl: this.#deviceTTLSeconds })
    } catch {
      return undefined
    }
    const device = data as Partial<DevicePayload>
    return device.kind === 'device' && device.username === username && typeof device.device === 'string' ? device.device : undefined
  }

  /**
   * Seals a new session for a freshly authenticated user (a new id every login: no fixation).
   * A `provider` session ties it to the identity provider's: it ends no later than the provider's
   * and with its back-channel logout.
   */
  async issue(user: User, now = Date.now(), provider?: ProviderSession): Promise<SessionCookie> {
    const ids = provider && { sessionId: provider.sessionId, subject: provider.subject }
    const principal: SessionPrincipal = {
      source: user.source,
      id: user.id,
      version: user.sessionVersion ?? 0,
      user: { username: user.username, roles: [...user.roles], displayName: user.displayName, email: user.email },
      authenticatedAt: now,
      ...(ids && { provider: ids }),
    }
    const exp = provider?.expiresAt?.getTime()
    const payload: SessionPayload = { sid: randomBytes(16).toString('base64url'), principal, iat: now, lat: now, ...(exp !== undefined && { exp }) }
    return this.#seal(payload, now)
  }

  /**
   * Re-seals an active session with a fresh last-activity time. Within one refresh interval the
   * same re-seal is handed out again: its last activity is then at most that interval old.
   */
  async refresh(payload: SessionPayload, now = Date.now()): Promise<SessionCookie> {
    const recent = this.#resealed.get(payload.sid, now)
    if (recent !== undefined) return recent
    const cookie = await this.#seal({ ...payload, lat: now }, now)
    this.#resealed.set(payload.sid, cookie, now)
    return cookie
  }

  /** A cookie that deletes the session cookie. */
  clearCookie(): SessionCookie {
    return { name: this.cookieName, value: '', maxAgeSeconds: 0, secure: this.secure }
  }

  /**
   * Reads a request's session cookie. Anything that is not a valid, live session of a live user
   * (tampered, truncated, oversized, foreign, expired, revoked, stale version) is `none`.
   */
  async read(cookie: string | undefined, now = Date.now()): Promise<SessionState> {
    const known = this.readCached(cookie, now)
    if (known !== undefined || cookie === undefined) return known ?? NONE
    const pending = this.#lookups.get(cookie)
    if (pending !== undefined) return pending
    const lookup: Promise<SessionState> = this.#lookup(cookie, now)
      .then((state) => {
        this.#metrics.sessionResume({ result: state.status === 'active' ? 'miss' : state.status === 'unavailable' ? 'unavailable' : (state.reason ?? 'invalid') })
        return state
      })
      .finally(() => {
        if (this.#lookups.get(cookie) === lookup) this.#lookups.delete(cookie)
      })
    this.#lookups.set(cookie, lookup)
    return lookup
  }

  /**
   * What {@link SessionManager.read} answers without waiting: a cache hit, or a cookie that is
   * absent or oversized; `undefined` when only `read` can tell. Lets the request path stay
   * synchronous on a hit.
   */
  readCached(cookie: string | undefined, now = Date.now()): SessionState | undefined {
    if (cookie === undefined || cookie === '') return NONE
    if (cookie.length > MAX_COOKIE_BYTES) return INVALID
    const cached = this.#cache.get(cacheKey(cookie), now)
    if (cached?.cookie !== cookie) return undefined
    this.#metrics.sessionResume({ result: 'hit' })
    return this.#active(cached.user, cached.payload, now)
  }

  async #lookup(cookie: string, now: number): Promise<SessionState> {
    const payload = await this.#unseal(cookie)
    if (payload === null) return INVALID
    if (!this.#live(payload, now)) return EXPIRED
    // A revocation that lands while we ask the store must not be overwritten by our answer.
    const generation = this.#generation
    const { principal } = payload
    try {
      const handle = { sessionId: payload.sid, source: principal.source, issuedAt: new Date(payload.iat), providerSessionId: principal.provider?.sessionId, subject: principal.provider?.subject }
      if (await this.#revocations.isRevoked(handle)) return REVOKED
      const user = await this.#registry.resume(principal)
      if (user === null) return REVOKED
      if (generation === this.#generation) this.#cache.set(cacheKey(cookie), { cookie, user, payload }, now)
      return this.#active(user, payload, now)
    } catch (error) {
      if (outageOf(error) !== undefined) {
        return { status: 'unavailable', error, payload }
      }
      throw error
    }
  }

  /** Ends one session: it is refused from now on, even if the cookie is replayed. */
  async revoke(payload: SessionPayload): Promise<void> {
    await this.#revocations.revoke({ sessionId: payload.sid, expiresAt: new Date(payload.iat + this.#absoluteMs) })
    this.#metrics.revocation({ kind: 'session', origin: 'local' })
    this.invalidate({ type: 'session', sessionId: payload.sid })
  }

  /**
   * Ends every session of `source` started from the provider session `providerSessionId` (or of
   * the provider subject `subject`), in every instance the revocation list reaches.
   */
  async revokeProviderSessions(args: Omit<ProviderSessionRevocation, 'expiresAt'>): Promise<void> {
    if (args.providerSessionId === undefined && args.subject === undefined) throw new TypeError('revokeProviderSessions: a provider session id or a subject is required')
    if (this.#revocations.revokeProviderSessions === undefined) throw new TypeError('revokeProviderSessions: the revocation list cannot end provider sessions')
    await this.#revocations.revokeProviderSessions({ ...args, expiresAt: new Date(Date.now() + this.#absoluteMs) })
    this.#metrics.revocation({ kind: 'provider-session', origin: 'local' })
    this.invalidate({ type: 'provider-session', ...args })
  }

  /** Drops cached sessions affected by a change. Wired to the store's `subscribe`. */
  invalidate(change: UserChange): void {
    this.#generation++
    // A lookup in flight may have read the store before this change: later requests start anew.
    this.#lookups.clear()
    if (change.type === 'all') this.#cache.clear()
    else if (change.type === 'session') this.#cache.deleteWhere((entry) => entry.payload.sid === change.sessionId)
    else if (change.type === 'provider-session') this.#cache.deleteWhere(({ payload: { principal } }) => matchesProviderSession(principal, change))
    else this.#cache.deleteWhere((entry) => entry.payload.principal.id === change.id)
  }

  #active(user: User, payload: SessionPayload, now: number): SessionState {
    if (!this.#live(payload, now)) return EXPIRED
    return { status: 'active', user, payload, refresh: now - payload.lat > this.#refreshAfterMs }
  }

  #live(payload: SessionPayload, now: number): boolean {
    return now < payload.iat + this.#absoluteMs && now < payload.lat + this.#idleMs && payload.lat <= now + 60_000 && (payload.exp === undefined || now < payload.exp)
  }

  async #seal(payload: SessionPayload, now: number): Promise<SessionCookie> {
    const remainingMs = Math.min(payload.iat + this.#absoluteMs, payload.exp ?? Infinity) - now
    const ttlSeconds = Math.max(1, Math.ceil(remainingMs / 1000))
    const value = await sealData(payload, { password: this.#passwords, ttl: ttlSeconds })
    if (value.length + this.cookieName.length + 1 > MAX_COOKIE_BYTES) {
      throw new TypeError('session cookie would exceed 4096 bytes: the user has too many roles or too long names')
    }
    return { name: this.cookieName, value, maxAgeSeconds: ttlSeconds, secure: this.secure }
  }

  async #unseal(cookie: string): Promise<SessionPayload | null> {
    // Only iron's exact format, so nothing appended or prepended to a valid seal is accepted.
    if (!IRON_SEAL.test(cookie)) return null
    let data: unknown
    try {
      data = await unsealData(cookie, { password: this.#passwords, ttl: this.#absoluteMs / 1000 })
    } catch {
      return null // garbage that iron cannot even parse: anonymous, never a 500
    }
    return isPayload(data) ? data : null
  }
}

/**
 * The cache key of a sealed cookie: its last 40 characters, the seal's HMAC. Hashing the whole
 * cookie (about 550 characters) for every request's lookup costs more than the rest of a hit;
 * the entry keeps the full cookie, so a cookie that only shares the tail is a miss.
 */
function cacheKey(cookie: string): string {
  return cookie.slice(-40)
}

const NONE: SessionState = Object.freeze({ status: 'none' })
const INVALID: SessionState = Object.freeze({ status: 'none', reason: 'invalid' })
const EXPIRED: SessionState = Object.freeze({ status: 'none', reason: 'expired' })
const REVOKED: SessionState = Object.freeze({ status: 'none', reason: 'revoked' })

function matchesProviderSession(principal: SessionPrincipal, change: Extract<UserChange, { type: 'provider-session' }>): boolean {
  if (principal.source !== change.source || principal.provider === undefined) return false
  const { sessionId, subject } = principal.provider
  return (change.providerSessionId !== undefined && sessionId === change.providerSessionId) || (change.subject !== undefined && subject === change.subject)
}

// iron-session returns {} for a wrong key or a tampered seal: check every field.
function isPayload(data: unknown): data is SessionPayload {
  if (typeof data !== 'object' || data === null) return false
  const { sid, principal, iat, lat } = data as Record<string, unknown>
  if (typeof sid !== 'string' || typeof iat !== 'number' || typeof lat !== 'number') return false
  const exp = (data as Record<string, unknown>).exp
  if (exp !== undefined && typeof exp !== 'number') return false
  if (typeof principal !== 'object' || principal === null) return false
  const p = principal as Record<string, unknown>
  const user = p.user as Record<string, unknown> | null | undefined
  return (
    typeof p.source === 'string' &&
    typeof p.id === 'string' &&
    typeof p.version === 'number' &&
    typeof p.authenticatedAt === 'number' &&
    typeof user === 'object' &&
    user !== null &&
    typeof user.username === 'string' &&
    Array.isArray(user.roles) &&
    user.roles.every((role) => typeof role === 'string')
  )
}

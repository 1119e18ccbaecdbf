import type { CompactJWSHeaderParameters, FlattenedJWSInput, JSONWebKeySet, JWTVerifyGetKey } from 'jose'
import { createLocalJWKSet, errors as joseErrors } from 'jose'
import type { FetchLimits } from './bounded-fetch.js'
import { ProviderRequestError, fetchJSON } from './bounded-fetch.js'

/** The key set could not be fetched and no cached key can answer: fail closed, 503-class. */
export class KeySetUnavailableError extends Error {
  override name = 'KeySetUnavailableError'
}

/** What jose's local key set resolves to. */
type KeyLike = Awaited<ReturnType<JWTVerifyGetKey>>

/** Without any key set, a failed fetch is retried no sooner than this. */
const COLD_RETRY_MS = 1000

/** Options of {@link RemoteKeySet}. */
export interface RemoteKeySetOptions extends FetchLimits {
  /** An unknown `kid` refetches at most once per this many ms. */
  readonly cooldownMs: number
  /** Older key sets are refreshed in the background; the old one answers meanwhile. */
  readonly maxAgeMs: number
  /** Told of every fetch of the key set: whether it gave a usable key set, and how long it took. */
  readonly onFetch?: (args: { readonly outcome: 'ok' | 'error'; readonly seconds: number }) => void
}

/**
 * The provider's signing keys, fetched from its `jwks_uri` and cached. It wraps jose's local key
 * set because `createRemoteJWKSet` alone neither caps the answer's size nor keeps the last good
 * key set when a reload fails.
 *
 * - Keys come only from this URL: a token's `jku`, `x5u`, `jwk` and `x5c` headers are never read.
 * - A token without `kid` is refused (every provider Gatehouse targets sets one).
 * - An unknown `kid` refetches at most once per `cooldownMs` (concurrent requests share one fetch),
 *   so a storm of made-up `kid`s costs one request to the provider per cooldown.
 * - A failed reload keeps the last good key set; with none (cold start), or an unknown `kid`
 *   while the provider cannot be reached, {@link KeySetUnavailableError} is thrown.
 * - Answers are refused when larger than `maxBytes`, not JSON (an HTML error page), a redirect,
 *   not a JWK set, or later than `timeoutMs`.
 */
export class RemoteKeySet {
  readonly #url: string
  readonly #options: RemoteKeySetOptions
  #local: JWTVerifyGetKey | null = null
  #kids = new Set<string>()
  #loadedAt = 0
  #lastAttemptAt = Number.NEGATIVE_INFINITY
  #lastError: Error | null = null
  #inflight: Promise<void> | null = null
  #fetches = 0

  constructor(url: string, options: RemoteKeySetOptions) {
    this.#url = url
    this.#options = options
  }

  /** Requests made to the `jwks_uri` so far. */
  get fetches(): number {
    return this.#fetches
  }

  /** The `kid`s of the key set in use. */
  get kids(): ReadonlySet<string> {
    return this.#kids
  }

  /** A jose key resolver for `jwtVerify`. */
  readonly getKey = async (header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike> => {
    if (typeof header.kid !== 'string' || header.kid === '') throw new joseErrors.JWKSNoMatchingKey('a kid is required')
    const now = Date.now()
    if (this.#local === null) {
      // Cold and the provider just failed: answer at once rather than make every request wait.
      if (this.#lastError !== null && now - this.#lastAttemptAt < Math.min(this.#options.cooldownMs, COLD_RETRY_MS)) {
        throw new KeySetUnavailableError(`the key set cannot be fetched: ${this.#lastError.message}`, { cause: this.#lastError })
      }
      await this.#reload()
    } else if (now - this.#loadedAt > this.#options.maxAgeMs && now - this.#lastAttemptAt >= this.#options.cooldownMs) {
      // Refreshed in the background: the current keys keep answering while it runs.
      this.#reload().catch(() => {})
    }
    if (!this.#kids.has(header.kid)) {
      if (Date.now() - this.#lastAttemptAt >= this.#options.cooldownMs) await this.#reload()
      else if (this.#inflight !== null) await this.#inflight.catch(() => {})
      if (!this.#kids.has(header.kid) && this.#lastError !== null) {
        // Maybe a key the provider just rotated in, and the provider cannot be asked: fail closed as unavailable.
        throw new KeySetUnavailableError(`no key "${header.kid.slice(0, 64)}" and the key set cannot be reloaded: ${this.#lastError.message}`, { cause: this.#lastError })
      }
    }
    return (await this.#local!(header, token)) as KeyLike
  }

  /** Fetches the key set now (shared with a fetch in progress). Throws when it fails and no key set is cached. */
  async #reload(): Promise<void> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = null
    })
    try {
      await this.#inflight
    } catch (error) {
      if (this.#local === null) throw new KeySetUnavailableError(`the key set cannot be fetched: ${(error as Error).message}`, { cause: error })
    }
  }

  async #fetch(): Promise<void> {
    this.#lastAttemptAt = Date.now()
    this.#fetches++
    const started = performance.now()
    const report = (outcome: 'ok' | 'error') => this.#options.onFetch?.({ outcome, seconds: (performance.now() - started) / 1000 })
    try {
      const body = await fetchJSON(this.#url, this.#options, 'application/jwk-set+json, application/json')
      const jwks = parseKeySet(body)
      const local = createLocalJWKSet(jwks)
      this.#local = local
      this.#kids = new Set(jwks.keys.flatMap((key) => (typeof key.kid === 'string' ? [key.kid] : [])))
      this.#loadedAt = Date.now()
      this.#lastError = null
      report('ok')
    } catch (error) {
      this.#lastError = error as Error
      report('error')
      throw error
    }
  }
}

/** Keeps the public signing keys of a JWK set; refuses anything that is not one. */
function parseKeySet(body: unknown): JSONWebKeySet {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { keys?: unknown }).keys)) {
    throw new ProviderRequestError('the jwks_uri answer is not a JWK set')
  }
  const keys = (body as { keys: unknown[] }).keys.filter(
    (key): key is JSONWebKeySet['keys'][number] =>
      typeof key === 'object' &&
      key !== null &&
      typeof (key as { kty?: unknown }).kty === 'string' &&
      // Symmetric keys have no place in a public key set; encryption keys do not sign.
      (key as { kty: string }).kty !== 'oct' &&
      (key as { use?: unknown }).use !== 'enc',
  )
  return { keys }
}

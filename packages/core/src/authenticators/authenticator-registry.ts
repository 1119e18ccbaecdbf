import { AuthenticatorUnavailableError, isAuthError } from '../errors.js'
import type { Logger } from '../internal/logger.js'
import { NOOP_LOGGER } from '../internal/logger.js'
import type { AuthMetrics } from '../metrics.js'
import { NOOP_METRICS } from '../metrics.js'
import type { User } from '../model/user.js'
import type { Authenticator, AuthResult, Credentials, SessionPrincipal } from './authenticator.js'

/**
 * What the chain concluded. `unavailable` means nobody authenticated and at least one backend was
 * down; `rejected` then says whether another authenticator did check and refuse the credentials
 * (that attempt still counts as a failed password).
 */
export type ChainResult = AuthResult | { readonly outcome: 'unavailable'; readonly errors: readonly AuthenticatorUnavailableError[]; readonly rejected: boolean }

interface Entry {
  readonly authenticator: Authenticator
  readonly position: number
  readonly order: number
}

/**
 * The ordered chain of authenticators. Lower `position` runs first (ties keep registration
 * order). The first `authenticated` wins; `rejected` and `skipped` go on to the next one, so a
 * directory that does not know a user never hides the SQL store that does.
 *
 * @example
 * ```ts
 * const chain = new AuthenticatorRegistry()
 *   .register(sqlAuthenticator, { position: 0 })
 *   .register(ldapAuthenticator, { position: 10 })
 * ```
 */
export class AuthenticatorRegistry {
  readonly #entries: Entry[] = []
  readonly #unavailable = new Map<string, number>()
  #logger: Logger = NOOP_LOGGER
  #metrics: AuthMetrics = NOOP_METRICS
  #frozen = false

  constructor(authenticators: Iterable<Authenticator> = []) {
    for (const authenticator of authenticators) this.register(authenticator)
  }

  /** Adds an authenticator. Throws `TypeError` on a duplicate id, a bad id or after startup. */
  register(authenticator: Authenticator, options: { position?: number } = {}): this {
    if (this.#frozen) throw new TypeError(`AuthenticatorRegistry: cannot register "${authenticator.id}" after startup`)
    if (typeof authenticator.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(authenticator.id)) {
      throw new TypeError(`AuthenticatorRegistry: invalid authenticator id ${JSON.stringify(authenticator.id)}`)
    }
    if (authenticator.id === 'anonymous' || this.get(authenticator.id) !== null) {
      throw new TypeError(`AuthenticatorRegistry: duplicate authenticator id "${authenticator.id}"`)
    }
    if (!authenticator.authenticate && !authenticator.identify && !authenticator.resume && !authenticator.routes) {
      throw new TypeError(`AuthenticatorRegistry: "${authenticator.id}" implements none of authenticate, identify, resume, routes`)
    }
    const position = options.position ?? this.#entries.length
    this.#entries.push({ authenticator, position, order: this.#entries.length })
    this.#entries.sort((a, b) => a.position - b.position || a.order - b.order)
    return this
  }

  /** Called by `createAuth`: binds the logger and metrics (for it and its authenticators) and makes the chain read-only. */
  freeze(logger: Logger, metrics: AuthMetrics = NOOP_METRICS): this {
    this.#logger = logger
    this.#metrics = metrics
    this.#frozen = true
    for (const { authenticator } of this.#entries) authenticator.attach?.({ logger, metrics })
    return this
  }

  /** The authenticators in the order they run. */
  list(): Authenticator[] {
    return this.#entries.map((entry) => entry.authenticator)
  }

  get(id: string): Authenticator | null {
    return this.#entries.find((entry) => entry.authenticator.id === id)?.authenticator ?? null
  }

  /** `true` when an authenticator identifies requests by themselves (`identify`: bearer tokens, API keys). */
  get identifiesRequests(): boolean {
    return this.#entries.some((entry) => entry.authenticator.identify !== undefined)
  }

  /** How often each authenticator was unavailable since startup. */
  unavailableCounts(): ReadonlyMap<string, number> {
    return new Map(this.#unavailable)
  }

  /** Runs the login chain. */
  authenticate(args: { credentials: Credentials; request: Request }): Promise<ChainResult> {
    return this.#run('authenticate', (a) => a.authenticate?.(args))
  }

  /** Runs the per-request chain (bearer tokens, API keys, ...). */
  identify(args: { request: Request }): Promise<ChainResult> {
    return this.#run('identify', (a) => a.identify?.(args))
  }

  /**
   * Resumes a session through the authenticator that created it. `null` means the session must be
   * refused (user gone, disabled, stale version, or its authenticator no longer registered).
   * Throws {@link AuthenticatorUnavailableError} when the authenticator cannot answer.
   */
  async resume(principal: SessionPrincipal): Promise<User | null> {
    const authenticator = this.get(principal.source)
    if (authenticator === null) return null
    if (!authenticator.resume) {
      return { id: principal.id, source: principal.source, ...principal.user, roles: [...principal.user.roles] }
    }
    try {
      const user = await authenticator.resume({ principal })
      // An authenticator may only resume its own principals.
      if (user !== null && (user.source !== principal.source || user.id !== principal.id)) return null
      return user
    } catch (error) {
      throw this.#recordUnavailable(authenticator, error, 'resume')
    }
  }

  async #run(step: 'authenticate' | 'identify', call: (authenticator: Authenticator) => Promise<AuthResult> | undefined): Promise<ChainResult> {
    const errors: AuthenticatorUnavailableError[] = []
    let rejected: AuthResult | null = null
    for (const { authenticator } of this.#entries) {
      let result: AuthResult | undefined
      try {
        result = await call(authenticator)
      } catch (error) {
        errors.push(this.#recordUnavailable(authenticator, error, step))
        continue
      }
      if (result === undefined || result.outcome === 'skipped') continue
      if (result.outcome === 'authenticated') {
        if (result.user.source !== authenticator.id) {
          // A plugin vouching for another source's principal would merge identities: refuse.
          this.#logger.error({ authenticator: authenticator.id, source: result.user.source }, 'authenticator returned a user of another source')
          errors.push(new AuthenticatorUnavailableError(authenticator.id, { message: 'user.source does not match the authenticator id' }))
          continue
        }
        return result
      }
      rejected ??= result
    }
    if (errors.length > 0) return { outcome: 'unavailable', errors, rejected: rejected !== null }
    return rejected ?? { outcome: 'skipped' }
  }

  #recordUnavailable(authenticator: Authenticator, error: unknown, step: string): AuthenticatorUnavailableError {
    const expected = isAuthError(error, 'ERR_AUTHENTICATOR_UNAVAILABLE')
    const unavailable = expected
      ? (error as AuthenticatorUnavailableError)
      : new AuthenticatorUnavailableError(authenticator.id, { cause: error, message: `authenticator "${authenticator.id}" failed` })
    this.#unavailable.set(authenticator.id, (this.#unavailable.get(authenticator.id) ?? 0) + 1)
    this.#metrics.authenticatorUnavailable({ authenticator: authenticator.id })
    const level = expected ? 'warn' : 'error'
    this.#logger[level]({ authenticator: authenticator.id, step, err: describeError(error) }, 'authenticator unavailable')
    return unavailable
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${error.name}: ${error.message}${cause}`
}

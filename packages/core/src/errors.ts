/**
 * Every error Gatehouse throws on purpose is an {@link AuthError} with a stable `code`.
 * Expected outcomes (a wrong password, an unknown user) are return values, not errors; errors are
 * for broken infrastructure, bad input at the HTTP boundary and programming mistakes.
 * The HTTP mapping of these codes lives in one place: `hono/http-errors.ts`.
 */

/** The stable codes of every {@link AuthError}, and of every error body Gatehouse sends. */
export const AUTH_ERROR_CODES = Object.freeze([
  'ERR_UNAUTHENTICATED',
  'ERR_INVALID_CREDENTIALS',
  'ERR_FORBIDDEN',
  'ERR_CSRF',
  'ERR_BAD_REQUEST',
  'ERR_UNSUPPORTED_MEDIA_TYPE',
  'ERR_PAYLOAD_TOO_LARGE',
  'ERR_TOO_MANY_ATTEMPTS',
  'ERR_AUTHENTICATOR_UNAVAILABLE',
  'ERR_STORE_UNAVAILABLE',
  'ERR_MISCONFIGURED',
  'ERR_USER_EXISTS',
  'ERR_USER_NOT_FOUND',
  'ERR_WEAK_PASSWORD',
  'ERR_INTERNAL',
] as const)

/** The stable codes of every {@link AuthError}. */
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number]

/** The two outages, one code per cause: an authenticator's backend, or the user store's database. */
export type OutageCode = 'ERR_AUTHENTICATOR_UNAVAILABLE' | 'ERR_STORE_UNAVAILABLE'

const CODES: ReadonlySet<string> = new Set(AUTH_ERROR_CODES)

/**
 * `true` when `error` is a Gatehouse error, of one of `codes` when given. It matches the stable
 * `code`, not the class: an error thrown by another copy of `@gatehouse/core` (a plugin that
 * bundled its own) still counts, where `instanceof` would turn its 503 into a 500.
 */
export function isAuthError<C extends AuthErrorCode = AuthErrorCode>(error: unknown, codes?: C | readonly C[]): error is AuthError & { readonly code: C } {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string' || !CODES.has(code)) return false
  return codes === undefined || (typeof codes === 'string' ? code === codes : (codes as readonly string[]).includes(code))
}

/**
 * Which outage an error stands for: the store's when the user store's database is the cause
 * anywhere in its `cause` chain (an authenticator that could not read the store), else the
 * authenticator's; `undefined` when it is no outage at all.
 */
export function outageOf(error: unknown): OutageCode | undefined {
  if (!isAuthError(error, ['ERR_AUTHENTICATOR_UNAVAILABLE', 'ERR_STORE_UNAVAILABLE'])) return undefined
  for (let cause: unknown = error, depth = 0; cause !== undefined && depth < 8; cause = (cause as Error).cause, depth++) {
    if (isAuthError(cause, 'ERR_STORE_UNAVAILABLE')) return 'ERR_STORE_UNAVAILABLE'
  }
  return 'ERR_AUTHENTICATOR_UNAVAILABLE'
}

/** Base class of all Gatehouse errors. `code` is stable and safe to match on. */
export class AuthError extends Error {
  readonly code: AuthErrorCode

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * Thrown by an authenticator whose backend is down, refused, timed out or failed TLS.
 * The registry logs it, counts it and goes on with the next authenticator; it is never
 * counted as a failed password.
 */
export class AuthenticatorUnavailableError extends AuthError {
  /** Id of the authenticator that could not answer. */
  readonly authenticator: string

  constructor(authenticator: string, options?: { cause?: unknown; message?: string }) {
    super('ERR_AUTHENTICATOR_UNAVAILABLE', options?.message ?? `authenticator "${authenticator}" is unavailable`, options)
    this.authenticator = authenticator
  }
}

/** Thrown by a {@link UserStore} whose database cannot be reached. Answered with 503. */
export class StoreUnavailableError extends AuthError {
  constructor(message = 'the user store is unavailable', options?: { cause?: unknown }) {
    super('ERR_STORE_UNAVAILABLE', message, options)
  }
}

/** Thrown when a username is already taken (after normalization). */
export class UserExistsError extends AuthError {
  readonly username: string

  constructor(username: string, options?: { cause?: unknown }) {
    super('ERR_USER_EXISTS', `user "${username}" already exists`, options)
    this.username = username
  }
}

/** Thrown by administrative operations on a user that does not exist. */
export class UserNotFoundError extends AuthError {
  readonly username: string

  constructor(username: string, options?: { cause?: unknown }) {
    super('ERR_USER_NOT_FOUND', `user "${username}" does not exist`, options)
    this.username = username
  }
}

/** Thrown when a new password breaks the password policy; `problems` says which rules. */
export class WeakPasswordError extends AuthError {
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    super('ERR_WEAK_PASSWORD', `password rejected: ${problems.join('; ')}`)
    this.problems = problems
  }
}

/**
 * A request Gatehouse refuses at the HTTP boundary (bad body, CSRF, too large, ...).
 * The message is generic and safe to send to the client; details go in `cause` and the log.
 */
export class RequestRejectedError extends AuthError {}

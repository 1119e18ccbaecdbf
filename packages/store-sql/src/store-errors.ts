import { StoreUnavailableError, isAuthError } from '@gatehouse/core'

// Socket-level failures: the server is down, restarting or unreachable.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN'])
// PostgreSQL SQLSTATEs that mean "not now" rather than "your query is wrong": class 08
// (connection exception), shutdown and startup (57P01-03), a statement cancelled by
// statement_timeout or an operator (57014), a lock not obtained within lock_timeout (55P03),
// resource exhaustion (53xxx) and I/O errors (58030).
const POSTGRES_UNAVAILABLE = /^(08...|57P0[1-3]|57014|55P03|53[0-9]{3}|58030)$/
// What pg and pg-pool throw without a code when a connection breaks or cannot be made in time.
const DRIVER_MESSAGES =
  /connection terminated|connection ended unexpectedly|timeout exceeded when trying to connect|client has encountered a connection error|cannot use a pool after calling end|driver has already been destroyed|client was closed and is not queryable|the client is closed/i
// SQLite result codes of a database that cannot be used right now (locked past the busy
// timeout, unreadable, full, read-only), as opposed to a constraint or syntax error.
const SQLITE_UNAVAILABLE = /^(SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|CORRUPT|NOTADB|PERM|AUTH|PROTOCOL)(_[A-Z_]+)?|CLIENT_CLOSED)$/

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** `true` when `error` (or an error it wraps) says the database cannot be reached or used now. */
export function isUnavailableError(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false
  if (isAuthError(error, 'ERR_STORE_UNAVAILABLE')) return true
  const code = codeOf(error)
  if (code !== undefined && (NETWORK_CODES.has(code) || POSTGRES_UNAVAILABLE.test(code) || SQLITE_UNAVAILABLE.test(code))) return true
  if (DRIVER_MESSAGES.test(error.message)) return true
  if (error instanceof AggregateError && error.errors.some((inner) => isUnavailableError(inner, depth + 1))) return true
  return isUnavailableError(error.cause, depth + 1)
}

/** `true` for a unique-constraint violation (PostgreSQL 23505, SQLite UNIQUE / PRIMARY KEY). */
export function isUniqueViolation(error: unknown): boolean {
  const code = codeOf(error)
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/**
 * Turns a driver error that means "database unavailable" into a {@link StoreUnavailableError}
 * (generic message naming the masked URI, the driver error kept as `cause`); other errors pass
 * through unchanged, since they are bugs or constraint violations the caller handles.
 */
export function toStoreError(error: unknown, displayURI: string): unknown {
  if (isAuthError(error, 'ERR_STORE_UNAVAILABLE') || !isUnavailableError(error)) return error
  const reason = codeOf(error) ?? (error instanceof Error ? error.message : String(error))
  return new StoreUnavailableError(`the user store at ${displayURI} is unavailable (${reason})`, { cause: error })
}

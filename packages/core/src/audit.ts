import type { Logger } from './internal/logger.js'
import type { AuthMetrics } from './metrics.js'

/**
 * Gatehouse's audit vocabulary: one structured log event for each security-relevant step, so an
 * operator sees an attack while it happens. Every event is logged through the app's logger with
 * `event` set to one of these names and a few bounded fields; metrics count the same names.
 *
 * | event | level | fields |
 * |---|---|---|
 * | `login.succeeded` | info | username, source, address |
 * | `login.failed` | info | username, address (wrong password, unknown or disabled user) |
 * | `login.throttled` | warn | username, address, retryAfterSeconds |
 * | `login.unavailable` | warn | username, address (a backend was down) |
 * | `logout` | info | username, source |
 * | `session.invalid` | warn | address (a tampered, truncated or foreign session cookie) |
 * | `session.revoked` | info | source, kind, count of affected ids (a revocation seen: local or from another instance) |
 * | `token.refused` | warn | address (an `Authorization: Bearer` that no authenticator accepted) |
 * | `csrf.refused` | warn | path, method, address (a cross-site request with the session cookie) |
 *
 * Never passwords, hashes, cookies or tokens. User-supplied text is cut to 256 characters and its
 * control characters are escaped, so a username cannot forge a log line or a terminal sequence.
 */
export const AUDIT_EVENTS = Object.freeze({
  'login.succeeded': 'info',
  'login.failed': 'info',
  'login.throttled': 'warn',
  'login.unavailable': 'warn',
  logout: 'info',
  'session.invalid': 'warn',
  'session.revoked': 'info',
  'token.refused': 'warn',
  'csrf.refused': 'warn',
} as const)

/** One of the {@link AUDIT_EVENTS} names. */
export type AuditEvent = keyof typeof AUDIT_EVENTS

const MAX_FIELD_LENGTH = 256

/** Logs and counts one audit event. Fields are bounded and escaped here, once for every caller. */
export function audit(
  { logger, metrics }: { readonly logger: Logger; readonly metrics: AuthMetrics },
  event: AuditEvent,
  fields: Readonly<Record<string, string | number | boolean | undefined>>,
): void {
  metrics.auditEvent({ event })
  const safe: Record<string, string | number | boolean> = { event }
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) safe[key] = typeof value === 'string' ? escapeLogText(value) : value
  }
  logger[AUDIT_EVENTS[event]](safe, event)
}

/** Cuts text to a bounded length and escapes control characters (CR, LF, ESC, C1, bidi overrides). */
export function escapeLogText(text: string): string {
  const cut = text.length > MAX_FIELD_LENGTH ? `${text.slice(0, MAX_FIELD_LENGTH)}…` : text
  return cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

import type { AuditEvent } from './audit.js'
import type { UserChange } from './store/user-store.js'

/**
 * What Gatehouse reports for an operator's dashboard: one method per event, label values from
 * small closed sets (authenticator ids, outcomes), never usernames, addresses or tokens. Core
 * calls the first five; authenticators and hashers receive the same object through
 * {@link Authenticator.attach} and report the rest. Implementations must be cheap and must not
 * throw: they run on the request path. A prom-client implementation lives outside core.
 *
 * @example
 * ```ts
 * const counts = new Map<string, number>()
 * const metrics: AuthMetrics = { ...NOOP_METRICS, loginAttempt: ({ outcome }) => void counts.set(outcome, (counts.get(outcome) ?? 0) + 1) }
 * const auth = createAuth({ ...sql.authOptions, roles, session, metrics })
 * ```
 */
export interface AuthMetrics {
  /** A login through the login form: which authenticator vouched (or none) and the outcome. */
  loginAttempt(args: { readonly authenticator: string | undefined; readonly outcome: 'succeeded' | 'failed' | 'throttled' | 'unavailable' }): void
  /** A session cookie read: from the cache, through the store, or refused (and why). */
  sessionResume(args: { readonly result: 'hit' | 'miss' | 'revoked' | 'expired' | 'invalid' | 'unavailable' }): void
  /** A revocation the session cache learned of: its kind, made here or reported by the store (other instances). */
  revocation(args: { readonly kind: UserChange['type']; readonly origin: 'local' | 'store' }): void
  /** An authenticator could not answer (its backend is down or too slow). */
  authenticatorUnavailable(args: { readonly authenticator: string }): void
  /** One of the {@link AUDIT_EVENTS}. */
  auditEvent(args: { readonly event: AuditEvent }): void
  /** A credential a request carried (a bearer token) was validated: the outcome and how long it took. */
  tokenValidation(args: { readonly authenticator: string; readonly outcome: 'valid' | 'invalid' | 'unavailable'; readonly cached: boolean; readonly seconds: number }): void
  /** A fetch from an identity provider (discovery, key set, introspection, token endpoint). */
  providerFetch(args: { readonly authenticator: string; readonly endpoint: 'discovery' | 'jwks' | 'introspection' | 'token'; readonly outcome: 'ok' | 'error'; readonly seconds: number }): void
  /** A directory bind (LDAP): the outcome and how long it took. */
  directoryBind(args: { readonly authenticator: string; readonly outcome: 'ok' | 'refused' | 'error'; readonly seconds: number }): void
  /** A password hash or verify waited for a slot: how many were waiting and for how long. */
  hasherQueue(args: { readonly depth: number; readonly waitSeconds: number }): void
}

const noop = (): void => {}

/** Metrics that go nowhere: the default of `createAuth`. */
export const NOOP_METRICS: AuthMetrics = Object.freeze({
  loginAttempt: noop,
  sessionResume: noop,
  revocation: noop,
  authenticatorUnavailable: noop,
  auditEvent: noop,
  tokenValidation: noop,
  providerFetch: noop,
  directoryBind: noop,
  hasherQueue: noop,
})

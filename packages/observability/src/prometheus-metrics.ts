import type { AuditEvent, AuthMetrics } from '@gatehouse/core'
import { AUDIT_EVENTS } from '@gatehouse/core'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Options of {@link createPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /**
   * Where the metrics are registered. A registry of its own by default, so two apps in one
   * process (or a test suite) never collide on prom-client's global registry.
   * @default new Registry()
   */
  readonly registry?: Registry
  /** Prepended to every metric name. @default 'gatehouse_' */
  readonly prefix?: string
  /**
   * How many distinct authenticator ids are kept as label values; later ones count as `other`.
   * Ids come from code, so this only guards against a plugin that builds ids from input.
   * @default 32
   */
  readonly maxAuthenticators?: number
}

/** What {@link createPrometheusMetrics} returns: the metrics for `createAuth`, and their registry. */
export interface PrometheusMetrics extends AuthMetrics {
  readonly registry: Registry
}

/** Seconds: a cached token check takes microseconds, a first RS256 verification about a millisecond. */
const TOKEN_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
/** Seconds: a round trip to a directory or an identity provider, up to the usual 5–10 s deadlines. */
const NETWORK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Seconds: waiting for an argon2 slot (one verify ≈ 26 ms here) while a login storm queues. */
const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

// Label values come from these closed sets only; anything else is counted as `other`, so no
// caller can grow a label's cardinality (or smuggle a username into it).
const LOGIN_OUTCOMES = new Set(['succeeded', 'failed', 'throttled', 'unavailable'])
const RESUME_RESULTS = new Set(['hit', 'miss', 'revoked', 'expired', 'invalid', 'unavailable'])
const ORIGINS = new Set(['local', 'store'])
const TOKEN_OUTCOMES = new Set(['valid', 'invalid', 'unavailable'])
const ENDPOINTS = new Set(['discovery', 'jwks', 'introspection', 'token'])
const FETCH_OUTCOMES = new Set(['ok', 'error'])
const BIND_OUTCOMES = new Set(['ok', 'refused', 'error'])
const AUDIT_NAMES = new Set<string>(Object.keys(AUDIT_EVENTS))
const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/

/**
 * {@link AuthMetrics} on prom-client: `gatehouse_…_total` counters and `…_seconds` histograms,
 * labelled only by authenticator id, outcome and similar closed sets — never by username,
 * address or token. Serve `registry.metrics()` from a guarded route (see the README).
 *
 * @example
 * ```ts
 * const metrics = createPrometheusMetrics()
 * const auth = createAuth({ ...sql.authOptions, roles, session, metrics })
 * app.get('/metrics', metricsGuard, async (c) => c.text(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }))
 * ```
 */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = options.registry ?? new Registry()
  const prefix = options.prefix ?? 'gatehouse_'
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new TypeError('createPrometheusMetrics: prefix must be a valid Prometheus name prefix')
  const maxAuthenticators = options.maxAuthenticators ?? 32
  const registers = [registry]

  const seen = new Set<string>()
  const authenticatorLabel = (id: string | undefined): string => {
    if (id === undefined) return 'none'
    if (!ID_PATTERN.test(id)) return 'other'
    if (seen.has(id)) return id
    if (seen.size >= maxAuthenticators) return 'other'
    seen.add(id)
    return id
  }
  const oneOf = (allowed: ReadonlySet<string>, value: string): string => (allowed.has(value) ? value : 'other')

  const logins = new Counter({
    name: `${prefix}login_attempts_total`,
    help: 'Logins through the login form, by the authenticator that vouched (none if nobody) and outcome.',
    labelNames: ['authenticator', 'outcome'],
    registers,
  })
  const throttled = new Counter({ name: `${prefix}logins_throttled_total`, help: 'Logins refused by the login throttle before any password was checked.', registers })
  const resumes = new Counter({ name: `${prefix}session_resumes_total`, help: 'Session cookie reads, by result (hit: from the cache; miss: through the store).', labelNames: ['result'], registers })
  const revocations = new Counter({
    name: `${prefix}revocations_total`,
    help: 'Revocations the session cache learned of, by kind and origin (local, or from the store: other instances).',
    labelNames: ['kind', 'origin'],
    registers,
  })
  const unavailable = new Counter({
    name: `${prefix}authenticator_unavailable_total`,
    help: 'Times an authenticator could not answer (backend down or too slow).',
    labelNames: ['authenticator'],
    registers,
  })
  const audits = new Counter({ name: `${prefix}audit_events_total`, help: 'Audit events, by name (see AUDIT_EVENTS).', labelNames: ['event'], registers })
  const tokens = new Counter({
    name: `${prefix}token_validations_total`,
    help: 'Bearer token validations, by authenticator, outcome and whether the cache answered.',
    labelNames: ['authenticator', 'outcome', 'cached'],
    registers,
  })
  const tokenSeconds = new Histogram({
    name: `${prefix}token_validation_seconds`,
    help: 'Time to validate a bearer token.',
    labelNames: ['authenticator', 'outcome', 'cached'],
    buckets: TOKEN_BUCKETS,
    registers,
  })
  const fetches = new Counter({
    name: `${prefix}provider_fetches_total`,
    help: 'Fetches from an identity provider, by endpoint and outcome.',
    labelNames: ['authenticator', 'endpoint', 'outcome'],
    registers,
  })
  const fetchSeconds = new Histogram({
    name: `${prefix}provider_fetch_seconds`,
    help: 'Time of a fetch from an identity provider.',
    labelNames: ['authenticator', 'endpoint', 'outcome'],
    buckets: NETWORK_BUCKETS,
    registers,
  })
  const binds = new Counter({
    name: `${prefix}directory_binds_total`,
    help: 'Directory (LDAP) binds, by outcome (refused: wrong credentials; error: directory down).',
    labelNames: ['authenticator', 'outcome'],
    registers,
  })
  const bindSeconds = new Histogram({
    name: `${prefix}directory_bind_seconds`,
    help: 'Time of a directory (LDAP) bind.',
    labelNames: ['authenticator', 'outcome'],
    buckets: NETWORK_BUCKETS,
    registers,
  })
  const queueDepth = new Gauge({ name: `${prefix}hasher_queue_depth`, help: 'Password hashes and verifies waiting for a slot, as of the latest one that started.', registers })
  const queueWait = new Histogram({ name: `${prefix}hasher_queue_wait_seconds`, help: 'Time a password hash or verify waited for a slot.', buckets: QUEUE_BUCKETS, registers })

  // Label sets that are known up front start at zero, so rate() and absent() work from the first scrape.
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ authenticator: 'none', outcome }, 0)
  for (const result of RESUME_RESULTS) resumes.inc({ result }, 0)
  for (const event of AUDIT_NAMES) audits.inc({ event }, 0)

  return Object.freeze({
    registry,
    loginAttempt({ authenticator, outcome }) {
      logins.inc({ authenticator: authenticatorLabel(authenticator), outcome: oneOf(LOGIN_OUTCOMES, outcome) })
      if (outcome === 'throttled') throttled.inc()
    },
    sessionResume({ result }) {
      resumes.inc({ result: oneOf(RESUME_RESULTS, result) })
    },
    revocation({ kind, origin }) {
      revocations.inc({ kind: ID_PATTERN.test(kind) ? kind : 'other', origin: oneOf(ORIGINS, origin) })
    },
    authenticatorUnavailable({ authenticator }) {
      unavailable.inc({ authenticator: authenticatorLabel(authenticator) })
    },
    auditEvent({ event }: { readonly event: AuditEvent }) {
      audits.inc({ event: oneOf(AUDIT_NAMES, event) })
    },
    tokenValidation({ authenticator, outcome, cached, seconds }) {
      const labels = { authenticator: authenticatorLabel(authenticator), outcome: oneOf(TOKEN_OUTCOMES, outcome), cached: cached ? 'true' : 'false' }
      tokens.inc(labels)
      tokenSeconds.observe(labels, seconds)
    },
    providerFetch({ authenticator, endpoint, outcome, seconds }) {
      const labels = { authenticator: authenticatorLabel(authenticator), endpoint: oneOf(ENDPOINTS, endpoint), outcome: oneOf(FETCH_OUTCOMES, outcome) }
      fetches.inc(labels)
      fetchSeconds.observe(labels, seconds)
    },
    directoryBind({ authenticator, outcome, seconds }) {
      const labels = { authenticator: authenticatorLabel(authenticator), outcome: oneOf(BIND_OUTCOMES, outcome) }
      binds.inc(labels)
      bindSeconds.observe(labels, seconds)
    },
    hasherQueue({ depth, waitSeconds }) {
      queueDepth.set(depth)
      queueWait.observe(waitSeconds)
    },
  } satisfies PrometheusMetrics)
}

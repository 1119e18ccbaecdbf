// What the benchmark servers and load generator share: server configurations and fixed values.

/** Seals every benchmark session (bench only; ≥ 32 characters as Gatehouse requires). */
export const BENCH_SECRET = 'gatehouse-bench-secret-0123456789abcdef'
/** Every benchmark account's password. */
export const BENCH_PASSWORD = 'Qv7-gatehouse-bench-Zt93x'
/** A wrong password for the refused-guess storm. */
export const WRONG_PASSWORD = 'Qv7-gatehouse-bench-wrong'
/** The `Origin` the login requests carry (the same origin as the server: no CSRF refusal). */
export const ORIGIN_HEADER = 'http://127.0.0.1'

/**
 * The policy of the `casbinGuard` rows: RBAC over paths, Gatehouse roles as the memberships (no
 * `g` line names a user). The warm session's user, `alice`, holds `User`.
 */
export const CASBIN_MODEL = `[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`
export const CASBIN_POLICY = `p, User, /casbin, GET
p, Administrator, /admin, GET
g, Administrator, User
`

/** Username of login client `i` (each login connection has its own account). */
export function loginUsername(i: number): string {
  return `login-${i}`
}

/** The bearer-token issuer every JWT scenario verifies against (a key set served on loopback). */
/** `name=value` of the Gatehouse session cookie a login answer sets, if it sets one. */
export function sessionCookieOf(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .find((c) => c.startsWith('gatehouse='))
    ?.split(';')[0]
}

export interface OIDCFixture {
  readonly issuer: string
  readonly audience: string
  readonly jwksURL: string
}

/** How one benchmark server process is built (passed to it as JSON). */
export interface ServerConfig {
  readonly kind: 'bare' | 'hono-middleware' | 'hono-floor' | 'gatehouse' | 'iron' | 'better-auth' | 'hono-jwk' | 'jose'
  /** gatehouse: `sqlite:<file>` or `postgres://…`. @default a fresh SQLite file */
  readonly databaseURI?: string
  /** gatehouse: `false` turns the session cache off. @default true */
  readonly sessionCache?: boolean
  /** gatehouse: log `alice` in at startup and report the cookie. @default true */
  readonly login?: boolean
  /** gatehouse: accounts `login-0` … for login clients. @default 0 */
  readonly loginUsers?: number
  /** gatehouse: argon2 work in flight (the store's `hasher.maxConcurrency`). @default the store's default (2) */
  readonly argon2Concurrency?: number
  /** gatehouse: `GET /casbin` guarded by `casbinGuard` over {@link CASBIN_MODEL}. @default false */
  readonly casbin?: boolean
  /** gatehouse: `GET /health` before `auth.middleware()`, the demo's (the store's schema check, with its deadline). @default false */
  readonly health?: boolean
  /** gatehouse (bearer through the OIDC authenticator), hono-jwk, jose. */
  readonly oidc?: OIDCFixture
  /** better-auth: its cookie cache on. @default false */
  readonly cookieCache?: boolean
}

/** One autocannon run, executed by the load generator process. */
export interface LoadConfig {
  readonly url: string
  readonly connections: number
  /** Measured seconds (fractions allowed). */
  readonly seconds: number
  /** Seconds of load before the measured run, thrown away. @default 0 */
  readonly warmupSeconds?: number
  readonly method?: 'GET' | 'POST'
  readonly headers?: Record<string, string>
  /** The bodies, one per connection in turn (login clients each use their own account). */
  readonly bodies?: readonly string[]
  /** The status every answer must have; others are counted as unexpected. @default 200 */
  readonly expectStatus?: number
}

/** What one load run measured. */
export interface LoadResult {
  readonly requestsPerSecond: number
  readonly total: number
  /** Answers during the warm-up (not in the figures; for CPU per request). */
  readonly warmupTotal: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Answers with another status than expected, plus socket errors and timeouts. */
  readonly unexpected: number
  readonly statuses: Readonly<Record<string, number>>
}

/** The casbinGuard's policy check in process (policy-check.ts): µs per warm request, per round. */
export interface PolicyCheckResult {
  /** Requests per round and route, one after the other through `app.fetch`. */
  readonly requests: number
  /** `enforceSync` calls per round. */
  readonly enforces: number
  /** `/p` behind `Protected(['User'])`, µs per request, round by round. */
  readonly protectedMicros: readonly number[]
  /** `/casbin` behind `casbinGuard` (same user, same session), µs per request, round by round. */
  readonly guardedMicros: readonly number[]
  /** What the policy check adds to a warm request: median over the rounds of guarded − protected. */
  readonly checkMicros: number
  /** `enforceSync` alone as the guard calls it (role manager holding the user's roles), µs, median over the rounds. */
  readonly enforceMicros: number
}

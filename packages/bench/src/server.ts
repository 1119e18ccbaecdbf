// One benchmark server: `node dist/server.js '<ServerConfig as JSON>'`. It builds one app, listens
// on 127.0.0.1 (a free port) and prints one JSON line `{"ready":true,"port":…,…}` on stdout with
// what the load generator needs (a session cookie, say). It stops on SIGTERM or when stdin closes,
// so a crashed harness never leaves it behind. `buildServer` is the same app without the socket
// (for the in-process measurements).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { AuthEnv, Authenticator } from '@gatehouse/core'
import { NOOP_LOGGER, Protected, Role, createAuth } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import { jwk } from 'hono/jwk'
import { sealData, unsealData } from 'iron-session'
import { createRemoteJWKSet, jwtVerify } from 'jose'
import type { ServerConfig } from './scenarios.js'
import { BENCH_PASSWORD, BENCH_SECRET, CASBIN_MODEL, CASBIN_POLICY, ORIGIN_HEADER, loginUsername, sessionCookieOf } from './scenarios.js'

/** What a server reports once it listens. */
export interface ServerReady {
  readonly ready: true
  readonly port: number
  readonly pid: number
  /** `name=value` of a session cookie for the route under test, when it needs one. */
  readonly cookie?: string
}

type Extra = Omit<ServerReady, 'ready' | 'port' | 'pid'>
export type Built = { readonly fetch: (request: Request) => Response | Promise<Response>; readonly extra: Extra; readonly close: () => Promise<void> }

const ROUTE_OK = 'ok'
/** The demo's `/health` deadline (examples/demo/src/operations.ts, HEALTH_DEADLINE_MS). */
const HEALTH_DEADLINE_MS = 1500

async function bare(): Promise<Built> {
  const app = new Hono()
  app.get('/bare', (c) => c.text(ROUTE_OK))
  return { fetch: app.fetch, extra: {}, close: async () => {} }
}

/** What one async Hono middleware costs by itself: Hono composes the route, and its answer is a promise. */
async function honoMiddleware(): Promise<Built> {
  const app = new Hono()
  app.use(async (_c, next) => {
    await next()
  })
  app.get('/p', (c) => c.text(ROUTE_OK))
  return { fetch: app.fetch, extra: {}, close: async () => {} }
}

/**
 * What any Hono middleware that is async and sets a header costs (Hono then keeps a `Headers`
 * object and the handler's answer is a promise, so node-server takes its general path): the
 * floor under Gatehouse's cookie rows, which set `Cache-Control` and `Vary` the same way.
 */
async function honoFloor(): Promise<Built> {
  const app = new Hono()
  app.use(async (c, next) => {
    c.header('Cache-Control', 'no-store')
    c.header('Vary', 'Cookie')
    await next()
  })
  app.get('/p', (c) => c.text(ROUTE_OK))
  return { fetch: app.fetch, extra: {}, close: async () => {} }
}

/** Gatehouse as an application wires it: the compiled SQL store (SQLite file or PostgreSQL), argon2id at its defaults. */
async function gatehouse(config: ServerConfig): Promise<Built> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  try {
    return await gatehouseIn(dir, config)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

async function gatehouseIn(dir: string, config: ServerConfig): Promise<Built> {
  const sql = await openSQLStore({
    uri: config.databaseURI ?? `sqlite:${join(dir, 'bench.db')}`,
    logger: NOOP_LOGGER,
    ...(config.argon2Concurrency === undefined ? {} : { hasher: { maxConcurrency: config.argon2Concurrency } }),
  })
  const authenticators: Authenticator[] = [sql.authenticator]
  if (config.oidc !== undefined) {
    // Loaded by name: the OIDC package is optional for the bench (the harness reports when it is missing).
    const specifier = '@gatehouse/authenticator-oidc'
    const { OIDCAuthenticator } = (await import(specifier)) as { OIDCAuthenticator: new (options: unknown) => Authenticator }
    authenticators.push(
      new OIDCAuthenticator({
        issuer: config.oidc.issuer,
        clientId: config.oidc.audience,
        audience: config.oidc.audience,
        endpoints: { jwksUri: config.oidc.jwksURL },
        algorithms: ['RS256'],
        roles: { map: { user: 'User' } },
      }),
    )
  }
  const auth = createAuth({
    roles: [new Role({ name: 'User' }), new Role({ name: 'Administrator' })],
    authenticators,
    store: sql.store,
    throttle: sql.throttle,
    session: { secret: BENCH_SECRET, secure: false, ...(config.sessionCache === false ? { cache: false as const } : {}) },
    logger: NOOP_LOGGER,
  })
  const app = new Hono<AuthEnv>()
  if (config.health === true) {
    // The demo's /health without the operator's details: before auth.middleware(), 200 while the
    // store answers with the current schema within the deadline, 503 otherwise.
    app.get('/health', async (c) => {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${HEALTH_DEADLINE_MS} ms`)), HEALTH_DEADLINE_MS)
      })
      let current = false
      try {
        current = (await Promise.race([sql.schemaStatus(), deadline])).current
      } catch {
        current = false
      } finally {
        clearTimeout(timer)
      }
      return c.json({ status: current ? 'ok' : 'database-unavailable' }, current ? 200 : 503, { 'Cache-Control': 'no-store' })
    })
  }
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  app.get('/p', Protected(['User']), (c) => c.text(ROUTE_OK))
  if (config.casbin === true) {
    // Loaded only here, so that the other Gatehouse rows do not load Casbin.
    const { casbinGuard, newCasbinEnforcer } = await import('@gatehouse/policy-casbin')
    const enforcer = await newCasbinEnforcer({ model: CASBIN_MODEL, policy: CASBIN_POLICY })
    app.get('/casbin', casbinGuard(enforcer), (c) => c.text(ROUTE_OK))
  }
  app.get('/admin', Protected(['Administrator']), (c) => c.text(ROUTE_OK))
  app.get('/optional', Protected({ optional: true }), (c) => c.text(ROUTE_OK))
  app.get('/public', (c) => c.text(ROUTE_OK))

  // The users exist before the server listens: one for sessions, and one per login client.
  if (!(await sql.accounts.get({ username: 'alice' }))) {
    await sql.accounts.add({ username: 'alice', password: BENCH_PASSWORD, roles: ['User'] })
  }
  await Promise.all(
    Array.from({ length: config.loginUsers ?? 0 }, async (_, i) => {
      const username = loginUsername(i)
      if (!(await sql.accounts.get({ username }))) await sql.accounts.add({ username, password: BENCH_PASSWORD, roles: ['User'] })
    }),
  )
  let cookie: string | undefined
  if (config.login !== false) {
    const res = await app.request('http://127.0.0.1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN_HEADER },
      body: JSON.stringify({ username: 'alice', password: BENCH_PASSWORD }),
    })
    if (res.status !== 200) throw new Error(`login for the bench session failed: ${res.status} ${await res.text()}`)
    cookie = sessionCookieOf(res)
  }
  return {
    fetch: app.fetch,
    extra: cookie === undefined ? {} : { cookie },
    close: async () => {
      await auth.close()
      await sql.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** iron-session's `unsealData` on every request: what a sealed cookie costs without a cache. */
async function iron(): Promise<Built> {
  const seal = await sealData({ sid: 'x'.repeat(22), principal: { source: 'sql', id: '1', version: 1 }, iat: Date.now() }, { password: BENCH_SECRET })
  const app = new Hono()
  app.get('/p', async (c) => {
    const value = getCookie(c, 'session')
    const data = value === undefined ? {} : await unsealData<{ sid?: string }>(value, { password: BENCH_SECRET })
    if (typeof data.sid !== 'string') return c.text('no', 401)
    return c.text(ROUTE_OK)
  })
  return { fetch: app.fetch, extra: { cookie: `session=${seal}` }, close: async () => {} }
}

/** better-auth's `getSession` on every request (memory adapter: no database cost at all). */
async function betterAuth(config: ServerConfig): Promise<Built> {
  const { betterAuth } = await import('better-auth')
  const { memoryAdapter } = await import('better-auth/adapters/memory')
  const db = { user: [], session: [], account: [], verification: [] }
  const auth = betterAuth({
    baseURL: 'http://127.0.0.1',
    secret: BENCH_SECRET,
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true },
    session: { cookieCache: { enabled: config.cookieCache === true, maxAge: 300 } },
    telemetry: { enabled: false },
    logger: { disabled: true },
  })
  const res = await auth.api.signUpEmail({ body: { email: 'alice@bench.test', password: BENCH_PASSWORD, name: 'alice' }, asResponse: true })
  if (!res.ok) throw new Error(`better-auth sign-up failed: ${res.status} ${await res.text()}`)
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ')
  const app = new Hono()
  app.get('/p', async (c) => {
    const session = await auth.api.getSession({ headers: c.req.raw.headers })
    if (session === null) return c.text('no', 401)
    return c.text(ROUTE_OK)
  })
  return { fetch: app.fetch, extra: { cookie }, close: async () => {} }
}

/** Hono's own `jwk` middleware (it fetches the key set on every request). */
async function honoJWK(config: ServerConfig): Promise<Built> {
  const app = new Hono()
  app.use('/p', jwk({ jwks_uri: config.oidc!.jwksURL, alg: ['RS256'] }))
  app.get('/p', (c) => c.text(ROUTE_OK))
  return { fetch: app.fetch, extra: {}, close: async () => {} }
}

/** jose: a cached remote key set, and `jwtVerify` (an RS256 verify) on every request. */
async function joseVerify(config: ServerConfig): Promise<Built> {
  const { issuer, audience, jwksURL } = config.oidc!
  const keys = createRemoteJWKSet(new URL(jwksURL))
  const app = new Hono()
  app.get('/p', async (c) => {
    const header = c.req.header('authorization')
    if (header === undefined || !header.startsWith('Bearer ')) return c.text('no', 401)
    try {
      await jwtVerify(header.slice(7), keys, { issuer, audience, algorithms: ['RS256'] })
    } catch {
      return c.text('no', 401)
    }
    return c.text(ROUTE_OK)
  })
  return { fetch: app.fetch, extra: {}, close: async () => {} }
}

/** The app of one benchmark server, without its socket. */
export async function buildServer(config: ServerConfig): Promise<Built> {
  switch (config.kind) {
    case 'bare':
      return bare()
    case 'hono-middleware':
      return honoMiddleware()
    case 'hono-floor':
      return honoFloor()
    case 'gatehouse':
      return gatehouse(config)
    case 'iron':
      return iron()
    case 'better-auth':
      return betterAuth(config)
    case 'hono-jwk':
      return honoJWK(config)
    case 'jose':
      return joseVerify(config)
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig
  const built = await buildServer(config)
  const server = serve({ fetch: built.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
    const ready: ServerReady = { ready: true, port: info.port, pid: process.pid, ...built.extra }
    process.stdout.write(`${JSON.stringify(ready)}\n`)
  })
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    server.close()
    void built.close().finally(() => process.exit(0))
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  process.stdin.on('end', stop).on('error', stop).resume()
}

// A server only when run as a script (the in-process measurements import buildServer).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench server failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  })
}

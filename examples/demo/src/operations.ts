import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { OIDCAuthenticator } from '@gatehouse/authenticator-oidc'
import type { Auth, AuthEnv, Authenticator } from '@gatehouse/core'
import type { PrometheusMetrics } from '@gatehouse/observability'
import { gatehouseSecuritySchemes } from '@gatehouse/observability'
import type { SQLStore } from '@gatehouse/store-sql'
import { swaggerUI } from '@hono/swagger-ui'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context, Hono, MiddlewareHandler } from 'hono'

/** How long `/health` waits for the database and for the backends before it answers anyway. */
export const HEALTH_DEADLINE_MS = 1500

/**
 * The operator's token (`METRICS_TOKEN`) as a guard: unset → 404 (the route does not exist),
 * else `Authorization: Bearer <token>` compared in constant time (digests of equal length), 401
 * otherwise. It is mounted before `auth.middleware()`, so the token never reaches the
 * authenticator chain: a JWT-looking token is not sent to the OpenID provider, and a failed
 * attempt is not a refused login.
 */
export function operatorToken(token: string | undefined): (c: Context) => 'absent' | 'refused' | 'granted' {
  const expected = token === undefined ? undefined : digest(token)
  return (c) => {
    if (expected === undefined) return 'absent'
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(c.req.header('authorization') ?? '')
    if (match === null) return 'refused'
    return timingSafeEqual(digest(match[1]!), expected) ? 'granted' : 'refused'
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** `GET /metrics`: Prometheus text, behind the operator token. */
export function metricsRoute(metrics: PrometheusMetrics, check: ReturnType<typeof operatorToken>): MiddlewareHandler {
  return async function gatehouseMetrics(c) {
    const access = check(c)
    if (access === 'absent') return c.json({ error: { code: 'ERR_NOT_FOUND', message: 'Not found.' } }, 404)
    if (access === 'refused')
      return c.json({ error: { code: 'ERR_UNAUTHENTICATED', message: 'Send the metrics token as a bearer token.' } }, 401, {
        'WWW-Authenticate': 'Bearer realm="metrics"',
        'Cache-Control': 'no-store',
      })
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' })
  }
}

type Outcome<T> = { readonly ok: true; readonly value: T; readonly durationMs: number } | { readonly ok: false; readonly error: string; readonly durationMs: number }

/** Runs `task` with a deadline; never throws. */
async function timed<T>(task: () => Promise<T>, deadlineMs: number): Promise<Outcome<T>> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs)
  })
  try {
    const value = await Promise.race([task(), deadline])
    return { ok: true, value, durationMs: Math.round(performance.now() - started) }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), durationMs: Math.round(performance.now() - started) }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * `GET /health`: 200 while the store answers with the current schema, 503 otherwise (what a load
 * balancer or an orchestrator acts on), within {@link HEALTH_DEADLINE_MS} even when the database
 * hangs. The details — the database's timing, every authenticator's backends (`auth.health()`:
 * LDAP connect and bind, OpenID discovery and JWKS, TLS expiry) — are shown only with the
 * operator token: hosts and certificate dates are for operators. A backend that is down makes
 * the status `degraded` but not 503: the local accounts still log in.
 */
export function healthRoute(auth: Auth, sql: SQLStore, check: ReturnType<typeof operatorToken>): MiddlewareHandler {
  return async function gatehouseHealth(c) {
    const detailed = check(c) === 'granted'
    const [database, backends] = await Promise.all([timed(() => sql.schemaStatus(), HEALTH_DEADLINE_MS), detailed ? timed(() => auth.health(), HEALTH_DEADLINE_MS) : Promise.resolve(undefined)])
    const storeOK = database.ok && database.value.current
    const status = !database.ok ? 'database-unavailable' : !database.value.current ? 'schema-outdated' : backends !== undefined && !(backends.ok && backends.value.ok) ? 'degraded' : 'ok'
    const body = detailed
      ? {
          status,
          database: database.ok ? { ok: database.value.current, durationMs: database.durationMs, store: sql.displayURI } : { ok: false, durationMs: database.durationMs, error: database.error },
          authenticators: backends?.ok ? backends.value.authenticators : { error: backends?.error },
        }
      : { status }
    return c.json(body, storeOK ? 200 : 503, { 'Cache-Control': 'no-store' })
  }
}

const require = createRequire(import.meta.url)
const SWAGGER_DIST = dirname(require.resolve('swagger-ui-dist/package.json'))
/** The only files of swagger-ui-dist that are served: scripts and styles come from the app, never a CDN. */
const SWAGGER_FILES: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'oauth2-redirect.html': 'text/html; charset=utf-8',
  'oauth2-redirect.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
}

/** What `/docs` needs to offer the provider's login in Swagger UI's "Authorize". */
export interface DocsOIDC {
  /** The client Swagger UI logs in as: a public client with PKCE that lists `<origin>/docs/oauth2-redirect.html`. */
  readonly clientId: string
  /** The app's origin as the browser sees it (for the redirect URI). */
  readonly origin: string
}

/**
 * `/docs` (Swagger UI), `/docs/openapi.json` and Swagger UI's own files from swagger-ui-dist.
 * The document's security schemes are Gatehouse's: the session cookie, bearer JWTs and, with an
 * OpenID provider, its authorization-code flow with PKCE (endpoints from its discovery).
 */
export function mountDocs(app: OpenAPIHono<AuthEnv>, auth: Auth, oidc: DocsOIDC | undefined): void {
  const provider = auth.authenticators.list().find(hasProvider)
  const files = new Map<string, Buffer>()
  ;(app as unknown as Hono).get('/docs/assets/swagger-ui-dist/:file', (c) => serveFile(c, c.req.param('file'), files))
  ;(app as unknown as Hono).get('/docs/:file{oauth2-redirect\\.(?:html|js)}', (c) => serveFile(c, c.req.param('file'), files))

  app.get('/docs/openapi.json', async (c) => {
    let flow: { authorizationUrl: string; tokenUrl: string } | undefined
    if (provider !== undefined && oidc !== undefined) {
      // The provider's endpoints come from its discovery; a provider that is down leaves the flow out.
      const metadata = await provider.provider().then(
        (p) => p.metadata,
        () => undefined,
      )
      if (typeof metadata?.authorization_endpoint === 'string' && typeof metadata.token_endpoint === 'string') {
        flow = { authorizationUrl: metadata.authorization_endpoint, tokenUrl: metadata.token_endpoint }
      }
    }
    const document = app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: 'Gatehouse demo', version: '0.1.0', description: 'Every guarded route lists its schemes and the roles, permissions or scopes its guard checks.' },
    })
    const securitySchemes = gatehouseSecuritySchemes({
      sessionCookie: auth.sessions.cookieName,
      ...(flow !== undefined && { oidc: { ...flow, scopes: { openid: 'OpenID Connect', profile: 'Profile' } } }),
    })
    // Without the provider's flow, its requirement is dropped from every operation (it would name an undeclared scheme).
    if (flow === undefined) {
      for (const item of Object.values(document.paths ?? {})) {
        for (const operation of Object.values(item as Record<string, { security?: Array<Record<string, string[]>> }>)) {
          if (Array.isArray(operation?.security)) operation.security = operation.security.filter((requirement) => !('oidc' in requirement))
        }
      }
    }
    return c.json({ ...document, components: { ...document.components, securitySchemes } })
  })

  // JSON in a script element: `<` escaped so that no value can close the element.
  const json = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c')
  const bundle = {
    url: '/docs/openapi.json',
    dom_id: '#swagger-ui',
    ...(oidc !== undefined && { oauth2RedirectUrl: `${oidc.origin}/docs/oauth2-redirect.html` }),
  }
  const oauth = oidc === undefined ? undefined : { clientId: oidc.clientId, usePkceWithAuthorizationCodeGrant: true, scopes: 'openid' }
  app.get(
    '/docs',
    swaggerUI({
      title: 'Gatehouse demo API',
      url: '/docs/openapi.json',
      // Assets at /docs/assets/swagger-ui-dist/…, served below from the package: never a CDN.
      baseUrl: '/docs/assets',
      manuallySwaggerUIHtml: (asset) => `<div id="swagger-ui"></div>
${asset.css.map((url) => `<link rel="stylesheet" href="${url}">`).join('')}
${asset.js.map((url) => `<script src="${url}"></script>`).join('')}
<script>
window.onload = () => {
  window.ui = SwaggerUIBundle(${json(bundle)})
  ${oauth === undefined ? '' : `window.ui.initOAuth(${json(oauth)})`}
}
</script>`,
    }),
  )
}

/**
 * An authenticator with an OpenID provider (the OIDC one), known by the method `/docs` calls
 * rather than by `instanceof`: this module must not load @gatehouse/authenticator-oidc (jose,
 * openid-client), which a deployment without `OIDC_*` never needs.
 */
function hasProvider(authenticator: Authenticator): authenticator is Authenticator & Pick<OIDCAuthenticator, 'provider'> {
  return typeof (authenticator as Partial<OIDCAuthenticator>).provider === 'function'
}

function serveFile(c: Context, name: string, cache: Map<string, Buffer>): Response {
  const type = SWAGGER_FILES[name]
  if (type === undefined) return c.notFound() as Response
  let body = cache.get(name)
  if (body === undefined) {
    body = readFileSync(join(SWAGGER_DIST, name))
    cache.set(name, body)
  }
  return c.body(new Uint8Array(body), 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=3600' })
}

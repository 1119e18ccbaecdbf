import type { Auth, AuthEnv, Authenticator, Logger } from '@gatehouse/core'
import { createAuth, isAuthenticated } from '@gatehouse/core'
import type { PrometheusMetrics } from '@gatehouse/observability'
import { createPrometheusMetrics, openAPIGuards } from '@gatehouse/observability'
import { casbinGuard, principalOf } from '@gatehouse/policy-casbin'
import type { SQLStore } from '@gatehouse/store-sql'
import { OpenAPIHono, createRoute } from '@hono/zod-openapi'
import type { Context, Hono } from 'hono'
import { html, raw } from 'hono/html'
import type { DocsOIDC } from './operations.js'
import { healthRoute, metricsRoute, mountDocs, operatorToken } from './operations.js'
import { entriesPolicy } from './policy.js'
import { roles } from './roles.js'

/** What the demo app is built from; `server.ts` reads them from the environment. */
export interface DemoOptions {
  readonly sql: SQLStore
  /** Extra authenticators after the SQL one (LDAP when `LDAP_URL` is set). */
  readonly authenticators?: readonly Authenticator[]
  readonly secret: string
  readonly secureCookies: boolean
  /** `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed (else every client behind a proxy shares its address). */
  readonly trustedProxies?: readonly string[]
  /** `ALLOWED_ORIGINS`: other origins that may post forms and make unsafe requests with the session cookie. */
  readonly allowedOrigins?: readonly string[]
  readonly logger: Logger
  /** Where Gatehouse's metrics go; a fresh prom-client registry by default. */
  readonly metrics?: PrometheusMetrics
  /** `METRICS_TOKEN`: the bearer token of `/metrics` and of `/health`'s details; unset → `/metrics` is a 404. */
  readonly metricsToken?: string | undefined
  /** The OpenID provider's login in Swagger UI's "Authorize" (when `OIDC_*` is set). */
  readonly docsOIDC?: DocsOIDC | undefined
}

interface Entry {
  readonly id: number
  text: string
  /**
   * Who wrote it, by principal (source, id): the username alone would let an LDAP `bob` own an
   * SQL `bob`'s entries. `null` for the welcome entry, which only an Administrator may change.
   */
  readonly author: { readonly source: string; readonly id: string; readonly username: string } | null
}

/**
 * The demo: a public home page, Gatehouse's login routes under /auth, an admin page and a small
 * JSON API: reading and adding entries need the view / edit permissions, changing or deleting one
 * is decided by the Casbin policy of `policy.ts` (a User only their own, an Administrator any).
 */
export function createDemoApp(options: DemoOptions): { app: Hono<AuthEnv>; auth: Auth; metrics: PrometheusMetrics } {
  const metrics = options.metrics ?? createPrometheusMetrics()
  const auth = createAuth({
    ...options.sql.authOptions,
    authenticators: [...options.sql.authOptions.authenticators, ...(options.authenticators ?? [])],
    roles,
    session: { secret: options.secret, secure: options.secureCookies },
    trustedProxies: options.trustedProxies ?? [],
    allowedOrigins: options.allowedOrigins ?? [],
    logger: options.logger,
    metrics,
  })
  const entries: Entry[] = [{ id: 1, text: 'Welcome to the Gatehouse demo.', author: null }]
  let nextId = 2
  const find = (c: Context) => entries.find((entry) => entry.id === Number(c.req.param('id')))
  // The policy's r.obj: the entry's owner principal ('' for none: nobody's id, so only a rule
  // that does not look at the owner, the Administrator's, allows it; a missing entry then is a 404).
  const entryObject = (c: Context) => {
    const author = find(c)?.author
    return { owner: author ? principalOf(author) : '' }
  }

  const app = new OpenAPIHono<AuthEnv>()
  // A database that goes away mid-request (e.g. /admin's account count) is a 503, not a 500.
  app.onError(auth.onError)
  // The operator's routes come before auth.middleware(): the metrics token is never taken for a
  // credential (a JWT-looking token never reaches the OpenID provider), and a probe costs no session work.
  const operator = operatorToken(options.metricsToken)
  app.get('/metrics', metricsRoute(metrics, operator))
  app.get('/health', healthRoute(auth, options.sql, operator))
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  // One guard object per route drives both the check and the OpenAPI document (see /docs).
  const guarded = openAPIGuards({ protect: auth.protect, schemes: options.docsOIDC !== undefined ? ['session', 'bearer', 'oidc'] : ['session', 'bearer'] })
  mountDocs(app, auth, options.docsOIDC)

  app.get('/', (c) => {
    const user = c.var.user
    const who = isAuthenticated(user)
      ? html`<p>Signed in as <strong>${user.displayName ?? user.username}</strong> <span class="tag">${user.source}</span></p>
          <p>Roles: ${user.roles.length ? user.roles.join(', ') : 'none'}</p>
          <ul><li><a href="/admin">Admin area</a></li><li><a href="/api/entries">Entries (JSON)</a></li><li><a href="/auth/me">/auth/me</a></li></ul>
          ${logoutForm(auth, c)}`
      : html`<p>You are not signed in.</p><p><a class="button" href="/auth/login">Sign in</a></p>
          <p class="muted">Try <a href="/admin">/admin</a>: it sends you to the login form first.</p>`
    return c.html(page('Gatehouse demo', html`<h1>Gatehouse demo</h1>${who}`))
  })

  const admin = guarded(['Administrator'])
  app.openapi(
    createRoute({ method: 'get', path: '/admin', summary: 'The admin page (HTML)', ...admin.route, responses: { ...admin.responses, 200: { description: 'The admin page.' } } }),
    async (c) => {
      const count = await options.sql.accounts.count()
      return c.html(
        page(
          'Admin',
          html`<h1>Admin area</h1><p>Welcome, <strong>${c.var.user.username}</strong>. Only administrators see this page.</p>
          <p>${count} local account${count === 1 ? '' : 's'} in the user store. Manage them with <code>npm run auth-user-admin</code>.</p>
          <p><a href="/">Home</a></p>${logoutForm(auth, c)}`,
        ),
      )
    },
  )

  const view = guarded({ requiredPermissions: ['view'] })
  const edit = guarded({ requiredPermissions: ['edit'] })
  // PUT and DELETE are decided by the Casbin policy; the document names what every caller needs
  // first (a signed-in user) and says that the policy decides the rest.
  const owned = { security: guarded().route.security, description: 'Requires a signed-in user; the Casbin policy of policy.ts decides: a User only their own entries, an Administrator any.' }
  const forbidden = { 401: { description: 'Not signed in.' }, 403: { description: 'The policy refuses (`ERR_FORBIDDEN`).' }, 404: { description: 'No such entry.' } }
  app.openapi(createRoute({ method: 'get', path: '/api/entries', summary: 'List the entries', ...view.route, responses: { ...view.responses, 200: { description: '`{ entries }`' } } }), (c) =>
    c.json({ entries }),
  )
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/entries',
      summary: 'Add an entry: `{ "text": "..." }`',
      ...edit.route,
      responses: { ...edit.responses, 201: { description: '`{ entry }`' }, 400: { description: 'No text, or more than 500 characters.' } },
    }),
    async (c) => {
      const body = (await c.req.json().catch(() => null)) as { text?: unknown } | null
      if (typeof body?.text !== 'string' || body.text.trim() === '' || body.text.length > 500) {
        return c.json({ error: { code: 'ERR_BAD_REQUEST', message: 'Send {"text": "..."} (1 to 500 characters).' } }, 400)
      }
      const { source, id, username } = c.var.user
      const entry = { id: nextId++, text: body.text.trim(), author: { source, id, username } }
      entries.push(entry)
      return c.json({ entry }, 201)
    },
  )
  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/entries/{id}',
      summary: 'Change an entry',
      ...owned,
      middleware: casbinGuard(entriesPolicy, { object: entryObject, action: 'edit' }),
      responses: { ...forbidden, 200: { description: '`{ entry }`' }, 400: { description: 'No text, or more than 500 characters.' } },
    }),
    async (c) => {
      const entry = find(c)
      if (entry === undefined) return c.json({ error: { code: 'ERR_NOT_FOUND', message: 'No such entry.' } }, 404)
      const body = (await c.req.json().catch(() => null)) as { text?: unknown } | null
      if (typeof body?.text !== 'string' || body.text.trim() === '' || body.text.length > 500) {
        return c.json({ error: { code: 'ERR_BAD_REQUEST', message: 'Send {"text": "..."} (1 to 500 characters).' } }, 400)
      }
      entry.text = body.text.trim()
      return c.json({ entry })
    },
  )
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/entries/{id}',
      summary: 'Delete an entry',
      ...owned,
      middleware: casbinGuard(entriesPolicy, { object: entryObject, action: 'delete' }),
      responses: { ...forbidden, 204: { description: 'Deleted.' } },
    }),
    (c) => {
      const index = entries.findIndex((entry) => entry.id === Number(c.req.param('id')))
      if (index < 0) return c.json({ error: { code: 'ERR_NOT_FOUND', message: 'No such entry.' } }, 404)
      entries.splice(index, 1)
      return c.body(null, 204)
    },
  )

  return { app, auth, metrics }
}

function logoutForm(auth: Auth, c: Context) {
  return html`<form method="post" action="/auth/logout"><input type="hidden" name="csrf" value="${auth.csrfToken(c)}"><button type="submit" class="secondary">Sign out</button></form>`
}

function page(title: string, body: unknown) {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>
<style>${raw(STYLE)}</style></head><body><main>${body}</main></body></html>`
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
  font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}
main{width:100%;max-width:520px;margin:24px;padding:32px;background:#fff;border-radius:12px;
  box-shadow:0 1px 3px rgba(16,24,40,.1),0 8px 24px rgba(16,24,40,.06)}
h1{margin:0 0 16px;font-size:24px}
a{color:#3b6ef5}
.button,button{display:inline-block;padding:10px 18px;font:inherit;font-weight:600;color:#fff;background:#3b6ef5;border:0;border-radius:8px;text-decoration:none;cursor:pointer}
button.secondary{color:#3b4252;background:#e8ebf0}
.tag{padding:2px 8px;font-size:12px;background:#eef2ff;color:#3b4cb8;border-radius:999px}
.muted{color:#6b7280;font-size:14px}
code{padding:1px 5px;background:#f1f3f6;border-radius:4px}
`

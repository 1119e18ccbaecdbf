#!/usr/bin/env node
// Starts the demo: `pnpm demo` from the repository root. Settings come from the environment; see
// the README's configuration table.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { serve } from '@hono/node-server'
import type { Authenticator, Logger } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import { pino } from 'pino'
import { createDemoApp } from './app.js'
import type { OIDCConfig } from './config.js'
import { ConfigError, loadConfig } from './config.js'

const SECRET_FILE = '.gatehouse-secret'

async function main(): Promise<void> {
  // JSON lines, one per event (audit events carry an `event` field); readable colours in a terminal.
  const logger = pino({
    name: 'gatehouse-demo',
    level: process.env.LOG_LEVEL ?? 'info',
    ...(process.stdout.isTTY && { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }),
  })
  const config = loadConfig(process.env)
  for (const warning of configWarnings(config)) logger.warn({ event: 'config.warning' }, warning)
  // A wrong OIDC_* value stops the demo here, before a secret file or a database is written.
  const oidc = config.oidc && (await openIDConnect(config.oidc, logger))
  const sql = await openSQLStore({ uri: config.dbURI, logger })
  const secret = config.secret ?? demoSecret()
  const authenticators: Authenticator[] = [
    // The directory client is loaded only when a directory is configured (a faster cold start without).
    ...(config.ldap ? [(await import('./ldap.js')).ldapAuthenticator(config.ldap, logger)] : []),
    ...(oidc ? [oidc(secret)] : []),
  ]
  const { app, auth } = createDemoApp({
    sql,
    authenticators,
    secret,
    secureCookies: config.secureCookies,
    trustedProxies: config.trustedProxies,
    allowedOrigins: config.allowedOrigins,
    logger,
    metricsToken: config.metricsToken,
    docsOIDC: config.oidc && { clientId: config.oidc.docsClientId, origin: new URL(config.oidc.redirectUri).origin },
  })
  await createFirstAdmin(sql)

  const server = serve({ fetch: app.fetch, port: config.port, hostname: process.env.HOST ?? '127.0.0.1' }, (info) => {
    console.log(
      `Gatehouse demo on http://${info.address}:${info.port}/  (user store: ${sql.displayURI}${config.ldap ? `, LDAP: ${config.ldap.url}` : ''}${config.oidc ? `, OpenID Connect: ${config.oidc.issuer}` : ''})`,
    )
  })
  const stop = () => {
    server.close()
    void auth.close().then(() => sql.close())
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/**
 * The OpenID Connect authenticator for a session secret. Its package (jose, openid-client) is
 * loaded only when `OIDC_*` is set, like the directory client: a deployment without starts
 * faster. The options are checked at once, with a throw-away secret.
 */
async function openIDConnect(oidc: OIDCConfig, logger: Logger): Promise<(sessionSecret: string) => Authenticator> {
  const { oidcAuthenticator } = await import('./oidc.js')
  oidcAuthenticator(oidc, { sessionSecret: randomBytes(32).toString('base64url'), logger })
  return (sessionSecret) => oidcAuthenticator(oidc, { sessionSecret, logger })
}

/** Settings that work but that an operator should know about, logged once at startup. */
function configWarnings(config: ReturnType<typeof loadConfig>): string[] {
  return [
    ...(config.secret === undefined ? ['AUTH_SECRET is not set: the demo uses a generated secret kept in .gatehouse-secret; set AUTH_SECRET in production'] : []),
    ...(!config.secureCookies ? ['AUTH_COOKIE_SECURE is false: session cookies are sent over plain http (fine on localhost only)'] : []),
    ...(config.metricsToken === undefined ? ['METRICS_TOKEN is not set: /metrics answers 404 and /health shows no details'] : []),
    ...(config.oidc !== undefined && config.oidc.clientSecret === undefined ? ['OIDC_CLIENT_SECRET is not set: bearer tokens only, no "Sign in with" button'] : []),
    ...(config.ldap !== undefined && config.ldap.bindDN === undefined ? ['LDAP_BIND_DN is not set: LDAP sessions cannot be re-validated against the directory'] : []),
  ]
}

/** Only the demo makes up a secret: the library refuses to start without one. */
function demoSecret(): string {
  const file = resolve(SECRET_FILE)
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, `${secret}\n`, { mode: 0o600 })
  console.log(`No AUTH_SECRET set: generated a session secret in ${file} (git ignores it). Set AUTH_SECRET in production.`)
  return secret
}

/** First start on an empty store: an `admin` account with a random password, shown once. */
async function createFirstAdmin(sql: Awaited<ReturnType<typeof openSQLStore>>): Promise<void> {
  if ((await sql.accounts.count()) > 0) return
  const password = randomBytes(18).toString('base64url')
  await sql.accounts.add({ username: 'admin', password, roles: ['Administrator'] })
  console.log(
    ['', 'Created the first account (shown only this once):', `    username: admin`, `    password: ${password}`, 'Change it with: npm run auth-user-admin -- set-password admin', ''].join('\n'),
  )
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof TypeError) {
    console.error(`gatehouse demo: ${error.message}`)
  } else {
    console.error('gatehouse demo: failed to start:', error)
  }
  process.exit(1)
})

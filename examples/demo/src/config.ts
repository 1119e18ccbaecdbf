import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'

/** The demo's settings, read from environment variables (see the README's configuration table). */
export interface DemoConfig {
  readonly port: number
  /** `AUTH_DB_URI`; undefined = the store's default `./gatehouse.db`. */
  readonly dbURI: string | undefined
  /** `AUTH_SECRET`; undefined = a generated one kept in `.gatehouse-secret`. */
  readonly secret: string | undefined
  /** `AUTH_COOKIE_SECURE` (default false: the demo serves plain http on localhost). */
  readonly secureCookies: boolean
  readonly ldap: LDAPConfig | undefined
  readonly oidc: OIDCConfig | undefined
  /** `METRICS_TOKEN`: the bearer token of `/metrics` and `/health`'s details; undefined = `/metrics` answers 404. */
  readonly metricsToken: string | undefined
  /** `TRUSTED_PROXIES`: addresses of reverse proxies whose `X-Forwarded-For` names the client. */
  readonly trustedProxies: readonly string[]
  /** `ALLOWED_ORIGINS`: other origins (e.g. a front end on another host) that may post forms and unsafe requests. */
  readonly allowedOrigins: readonly string[]
}

/** `OIDC_*`: bearer tokens from an OpenID provider (Keycloak or any), and its browser login. */
export interface OIDCConfig {
  readonly issuer: string
  readonly clientId: string
  /** Needed for the browser login; without it only bearer tokens are accepted. */
  readonly clientSecret: string | undefined
  readonly audience: string
  /** Provider role (realm role or this client's role) → Gatehouse roles. */
  readonly roleMap: Record<string, string[]>
  /** Where the provider sends the browser back (`OIDC_REDIRECT_URI`); default from HOST and PORT. */
  readonly redirectUri: string
  /** Where the provider sends the browser after logging out there; unset: no logout at the provider. */
  readonly postLogoutRedirectUri: string | undefined
  /** The login button says "Sign in with <name>". */
  readonly name: string
  /** `OIDC_DOCS_CLIENT_ID`: the public client (PKCE) Swagger UI's "Authorize" logs in as; default: `clientId`. */
  readonly docsClientId: string
}

export interface LDAPConfig {
  readonly url: string
  readonly bindDN: string | undefined
  readonly bindPassword: string | undefined
  readonly searchBase: string
  readonly searchFilter: string
  readonly groupBase: string | undefined
  readonly groupRoles: Record<string, string[]>
  readonly ca: string | undefined
}

/** A setting that is wrong; the message names the variable and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Reads and checks the demo's environment. Throws {@link ConfigError} on anything wrong. */
export function loadConfig(env: Record<string, string | undefined>): DemoConfig {
  const port = Number(env.PORT ?? '8000')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ConfigError(`PORT must be a port number, got "${env.PORT}"`)
  const secret = nonEmpty(env.AUTH_SECRET)
  if (secret !== undefined && secret.length < 32) throw new ConfigError('AUTH_SECRET must be at least 32 characters (try: openssl rand -base64 32)')
  const secure = env.AUTH_COOKIE_SECURE ?? 'false'
  if (secure !== 'true' && secure !== 'false') throw new ConfigError(`AUTH_COOKIE_SECURE must be "true" or "false", got "${secure}"`)
  const metricsToken = nonEmpty(env.METRICS_TOKEN)
  if (metricsToken !== undefined && (metricsToken.length < 16 || /\s/.test(metricsToken))) {
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters without spaces (try: openssl rand -base64 32)')
  }
  return {
    port,
    dbURI: nonEmpty(env.AUTH_DB_URI),
    secret,
    secureCookies: secure === 'true',
    ldap: loadLDAP(env),
    oidc: loadOIDC(env, port),
    metricsToken,
    trustedProxies: list(env.TRUSTED_PROXIES).map((address) => {
      if (isIP(address) === 0) throw new ConfigError(`TRUSTED_PROXIES must list IP addresses (the proxies' own), got "${address}"`)
      return address
    }),
    allowedOrigins: list(env.ALLOWED_ORIGINS).map((origin) => {
      if (URL.parse(origin)?.origin !== origin) throw new ConfigError(`ALLOWED_ORIGINS must list origins such as https://app.example.com, got "${origin}"`)
      return origin
    }),
  }
}

/** A comma-separated list; empty entries dropped. */
function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

function loadLDAP(env: Record<string, string | undefined>): LDAPConfig | undefined {
  const url = nonEmpty(env.LDAP_URL)
  if (url === undefined) {
    const stray = Object.keys(env).filter((key) => key.startsWith('LDAP_') && nonEmpty(env[key]) !== undefined)
    if (stray.length > 0) throw new ConfigError(`${stray.join(', ')} set but LDAP_URL is not: set LDAP_URL to switch LDAP on`)
    return undefined
  }
  for (const part of url.split(/[\s,]+/)) {
    if (!/^ldaps?:\/\/[^/]+\/?$/.test(part)) throw new ConfigError(`LDAP_URL must look like ldap://host:389 or ldaps://host:636, got "${part}"`)
  }
  const searchBase = nonEmpty(env.LDAP_SEARCH_BASE)
  if (searchBase === undefined) throw new ConfigError('LDAP_SEARCH_BASE is required with LDAP_URL (e.g. ou=people,dc=example,dc=org)')
  const bindDN = nonEmpty(env.LDAP_BIND_DN)
  const bindPassword = nonEmpty(env.LDAP_BIND_PASSWORD)
  if ((bindDN === undefined) !== (bindPassword === undefined)) throw new ConfigError('LDAP_BIND_DN and LDAP_BIND_PASSWORD go together')
  const searchFilter = nonEmpty(env.LDAP_SEARCH_FILTER) ?? '(uid={username})'
  if (!searchFilter.includes('{username}')) throw new ConfigError('LDAP_SEARCH_FILTER must contain {username}')
  const caFile = nonEmpty(env.LDAP_CA_FILE)
  let ca: string | undefined
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8')
    } catch (error) {
      throw new ConfigError(`LDAP_CA_FILE: cannot read "${caFile}" (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
    }
  }
  return { url, bindDN, bindPassword, searchBase, searchFilter, groupBase: nonEmpty(env.LDAP_GROUP_BASE), groupRoles: parseGroupRoles(env.LDAP_GROUP_ROLES), ca }
}

function loadOIDC(env: Record<string, string | undefined>, port: number): OIDCConfig | undefined {
  const issuer = nonEmpty(env.OIDC_ISSUER)
  if (issuer === undefined) {
    const stray = Object.keys(env).filter((key) => key.startsWith('OIDC_') && nonEmpty(env[key]) !== undefined)
    if (stray.length > 0) throw new ConfigError(`${stray.join(', ')} set but OIDC_ISSUER is not: set OIDC_ISSUER to switch OpenID Connect on`)
    return undefined
  }
  if (!isURL(issuer)) throw new ConfigError(`OIDC_ISSUER must be the issuer URL, e.g. https://sso.example.org/realms/acme, got "${issuer}"`)
  const clientId = nonEmpty(env.OIDC_CLIENT_ID)
  if (clientId === undefined) throw new ConfigError('OIDC_CLIENT_ID is required with OIDC_ISSUER')
  const redirectUri = nonEmpty(env.OIDC_REDIRECT_URI) ?? `http://${env.HOST ?? '127.0.0.1'}:${port}/auth/oidc/callback`
  if (!isURL(redirectUri)) throw new ConfigError(`OIDC_REDIRECT_URI must be an absolute URL, got "${redirectUri}"`)
  const postLogoutRedirectUri = nonEmpty(env.OIDC_POST_LOGOUT_REDIRECT_URI)
  if (postLogoutRedirectUri !== undefined && !isURL(postLogoutRedirectUri)) throw new ConfigError(`OIDC_POST_LOGOUT_REDIRECT_URI must be an absolute URL, got "${postLogoutRedirectUri}"`)
  return {
    issuer,
    clientId,
    clientSecret: nonEmpty(env.OIDC_CLIENT_SECRET),
    audience: nonEmpty(env.OIDC_AUDIENCE) ?? clientId,
    roleMap: parsePairs('OIDC_ROLE_MAP', 'role=Role', env.OIDC_ROLE_MAP),
    redirectUri,
    postLogoutRedirectUri,
    name: nonEmpty(env.OIDC_NAME) ?? 'OpenID Connect',
    docsClientId: nonEmpty(env.OIDC_DOCS_CLIENT_ID) ?? clientId,
  }
}

function isURL(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol)
  } catch {
    return false
  }
}

/** `a=X,b=Y` → `{ a: ['X'], b: ['Y'] }`; a key may repeat for several values. */
function parsePairs(variable: string, shape: string, text: string | undefined): Record<string, string[]> {
  const mapping: Record<string, string[]> = Object.create(null)
  for (const pair of (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [key, value, ...rest] = pair.split('=').map((part) => part.trim())
    if (!key || !value || rest.length > 0) throw new ConfigError(`${variable} entries look like ${shape}, got "${pair}"`)
    ;(mapping[key] ??= []).push(value)
  }
  return mapping
}

/** `admins=Administrator,staff=User` → `{ admins: ['Administrator'], staff: ['User'] }`. */
export function parseGroupRoles(text: string | undefined): Record<string, string[]> {
  const mapping: Record<string, string[]> = Object.create(null)
  for (const pair of (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [group, role, ...rest] = pair.split('=').map((part) => part.trim())
    if (!group || !role || rest.length > 0) throw new ConfigError(`LDAP_GROUP_ROLES entries look like group=Role, got "${pair}"`)
    ;(mapping[group] ??= []).push(role)
  }
  return mapping
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

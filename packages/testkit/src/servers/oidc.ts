import { randomBytes, randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { JWK } from 'jose'
import { exportJWK, generateKeyPair } from 'jose'
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider'
import Provider, { errors } from 'oidc-provider'

/** A fixture account of the test provider, with Keycloak-shaped role claims. */
export interface OIDCFixtureUser {
  readonly sub: string
  readonly username: string
  readonly password: string
  readonly name: string
  readonly email: string
  /** `realm_access.roles` */
  readonly realmRoles: readonly string[]
  /** `resource_access[<client>].roles` */
  readonly clientRoles: Readonly<Record<string, readonly string[]>>
  /** `groups` */
  readonly groups: readonly string[]
}

/** A client registered at the test provider. */
export interface OIDCFixtureClient {
  readonly clientId: string
  readonly clientSecret: string
}

/** What tests need to talk to a test provider (plain JSON). */
export interface OIDCServerInfo {
  /** `http://127.0.0.1:PORT/realms/<realm>` */
  readonly issuer: string
  /** `http://127.0.0.1:PORT` (what the Keycloak preset calls the server URL). */
  readonly serverUrl: string
  readonly realm: string
  readonly port: number
  /** The resource indicator whose access tokens are JWTs for audience `gatehouse`. */
  readonly apiResource: string
  /** A second resource server (audience `other-app`). */
  readonly otherResource: string
  /** `gatehouse` (the app: code flow, password grant, refresh, back-channel logout), `other-app`, `opaque-client` (opaque access tokens). */
  readonly clients: { readonly gatehouse: OIDCFixtureClient; readonly other: OIDCFixtureClient; readonly opaque: OIDCFixtureClient }
  /** alice (admin + editor on gatehouse + superuser on other-app), bob (user), carol (no roles). */
  readonly users: Readonly<Record<'alice' | 'bob' | 'carol', OIDCFixtureUser>>
}

/** Options of {@link startOIDCProvider}. */
export interface StartOIDCProviderOptions {
  /** @default 'gatehouse' */
  readonly realm?: string
  /** Redirect URIs of the `gatehouse` client. @default ['http://127.0.0.1/callback'] */
  readonly redirectUris?: readonly string[]
  /** Where the provider posts logout tokens for the `gatehouse` client. */
  readonly backchannelLogoutUri?: string
  /** @default [] */
  readonly postLogoutRedirectUris?: readonly string[]
  /** Access token lifetime in seconds. @default 300 */
  readonly accessTokenTTL?: number
}

/** A running in-process test provider. */
export interface OIDCTestServer extends OIDCServerInfo {
  readonly info: OIDCServerInfo
  /** The private signing key in use (JWK with `kid`), for signing forged tokens with the real key. */
  readonly signingKey: JWK
  /** Requests received, by path below the issuer (e.g. `/protocol/openid-connect/certs`). */
  readonly requests: Map<string, number>
  /** Back-channel logout requests the provider sent, and how they ended. */
  readonly backchannelLogouts: Array<{ readonly ok: boolean; readonly sid: string | undefined; readonly error?: string }>
  /** Requests to one path so far. */
  count(path: string): number
  /** A new signing key; the old one stays published unless `dropOld`. Sessions and grants survive. */
  rotateKeys(options?: { dropOld?: boolean }): Promise<void>
  /** Token endpoint password grant (the legacy flow) as the `gatehouse` client unless another is given. */
  passwordGrant(args: { username: string; password: string; scope?: string; resource?: string; client?: OIDCFixtureClient; opaque?: boolean }): Promise<TokenResponse>
  /** Stops listening (the port stays reserved for {@link OIDCTestServer.restart}). */
  halt(): Promise<void>
  /** Listens again on the same port after {@link OIDCTestServer.halt}. */
  restart(): Promise<void>
  stop(): Promise<void>
}

/** A token endpoint answer. */
export interface TokenResponse {
  readonly access_token: string
  readonly token_type: string
  readonly expires_in: number
  readonly refresh_token?: string
  readonly id_token?: string
  readonly scope?: string
}

const API_RESOURCE = 'urn:gatehouse:api'
const OTHER_RESOURCE = 'urn:gatehouse:other'
const KEYCLOAK_ROUTES = {
  authorization: '/protocol/openid-connect/auth',
  token: '/protocol/openid-connect/token',
  userinfo: '/protocol/openid-connect/userinfo',
  jwks: '/protocol/openid-connect/certs',
  introspection: '/protocol/openid-connect/token/introspect',
  revocation: '/protocol/openid-connect/revoke',
  end_session: '/protocol/openid-connect/logout',
}

const USERS: Record<'alice' | 'bob' | 'carol', OIDCFixtureUser> = {
  alice: {
    sub: 'f1a2b3c4-0000-4000-8000-00000000a11c',
    username: 'alice',
    password: 'alice-oidc-password',
    name: 'Alice Keycloak',
    email: 'alice@example.org',
    realmRoles: ['admin', 'offline_access'],
    clientRoles: { gatehouse: ['editor'], 'other-app': ['superuser'] },
    groups: ['/staff'],
  },
  bob: {
    sub: 'f1a2b3c4-0000-4000-8000-000000000b0b',
    username: 'bob',
    password: 'bob-oidc-password',
    name: 'Bob Keycloak',
    email: 'bob@example.org',
    realmRoles: ['user'],
    clientRoles: { 'other-app': ['admin'] },
    groups: [],
  },
  carol: {
    sub: 'f1a2b3c4-0000-4000-8000-0000000ca501',
    username: 'carol',
    password: 'carol-oidc-password',
    name: 'Carol Noroles',
    email: 'carol@example.org',
    realmRoles: [],
    clientRoles: {},
    groups: [],
  },
}

function userBySub(sub: string | undefined): OIDCFixtureUser | undefined {
  return Object.values(USERS).find((user) => user.sub === sub)
}

/**
 * Starts oidc-provider (a certified OpenID Provider) in this process on 127.0.0.1, shaped like a
 * Keycloak realm: issuer `/realms/<realm>`, endpoints under `/protocol/openid-connect/`, RS256,
 * JWT access tokens (RFC 9068, via resource indicators) carrying `typ: "Bearer"`,
 * `realm_access`, `resource_access`, `groups`, `preferred_username` and `sid`; a password grant;
 * refresh tokens; introspection; RP-initiated and back-channel logout. The login page accepts
 * the fixture users' passwords; consent is implicit (first-party clients).
 */
export async function startOIDCProvider(options: StartOIDCProviderOptions = {}): Promise<OIDCTestServer> {
  const realm = options.realm ?? 'gatehouse'
  const prefix = `/realms/${realm}`
  const requests = new Map<string, number>()
  const backchannelLogouts: OIDCTestServer['backchannelLogouts'] = []
  let keys: JWK[] = [await newSigningKey()]
  const clients = {
    gatehouse: { clientId: 'gatehouse', clientSecret: randomBytes(16).toString('hex') },
    other: { clientId: 'other-app', clientSecret: randomBytes(16).toString('hex') },
    opaque: { clientId: 'opaque-client', clientSecret: randomBytes(16).toString('hex') },
  }
  const cookieKeys = [randomBytes(16).toString('hex')]

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const path = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || '/' : url.pathname
    requests.set(path, (requests.get(path) ?? 0) + 1)
    if (!url.pathname.startsWith(`${prefix}/`) && url.pathname !== prefix) {
      res.statusCode = 404
      res.end()
      return
    }
    handler!(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const serverUrl = `http://127.0.0.1:${port}`
  const issuer = `${serverUrl}${prefix}`

  const build = (): void => {
    const provider = createProvider(issuer, {
      keys,
      clients,
      cookieKeys,
      redirectUris: options.redirectUris ?? ['http://127.0.0.1/callback'],
      backchannelLogoutUri: options.backchannelLogoutUri,
      postLogoutRedirectUris: options.postLogoutRedirectUris ?? [],
      accessTokenTTL: options.accessTokenTTL ?? 300,
      prefix,
    })
    provider.on('backchannel.success', (_ctx: unknown, _client: unknown, _accountId: unknown, sid: string | undefined) => backchannelLogouts.push({ ok: true, sid }))
    provider.on('backchannel.error', (_ctx: unknown, error: Error, _client: unknown, _accountId: unknown, sid: string | undefined) => backchannelLogouts.push({ ok: false, sid, error: error.message }))
    const callback = provider.callback()
    handler = (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      const below = url.pathname.slice(prefix.length) || '/'
      // Mounted below the issuer's path, as Express would: the provider sees the path below it.
      ;(req as IncomingMessage & { originalUrl?: string }).originalUrl = req.url
      req.url = below + url.search
      if (below.startsWith('/interaction/')) {
        void interaction(provider, req, res).catch((error: unknown) => {
          res.statusCode = 500
          res.end(String(error))
        })
        return
      }
      void callback(req, res)
    }
  }
  build()

  const info: OIDCServerInfo = { issuer, serverUrl, realm, port, apiResource: API_RESOURCE, otherResource: OTHER_RESOURCE, clients, users: USERS }
  let listening = true
  const halt = async (): Promise<void> => {
    if (!listening) return
    listening = false
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  return {
    ...info,
    info,
    get signingKey() {
      return keys[0]!
    },
    requests,
    backchannelLogouts,
    count: (path) => requests.get(path) ?? 0,
    async rotateKeys({ dropOld = false } = {}) {
      keys = [await newSigningKey(), ...(dropOld ? [] : keys)]
      build()
    },
    async passwordGrant({ username, password, scope = 'openid profile api:read', resource, client = clients.gatehouse, opaque = false }) {
      const body = new URLSearchParams({ grant_type: 'password', username, password, scope })
      if (opaque) body.set('token_format', 'opaque')
      if (resource !== undefined) body.set('resource', resource)
      const response = await fetch(`${issuer}${KEYCLOAK_ROUTES.token}`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
        body,
      })
      const json = (await response.json()) as TokenResponse & { error?: string }
      if (!response.ok) throw new Error(`password grant failed: ${response.status} ${JSON.stringify(json)}`)
      return json
    },
    halt,
    async restart() {
      if (listening) return
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(port, '127.0.0.1', () => resolve())
      })
      listening = true
    },
    stop: halt,
  }
}

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' }
}

interface ProviderSetup {
  keys: JWK[]
  clients: OIDCServerInfo['clients']
  cookieKeys: string[]
  redirectUris: readonly string[]
  backchannelLogoutUri: string | undefined
  postLogoutRedirectUris: readonly string[]
  accessTokenTTL: number
  /** `/realms/<realm>` */
  prefix: string
}

function keycloakClaims(sub: string | undefined, clientId: string, sid: string | undefined): Record<string, unknown> {
  const user = userBySub(sub)
  const resourceAccess: Record<string, { roles: readonly string[] }> = {}
  for (const [client, roles] of Object.entries(user?.clientRoles ?? {})) resourceAccess[client] = { roles }
  return {
    typ: 'Bearer',
    azp: clientId,
    ...(sid !== undefined && { sid }),
    ...(user !== undefined && {
      preferred_username: user.username,
      realm_access: { roles: user.realmRoles },
      resource_access: resourceAccess,
      groups: user.groups,
    }),
  }
}

function createProvider(issuer: string, setup: ProviderSetup): Provider {
  const resourceServer = (indicator: string) => {
    if (indicator === API_RESOURCE) {
      return { scope: 'api:read api:write', audience: 'gatehouse', accessTokenFormat: 'jwt' as const, accessTokenTTL: setup.accessTokenTTL, jwt: { sign: { alg: 'RS256' } } }
    }
    if (indicator === OTHER_RESOURCE) {
      return { scope: 'api:read api:write', audience: 'other-app', accessTokenFormat: 'jwt' as const, accessTokenTTL: setup.accessTokenTTL, jwt: { sign: { alg: 'RS256' } } }
    }
    throw new errors.InvalidTarget()
  }
  const common = { grant_types: ['authorization_code', 'refresh_token', 'password', 'client_credentials'], response_types: ['code' as const] }
  const configuration: Configuration = {
    clients: [
      {
        client_id: setup.clients.gatehouse.clientId,
        client_secret: setup.clients.gatehouse.clientSecret,
        redirect_uris: [...setup.redirectUris],
        post_logout_redirect_uris: [...setup.postLogoutRedirectUris],
        ...(setup.backchannelLogoutUri !== undefined && { backchannel_logout_uri: setup.backchannelLogoutUri, backchannel_logout_session_required: true }),
        ...common,
      },
      { client_id: setup.clients.other.clientId, client_secret: setup.clients.other.clientSecret, redirect_uris: ['http://127.0.0.1/other'], ...common },
      { client_id: setup.clients.opaque.clientId, client_secret: setup.clients.opaque.clientSecret, redirect_uris: ['http://127.0.0.1/opaque'], ...common },
    ],
    jwks: { keys: setup.keys as never },
    cookies: { keys: setup.cookieKeys },
    routes: KEYCLOAK_ROUTES,
    scopes: ['openid', 'profile', 'email', 'offline_access', 'api:read', 'api:write'],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx: unknown, client: { clientId: string }) => (client.clientId === setup.clients.opaque.clientId ? undefined : API_RESOURCE) as string,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => resourceServer(indicator),
      },
    } as unknown as Configuration['features'],
    interactions: { url: (_ctx, interaction) => `${setup.prefix}/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      const user = userBySub(sub)
      if (user === undefined) return undefined
      return {
        accountId: sub,
        async claims() {
          return { sub, name: user.name, preferred_username: user.username, email: user.email }
        },
      }
    },
    async extraTokenClaims(_ctx, token) {
      const kind = (token as { kind?: string }).kind
      if (kind !== 'AccessToken' && kind !== 'ClientCredentials') return undefined
      const { accountId, clientId, sid } = token as unknown as { accountId?: string; clientId: string; sid?: string }
      return keycloakClaims(accountId, clientId, sid)
    },
    // First-party clients: consent is implied, as for a Keycloak client without "consent required".
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { client, session } = ctx.oidc
      if (!client || !session?.accountId) return undefined
      const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId)
      if (existing) {
        const found = await ctx.oidc.provider.Grant.find(existing)
        if (found) return found
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId })
      grant.addOIDCScope('openid profile email offline_access')
      grant.addResourceScope(API_RESOURCE, 'api:read api:write')
      await grant.save()
      return grant
    },
    // Keycloak issues refresh tokens without offline_access.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: setup.accessTokenTTL, IdToken: 300, RefreshToken: 3600, Session: 3600, Grant: 3600, Interaction: 600, AuthorizationCode: 60 },
    // oidc-provider refuses to call loopback addresses (SSRF protection); the test apps live there.
    fetch: ((url: string, init: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _dispatcher, ...rest } = init
      return globalThis.fetch(url, rest)
    }) as never,
    renderError(ctx, out) {
      ctx.type = 'json'
      ctx.body = out
    },
  }
  const provider = new Provider(issuer, configuration)
  provider.registerGrantType('password', passwordGrant(provider), ['username', 'password', 'scope', 'resource', 'token_format'])
  return provider
}

/** The legacy Resource Owner Password Credentials grant, as Keycloak's "direct access grants". */
function passwordGrant(provider: Provider) {
  return async function passwordGrantHandler(ctx: KoaContextWithOIDC): Promise<void> {
    const params = ctx.oidc.params as Record<string, string | undefined>
    const client = ctx.oidc.client!
    const user = Object.values(USERS).find((candidate) => candidate.username === params.username)
    if (user === undefined || user.password !== params.password) throw new errors.InvalidGrant('invalid user credentials')
    const requested = new Set((params.scope ?? 'openid').split(' ').filter(Boolean))
    // token_format=opaque (a test extension): an opaque access token, for introspection.
    const resource = params.token_format === 'opaque' ? undefined : (params.resource ?? (client.clientId === 'opaque-client' ? undefined : API_RESOURCE))
    const grant = new provider.Grant({ accountId: user.sub, clientId: client.clientId })
    const oidcScopes = [...requested].filter((scope) => ['openid', 'profile', 'email', 'offline_access'].includes(scope))
    grant.addOIDCScope(oidcScopes.join(' '))
    const apiScopes = [...requested].filter((scope) => scope.startsWith('api:'))
    if (resource !== undefined) grant.addResourceScope(resource, apiScopes.join(' '))
    const grantId = await grant.save()
    const sid = randomUUID()
    const at = new provider.AccessToken({
      accountId: user.sub,
      client,
      grantId,
      gty: 'password',
      sid,
      scope: resource === undefined ? [...oidcScopes, ...apiScopes].join(' ') : apiScopes.join(' '),
    } as never)
    if (resource !== undefined) {
      const { ResourceServer } = provider as unknown as { ResourceServer: new (id: string, data: unknown) => unknown }
      at.resourceServer = new ResourceServer(resource, resourceInfoOf(resource)) as never
    }
    const accessToken = await at.save()
    const rt = new provider.RefreshToken({
      accountId: user.sub,
      client,
      grantId,
      gty: 'password',
      scope: [...oidcScopes, ...apiScopes].join(' '),
      rotations: 0,
      sid,
      ...(resource !== undefined && { resource }),
    } as never)
    const refreshToken = await rt.save()
    let idToken: string | undefined
    if (requested.has('openid')) {
      const token = new provider.IdToken({ sub: user.sub, name: user.name, preferred_username: user.username, email: user.email }, { ctx } as never)
      ;(token as unknown as { scope: string }).scope = 'openid profile email'
      token.set('sid', sid)
      idToken = await token.issue({ use: 'idtoken' })
    }
    ctx.body = {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: at.expiration,
      refresh_token: refreshToken,
      ...(idToken !== undefined && { id_token: idToken }),
      scope: at.scope,
    }
  }
  function resourceInfoOf(resource: string) {
    return {
      scope: 'api:read api:write',
      audience: resource === OTHER_RESOURCE ? 'other-app' : 'gatehouse',
      accessTokenFormat: 'jwt',
      accessTokenTTL: 300,
      jwt: { sign: { alg: 'RS256' } },
    }
  }
}

/** The login page: a plain form for the fixture users; consent is implied. */
async function interaction(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res)
  if (req.method === 'POST') {
    const body = new URLSearchParams(await readBody(req))
    const user = Object.values(USERS).find((candidate) => candidate.username === body.get('username'))
    if (user === undefined || user.password !== body.get('password')) {
      sendLogin(res, details.uid, 'Invalid username or password.')
      return
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false })
    return
  }
  if (details.prompt.name === 'login') {
    sendLogin(res, details.uid, '')
    return
  }
  // The consent prompt (e.g. a grant that lacks a scope): granted as asked.
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: details.session!.accountId, clientId: details.params.client_id as string })
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> }
  if (missing.missingOIDCScope) grant!.addOIDCScope(missing.missingOIDCScope.join(' '))
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant!.addResourceScope(indicator, scopes.join(' '))
  const grantId = await grant!.save()
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
}

function sendLogin(res: ServerResponse, uid: string, message: string): void {
  res.setHeader('content-type', 'text/html; charset=utf-8')
  res.end(`<!doctype html><html><head><title>Sign in to the test realm</title></head><body>
<h1>Test realm</h1><p id="message">${message}</p>
<form method="post" action="${uid}" id="kc-form-login">
<input name="username" id="username" autocomplete="username"><input name="password" id="password" type="password">
<button type="submit" id="kc-login">Sign in</button></form></body></html>`)
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
      if (body.length > 65_536) reject(new Error('body too large'))
    })
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

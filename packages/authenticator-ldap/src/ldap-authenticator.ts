import type { AuthMetrics, AuthResult, Authenticator, AuthenticatorHealth, Credentials, Logger, SessionPrincipal, User } from '@gatehouse/core'
import { AuthenticatorUnavailableError, NOOP_LOGGER, NOOP_METRICS, isAuthError, normalizeUsername } from '@gatehouse/core'
import type { Client, Entry } from 'ldapts'
import { ConnectionPool, LDAPServiceBindError } from './connection-pool.js'
import { dnKey, escapeDNValue, normalizeDN, parseDN } from './distinguished-name.js'
import { LDAPConnection, LDAPTimeoutError, isResultCodeError } from './ldap-connection.js'
import type { LDAPAuthenticatorOptions, ResolvedLDAPOptions } from './ldap-options.js'
import { isLoopback, resolveLDAPOptions } from './ldap-options.js'

const REJECTED: AuthResult = Object.freeze({ outcome: 'rejected', reason: 'invalid-credentials' })

/** LDAP result codes that, answering a user's bind, mean "these credentials do not log in". */
const REJECTING_BIND_CODES = new Set([
  32, // noSuchObject: no entry at the templated DN
  34, // invalidDNSyntax: what the user typed made no DN
  48, // inappropriateAuthentication: e.g. an entry without a password
  49, // invalidCredentials (also locked or expired accounts on most servers)
  53, // unwillingToPerform: e.g. a disabled account
])

/** A re-validation this process made, kept so that every session of the user benefits. */
interface Check {
  readonly at: number
  readonly user: User | null
}

const MAX_CHECKS = 10_000

/**
 * Logs users in against an LDAP directory (OpenLDAP, Active Directory, 389-ds, ...): the service
 * account searches the user with a safely built filter, the user's DN is bound with their password,
 * their groups are read and mapped to Gatehouse roles.
 *
 * Outcomes: a wrong password, an unknown user or an ambiguous username is `rejected`; a server that
 * is down, refuses, times out, fails TLS or refuses the service account throws
 * {@link AuthenticatorUnavailableError}, so the chain goes on and no failed attempt is counted.
 *
 * Users are `{ id: <canonical DN>, username: <normalized uid>, source: <id> }`: an LDAP `alice` and
 * a SQL `alice` are two principals.
 *
 * @example
 * ```ts
 * const ldap = new LDAPAuthenticator({
 *   url: 'ldaps://ldap.example.org',
 *   bindDN: 'cn=gatehouse,ou=services,dc=example,dc=org',
 *   bindPassword: secrets.ldapPassword,
 *   searchBase: 'ou=people,dc=example,dc=org',
 *   groupRoles: { admins: 'Administrator', staff: 'User' },
 *   revalidateAfterSeconds: 300,
 * })
 * const auth = createAuth({ roles, authenticators: [sqlAuthenticator, ldap], session })
 * // on shutdown: await ldap.close()
 * ```
 */
export class LDAPAuthenticator implements Authenticator {
  readonly id: string
  readonly #options: ResolvedLDAPOptions
  readonly #pool: ConnectionPool
  readonly #userAttributes: string[]
  readonly #checks = new Map<string, Check>()
  #metrics: AuthMetrics = NOOP_METRICS
  #logger: Logger

  /** Validates `options` (a `TypeError` at startup on any misconfiguration). Connects lazily. */
  constructor(options: LDAPAuthenticatorOptions) {
    this.#options = resolveLDAPOptions(options)
    this.id = this.#options.id
    this.#pool = new ConnectionPool(this.#options)
    this.#logger = this.#options.logger
    const { usernameAttribute, displayNameAttribute, emailAttribute, groups } = this.#options
    this.#userAttributes = [...new Set([usernameAttribute, displayNameAttribute, emailAttribute, ...(groups.strategy === 'memberOf' ? [groups.attribute] : [])])]
    const { logger, tls, endpoints } = this.#options
    for (const endpoint of endpoints) {
      if (!endpoint.secure && !tls.startTLS && !isLoopback(endpoint.host)) {
        logger.warn({ authenticator: this.id, url: endpoint.url }, 'LDAP without TLS: passwords cross the network in plaintext (use ldaps:// or tls.startTLS)')
      }
    }
    if (!tls.rejectUnauthorized) {
      logger.warn({ authenticator: this.id }, 'LDAP TLS certificates are not verified (tls.rejectUnauthorized: false): connections can be intercepted')
    }
  }

  /**
   * Called by `createAuth`: binds are reported to the app's metrics (`directoryBind`), and the
   * app's logger is used unless the options named one.
   */
  attach({ logger, metrics }: { readonly logger: Logger; readonly metrics: AuthMetrics }): void {
    this.#metrics = metrics
    if (this.#options.logger === NOOP_LOGGER) this.#logger = logger
  }

  /**
   * Connects to the directory on a connection of its own (TCP, then TLS for ldaps:// or StartTLS)
   * and binds as the service account when one is configured: each step with its duration, the
   * TLS certificate's expiry, and the operation timeout as the deadline of the whole check.
   * Never throws; the pool's connections are not touched, so a check never disturbs a login.
   */
  async health(): Promise<AuthenticatorHealth> {
    const checks: Array<AuthenticatorHealth['checks'][number]> = []
    const started = performance.now()
    let connection: LDAPConnection | undefined
    const deadlineMs = this.#options.connectTimeoutMs + this.#options.timeoutMs
    let timer: NodeJS.Timeout | undefined
    let late = false
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true
        reject(new LDAPTimeoutError(`LDAP health check timed out after ${deadlineMs} ms`))
      }, deadlineMs)
    })
    try {
      const opening = LDAPConnection.open(this.#options)
      // A connection that arrives after the deadline is closed, not leaked.
      opening.then(
        (opened) => void (late && opened.destroy()),
        () => {},
      )
      connection = await Promise.race([opening, deadline])
      const expires = connection.certificateExpiresAt
      checks.push({ name: 'connect', ok: true, durationMs: elapsedMs(started), ...(expires !== undefined && { certificateExpiresAt: expires }) })
      const service = this.#options.service
      if (service !== null) {
        const bindStarted = performance.now()
        try {
          await Promise.race([connection.run('service account bind', (client) => client.bind(service.dn, service.password)), deadline])
          checks.push({ name: 'service bind', ok: true, durationMs: elapsedMs(bindStarted) })
        } catch (error) {
          checks.push({ name: 'service bind', ok: false, durationMs: elapsedMs(bindStarted), error: errorText(error) })
        }
      }
    } catch (error) {
      checks.push({ name: 'connect', ok: false, durationMs: elapsedMs(started), error: errorText(error) })
    } finally {
      clearTimeout(timer)
      connection?.destroy()
    }
    return { ok: checks.every((check) => check.ok), checks }
  }

  /** How many connections this authenticator has opened since it was made (connections are reused). */
  get openedConnections(): number {
    return this.#pool.openedConnections
  }

  async authenticate({ credentials }: { readonly credentials: Credentials; readonly request?: Request }): Promise<AuthResult> {
    const { password } = credentials
    const username = typeof credentials.username === 'string' ? normalizeUsername(credentials.username) : ''
    // An empty password makes a simple bind "unauthenticated", which many servers answer with
    // success: it must never reach the server.
    if (typeof password !== 'string' || password === '' || username === '') return REJECTED
    try {
      const user = this.#options.userDNTemplate !== null ? await this.#directLogin(username, password) : await this.#searchLogin(username, password)
      if (user === null) return REJECTED
      this.#remember(user.id, { at: Date.now(), user })
      return { outcome: 'authenticated', user }
    } catch (error) {
      throw this.#unavailable(error, 'login')
    }
  }

  /**
   * Trusts the roles captured at login until `revalidateAfterSeconds` have passed since the login
   * or since this process last checked the user; then re-reads the entry with the service
   * account: gone ⇒ `null` (the session ends), groups re-mapped to roles. Without
   * `revalidateAfterSeconds` the captured user is returned as is.
   * Throws {@link AuthenticatorUnavailableError} when the directory cannot be asked.
   */
  async resume({ principal }: { readonly principal: SessionPrincipal }): Promise<User | null> {
    if (principal.source !== this.id) return null
    const snapshot: User = { ...principal.user, id: principal.id, source: this.id, roles: [...principal.user.roles] }
    const revalidateAfterMs = this.#options.revalidateAfterMs
    if (revalidateAfterMs === null) return snapshot
    const now = Date.now()
    const last = this.#checks.get(principal.id)
    // A check older than this session's login says nothing about it.
    const lastApplies = last !== undefined && last.at >= principal.authenticatedAt
    const since = lastApplies ? last.at : principal.authenticatedAt
    if (now - since < revalidateAfterMs) return lastApplies ? last.user : snapshot
    let user: User | null
    try {
      user = await this.#reread(principal)
    } catch (error) {
      throw this.#unavailable(error, 'resume')
    }
    this.#remember(principal.id, { at: now, user })
    return user
  }

  /** Closes the service connection and the idle bind connections. The authenticator cannot be used afterwards. */
  async close(): Promise<void> {
    await this.#pool.close()
  }

  /** Search then bind: the service account finds exactly one entry, the user binds as it. */
  async #searchLogin(username: string, password: string): Promise<User | null> {
    const { searchBase, searchFilter, timeoutMs } = this.#options
    const { searchEntries } = await this.#pool.withService('user search', (client) =>
      client.search(searchBase!, {
        scope: 'sub',
        filter: searchFilter.build({ username }),
        attributes: this.#userAttributes,
        // Two are enough to know the username is ambiguous.
        sizeLimit: 2,
        timeLimit: Math.ceil(timeoutMs / 1000),
      }),
    )
    const entry = searchEntries[0]
    if (searchEntries.length !== 1 || entry === undefined) {
      if (searchEntries.length > 1) {
        this.#logger.warn({ authenticator: this.id, username }, 'LDAP username matches several entries: login refused')
      }
      await this.#dummyBind(password)
      return null
    }
    const bound = await this.#pool.withConnection((connection) => this.#bind(connection, entry.dn, password))
    if (!bound) return null
    const groups = await this.#groups(entry, username, (what, step) => this.#pool.withService(what, step))
    return this.#toUser(entry, username, groups)
  }

  /** Direct bind: the DN comes from the template; the entry is read by the service account, else as the user. */
  async #directLogin(username: string, password: string): Promise<User | null> {
    const dn = this.#options.userDNTemplate!.replaceAll('{username}', escapeDNValue(username))
    const found = await this.#pool.withConnection(async (connection) => {
      const bound = await this.#bind(connection, dn, password)
      if (!bound) return null
      const read = this.#pool.hasService
        ? <T>(what: string, step: (client: Client) => Promise<T>) => this.#pool.withService(what, step)
        : <T>(what: string, step: (client: Client) => Promise<T>) => connection.run(what, step)
      const entry = (await this.#readEntry(dn, read)) ?? { dn }
      return { entry, groups: await this.#groups(entry, username, read) }
    })
    return found === null ? null : this.#toUser(found.entry, username, found.groups)
  }

  /** Binds; `false` when the server refused the credentials, throws when it could not answer. */
  async #bind(connection: LDAPConnection, dn: string, password: string): Promise<boolean> {
    const started = performance.now()
    const report = (outcome: 'ok' | 'refused' | 'error') => this.#metrics.directoryBind({ authenticator: this.id, outcome, seconds: (performance.now() - started) / 1000 })
    try {
      await connection.run('user bind', (client) => client.bind(dn, password))
      report('ok')
      return true
    } catch (error) {
      if (isResultCodeError(error) && REJECTING_BIND_CODES.has(error.code)) {
        report('refused')
        return false
      }
      report('error')
      throw error
    }
  }

  /**
   * An unknown user costs a bind round trip like a known one, so response times do not tell
   * which usernames exist. The DN cannot exist (a random RDN under the search base).
   */
  async #dummyBind(password: string): Promise<void> {
    const dn = `cn=${escapeDNValue(`gatehouse-unknown-${Math.random().toString(36).slice(2)}`)},${this.#options.searchBase!}`
    try {
      await this.#pool.withConnection((connection) => this.#bind(connection, dn, password))
    } catch {
      // The outcome is "rejected" whatever happened here.
    }
  }

  /** The entry at `dn` with the user attributes, or `null` when it does not exist (or is hidden). */
  async #readEntry(dn: string, read: <T>(what: string, step: (client: Client) => Promise<T>) => Promise<T>): Promise<Entry | null> {
    try {
      const { searchEntries } = await read('entry read', (client) => client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: this.#userAttributes }))
      return searchEntries[0] ?? null
    } catch (error) {
      // noSuchObject (also what ACLs answer for hidden entries) or a DN the server cannot parse.
      if (isResultCodeError(error) && (error.code === 32 || error.code === 34)) return null
      throw error
    }
  }

  /** Group DNs and names of a user, per the configured strategy. */
  async #groups(entry: Entry, username: string, read: <T>(what: string, step: (client: Client) => Promise<T>) => Promise<T>): Promise<Array<{ dn: string; names: string[] }>> {
    const { groups } = this.#options
    if (groups.strategy === 'memberOf') {
      return values(entry, groups.attribute).map((dn) => ({ dn, names: [] }))
    }
    const { searchEntries } = await read('group search', (client) =>
      client.search(groups.base, {
        scope: 'sub',
        filter: groups.filter.build({ dn: entry.dn, username }),
        attributes: [groups.nameAttribute],
      }),
    )
    return searchEntries.map((group) => ({ dn: group.dn, names: values(group, groups.nameAttribute) }))
  }

  /** Roles of a user: the default roles, then the roles of each group, without duplicates. */
  #roles(groups: ReadonlyArray<{ dn: string; names: string[] }>): string[] {
    const { rolesByGroupDN, rolesByGroupName, defaultRoles, logger } = this.#options
    const roles = new Set(defaultRoles)
    for (const group of groups) {
      let key: string
      let firstRDNValue: string | undefined
      try {
        key = dnKey(group.dn)
        firstRDNValue = parseDN(group.dn)[0]?.[0]?.value
      } catch {
        logger.debug({ authenticator: this.id, group: group.dn }, 'ignoring a group whose DN does not parse')
        continue
      }
      const names = [...group.names, ...(firstRDNValue === undefined ? [] : [firstRDNValue])]
      for (const role of rolesByGroupDN.get(key) ?? []) roles.add(role)
      for (const name of names) for (const role of rolesByGroupName.get(name.toLowerCase()) ?? []) roles.add(role)
    }
    return [...roles]
  }

  #toUser(entry: Entry, typedUsername: string, groups: ReadonlyArray<{ dn: string; names: string[] }>): User {
    const { usernameAttribute, displayNameAttribute, emailAttribute } = this.#options
    // Several values are possible (uid is multi-valued): prefer the one the user typed.
    const usernames = values(entry, usernameAttribute).map(normalizeUsername)
    const username = usernames.find((name) => name === typedUsername) ?? usernames[0] ?? typedUsername
    return {
      id: normalizeDN(entry.dn),
      username,
      roles: this.#roles(groups),
      source: this.id,
      displayName: values(entry, displayNameAttribute)[0],
      email: values(entry, emailAttribute)[0],
      claims: { dn: entry.dn, groups: groups.map((group) => group.dn) },
    }
  }

  async #reread(principal: SessionPrincipal): Promise<User | null> {
    const entry = await this.#readEntry(principal.id, (what, step) => this.#pool.withService(what, step))
    if (entry === null) return null
    const groups = await this.#groups(entry, principal.user.username, (what, step) => this.#pool.withService(what, step))
    // The id stays the one the session was issued for, whatever spelling the server answers with.
    return { ...this.#toUser(entry, principal.user.username, groups), id: principal.id }
  }

  #remember(id: string, check: Check): void {
    this.#checks.delete(id)
    this.#checks.set(id, check)
    // Bounded: the oldest checks go first (they would be redone when needed).
    if (this.#checks.size > MAX_CHECKS) this.#checks.delete(this.#checks.keys().next().value!)
  }

  #unavailable(error: unknown, step: string): AuthenticatorUnavailableError {
    if (isAuthError(error, 'ERR_AUTHENTICATOR_UNAVAILABLE')) return error as AuthenticatorUnavailableError
    if (error instanceof LDAPServiceBindError) {
      this.#logger.error({ authenticator: this.id, step, err: error.message }, 'LDAP service account bind failed: check bindDN and bindPassword')
    }
    const detail = error instanceof Error ? error.message : String(error)
    return new AuthenticatorUnavailableError(this.id, { cause: error, message: `LDAP directory unavailable during ${step}: ${detail}` })
  }
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10
}

function errorText(error: unknown): string {
  if (error instanceof AggregateError) return error.message
  return error instanceof Error ? error.message : String(error)
}

/** The values of an attribute (names compared case-insensitively), as strings. */
function values(entry: Entry, attribute: string): string[] {
  const wanted = attribute.toLowerCase()
  for (const [name, value] of Object.entries(entry)) {
    if (name === 'dn' || name.toLowerCase() !== wanted) continue
    const list = Array.isArray(value) ? value : [value]
    return list.map((item) => (typeof item === 'string' ? item : item.toString('utf8')))
  }
  return []
}

import { isIP } from 'node:net'
import type { Logger } from '@gatehouse/core'
import { NOOP_LOGGER } from '@gatehouse/core'
import { z } from 'zod'
import { dnKey, escapeDNValue, parseDN } from './distinguished-name.js'
import { FilterTemplate } from './filter-template.js'

/** How the groups of a user are found. */
export type LDAPGroupsOptions =
  | {
      /** Read the groups from an attribute of the user's entry (OpenLDAP memberof overlay, Active Directory). */
      readonly strategy: 'memberOf'
      /** The attribute holding the group DNs. @default 'memberOf' */
      readonly attribute?: string
    }
  | {
      /** Search the groups whose member attribute names the user (groupOfNames, groupOfUniqueNames, posixGroup). */
      readonly strategy: 'search'
      /** Where the groups live, e.g. `'ou=groups,dc=example,dc=org'`. */
      readonly base: string
      /**
       * `{dn}` is the user's DN, `{username}` the login name; values are inserted safely.
       * Use `'(memberUid={username})'` for posixGroup.
       * @default '(member={dn})'
       */
      readonly filter?: string
      /** The attribute that names a group (matched against {@link LDAPAuthenticatorOptions.groupRoles}). @default 'cn' */
      readonly nameAttribute?: string
    }

/** TLS settings. Certificates are verified unless `rejectUnauthorized` is explicitly `false`. */
export interface LDAPTLSOptions {
  /** PEM certificate(s) of the CA(s) that signed the server's certificate; replaces the system store. */
  readonly ca?: string | Buffer
  /** Refuse servers whose certificate does not verify. Turning it off allows interception. @default true */
  readonly rejectUnauthorized?: boolean
  /** Upgrade `ldap://` connections with StartTLS before anything is sent (no fall-back to plaintext). @default false */
  readonly startTLS?: boolean
}

/**
 * Options of {@link LDAPAuthenticator}. Validated when the authenticator is constructed: a
 * misconfiguration throws a `TypeError` naming every problem, at startup.
 *
 * Two ways to find the user's entry:
 * - **search then bind** (`bindDN` + `bindPassword` + `searchBase`): a service account searches
 *   `searchFilter` under `searchBase`, then the user's DN is bound with their password.
 * - **direct bind** (`userDNTemplate`): the DN is built from the template and bound at once; the
 *   entry and groups are then read as the user. Sessions can only be re-validated with a service
 *   account, so `revalidateAfterSeconds` needs `bindDN` too.
 */
export interface LDAPAuthenticatorOptions {
  /**
   * `ldap://host:port` or `ldaps://host:port`; several are tried in order when one cannot be
   * reached (each costs up to `connectTimeoutMs`).
   */
  readonly url: string | readonly string[]
  /** DN of the service account that searches users and groups. */
  readonly bindDN?: string
  /** Password of the service account. Required with `bindDN`; never logged. */
  readonly bindPassword?: string
  /**
   * Direct bind instead of a search: the user's DN with `{username}`, e.g.
   * `'uid={username},ou=people,dc=example,dc=org'`. The username is escaped (RFC 4514).
   */
  readonly userDNTemplate?: string
  /** Where users are searched (subtree). Required unless `userDNTemplate` is given. */
  readonly searchBase?: string
  /** Finds the user; `{username}` is replaced safely (never spliced as text). @default '(uid={username})' */
  readonly searchFilter?: string
  /** The attribute whose value becomes {@link User.username} (normalized). @default 'uid' */
  readonly usernameAttribute?: string
  /** @default 'cn' */
  readonly displayNameAttribute?: string
  /** @default 'mail' */
  readonly emailAttribute?: string
  /** How groups are found. @default { strategy: 'memberOf' } */
  readonly groups?: LDAPGroupsOptions
  /**
   * LDAP group → Gatehouse role(s). A key with `=` is a full group DN (compared case-insensitively,
   * whatever its spelling); any other key is a group name (the first RDN's value, or the search
   * strategy's `nameAttribute`), e.g. `{ admins: 'Administrator', 'cn=staff,ou=groups,dc=example,dc=org': ['User'] }`.
   * A full DN is the precise choice when two branches have groups of the same name.
   * @default {}
   */
  readonly groupRoles?: Readonly<Record<string, string | readonly string[]>>
  /** Roles every LDAP user gets in addition to the mapped ones. @default [] */
  readonly defaultRoles?: readonly string[]
  /** @default certificates verified against the system CAs; no StartTLS */
  readonly tls?: LDAPTLSOptions
  /** Time to open a connection, TCP and TLS handshake included. @default 5000 */
  readonly connectTimeoutMs?: number
  /** Time for each LDAP operation (bind, search, StartTLS). @default 5000 */
  readonly timeoutMs?: number
  /**
   * Sessions of LDAP users are trusted for this long after login (or after this process last
   * checked them); then the entry is re-read with the service account: a deleted account ends
   * the session, changed groups change the roles. Needs `bindDN`.
   * @default undefined (the roles captured at login hold until the session ends)
   */
  readonly revalidateAfterSeconds?: number
  /** Connections kept open for user binds, reused by later logins. @default 4 */
  readonly maxIdleConnections?: number
  /**
   * User binds in progress at once (each on its own connection; the service connection comes on
   * top). Further logins wait, up to `timeoutMs`, then count as unavailable.
   * @default 10
   */
  readonly maxConnections?: number
  /** Authenticator id and {@link User.source} of its users. @default 'ldap' */
  readonly id?: string
  /** Receives warnings (e.g. plaintext connections, ambiguous accounts). Never passwords. @default no logging */
  readonly logger?: Logger
}

const PLACEHOLDER = '{username}'

const attributeName = z.string().regex(/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/, 'must be an attribute name such as "uid"')
const dnString = z.string().trim().min(1, 'must not be empty').refine(isDN, 'must be a valid DN, e.g. "dc=example,dc=org"')
const ldapURL = z.string().refine(isLDAPURL, 'must be ldap://host[:port] or ldaps://host[:port], without path or query')
const roleName = z.string().trim().min(1, 'role names must not be empty')
const timeout = z.number().int('must be an integer').positive('must be positive').max(600_000, 'must be at most 600000 (10 minutes)')
const logger = z.custom<Logger>(
  (value) => typeof value === 'object' && value !== null && ['debug', 'info', 'warn', 'error'].every((level) => typeof (value as Record<string, unknown>)[level] === 'function'),
  'must have debug, info, warn and error methods',
)

/** The zod schema of {@link LDAPAuthenticatorOptions}: shape, and the rules that tie options together. */
export const ldapOptionsSchema = z
  .strictObject({
    url: z.union([ldapURL, z.array(ldapURL).min(1, 'needs at least one URL')]),
    bindDN: dnString.optional(),
    bindPassword: z.string().min(1, 'must not be empty (an empty password is an unauthenticated bind)').optional(),
    userDNTemplate: z.string().optional(),
    searchBase: dnString.optional(),
    searchFilter: z.string().optional(),
    usernameAttribute: attributeName.optional(),
    displayNameAttribute: attributeName.optional(),
    emailAttribute: attributeName.optional(),
    groups: z
      .discriminatedUnion('strategy', [
        z.strictObject({ strategy: z.literal('memberOf'), attribute: attributeName.optional() }),
        z.strictObject({ strategy: z.literal('search'), base: dnString, filter: z.string().optional(), nameAttribute: attributeName.optional() }),
      ])
      .optional(),
    groupRoles: z.record(z.string().trim().min(1, 'group names must not be empty'), z.union([roleName, z.array(roleName)])).optional(),
    defaultRoles: z.array(roleName).optional(),
    tls: z
      .strictObject({
        ca: z.union([z.string().min(1), z.instanceof(Buffer)]).optional(),
        rejectUnauthorized: z.boolean().optional(),
        startTLS: z.boolean().optional(),
      })
      .optional(),
    connectTimeoutMs: timeout.optional(),
    timeoutMs: timeout.optional(),
    revalidateAfterSeconds: z.number().nonnegative('must not be negative').finite().optional(),
    maxIdleConnections: z.number().int().nonnegative().max(1000).optional(),
    maxConnections: z.number().int().positive().max(1000).optional(),
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]*$/i, 'must be letters, digits, ".", "_" or "-"')
      .optional(),
    logger: logger.optional(),
  })
  .superRefine((options, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message })
    if (options.bindDN !== undefined && options.bindPassword === undefined) issue('bindPassword', 'is required with bindDN')
    if (options.bindPassword !== undefined && options.bindDN === undefined) issue('bindDN', 'is required with bindPassword')
    if (options.bindDN === undefined && options.userDNTemplate === undefined) {
      issue('bindDN', 'give bindDN + bindPassword (search, then bind as the user) or userDNTemplate (direct bind)')
    }
    if (options.userDNTemplate === undefined && options.searchBase === undefined) issue('searchBase', 'is required to search users (or give userDNTemplate)')
    if (options.userDNTemplate !== undefined) {
      const template = options.userDNTemplate
      if (!template.includes(PLACEHOLDER)) issue('userDNTemplate', `must contain ${PLACEHOLDER}`)
      else if (/\{(?!username\})[^{}]*\}/.test(template)) issue('userDNTemplate', `only ${PLACEHOLDER} may be used`)
      else if (!isDN(template.replaceAll(PLACEHOLDER, escapeDNValue('x')))) issue('userDNTemplate', 'must be a valid DN, e.g. "uid={username},ou=people,dc=example,dc=org"')
    }
    if (options.searchFilter !== undefined) {
      const problem = filterProblem(options.searchFilter, ['username'], ['username'])
      if (problem) issue('searchFilter', problem)
    }
    if (options.groups?.strategy === 'search' && options.groups.filter !== undefined) {
      const problem = filterProblem(options.groups.filter, ['dn', 'username'], [])
      if (problem) ctx.addIssue({ code: 'custom', path: ['groups', 'filter'], message: problem })
    }
    if (options.revalidateAfterSeconds !== undefined && options.bindDN === undefined) {
      issue('revalidateAfterSeconds', 'needs a service account (bindDN): without one, sessions can only trust what was seen at login')
    }
    const urls = typeof options.url === 'string' ? [options.url] : options.url
    const ldaps = urls.some((url) => url.startsWith('ldaps:'))
    if (options.tls?.startTLS === true && ldaps) issue('tls', 'startTLS is for ldap:// URLs; ldaps:// is TLS already')
    if (options.tls?.ca !== undefined && options.tls.startTLS !== true && urls.some((url) => url.startsWith('ldap:'))) {
      issue('tls', 'a CA is given but an ldap:// URL would not use TLS: use ldaps:// or set tls.startTLS')
    }
  })

function filterProblem(filter: string, allowed: string[], required: string[]): string | null {
  try {
    const template = new FilterTemplate(filter, allowed)
    const missing = required.filter((name) => !template.uses.has(name))
    if (missing.length > 0) return `must contain ${missing.map((name) => `{${name}}`).join(', ')}`
    if (template.uses.size === 0) return `must contain one of ${allowed.map((name) => `{${name}}`).join(', ')}`
    return null
  } catch (error) {
    return (error as Error).message
  }
}

function isDN(value: string): boolean {
  try {
    return parseDN(value).length > 0
  } catch {
    return false
  }
}

function isLDAPURL(value: string): boolean {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return false
  }
  return (
    (url.protocol === 'ldap:' || url.protocol === 'ldaps:') &&
    url.hostname !== '' &&
    (url.pathname === '' || url.pathname === '/') &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    url.password === ''
  )
}

/** One LDAP server to connect to. */
export interface LDAPEndpoint {
  readonly url: string
  readonly host: string
  readonly port: number
  readonly secure: boolean
}

/** Options after validation and defaults; what the authenticator runs on. */
export interface ResolvedLDAPOptions {
  readonly id: string
  readonly endpoints: readonly LDAPEndpoint[]
  readonly service: { readonly dn: string; readonly password: string } | null
  readonly userDNTemplate: string | null
  readonly searchBase: string | null
  readonly searchFilter: FilterTemplate
  readonly usernameAttribute: string
  readonly displayNameAttribute: string
  readonly emailAttribute: string
  readonly groups:
    | { readonly strategy: 'memberOf'; readonly attribute: string }
    | { readonly strategy: 'search'; readonly base: string; readonly filter: FilterTemplate; readonly nameAttribute: string }
  /** Group DN key ({@link dnKey}) → roles. */
  readonly rolesByGroupDN: ReadonlyMap<string, readonly string[]>
  /** Lower-cased group name → roles. */
  readonly rolesByGroupName: ReadonlyMap<string, readonly string[]>
  readonly defaultRoles: readonly string[]
  readonly tls: { readonly ca: string | Buffer | undefined; readonly rejectUnauthorized: boolean; readonly startTLS: boolean }
  readonly connectTimeoutMs: number
  readonly timeoutMs: number
  /** `null`: never re-validate. */
  readonly revalidateAfterMs: number | null
  readonly maxIdleConnections: number
  readonly maxConnections: number
  readonly logger: Logger
}

/**
 * Validates options and applies defaults. Throws a `TypeError` listing every problem
 * (`LDAPAuthenticator: invalid options: searchBase: is required ...`); values are never echoed,
 * so the service password cannot end up in a startup log.
 */
export function resolveLDAPOptions(input: LDAPAuthenticatorOptions): ResolvedLDAPOptions {
  const parsed = ldapOptionsSchema.safeParse(input)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'options'}: ${issue.message}`)
    throw new TypeError(`LDAPAuthenticator: invalid options: ${problems.join('; ')}`, { cause: parsed.error })
  }
  const options = parsed.data
  const urls = typeof options.url === 'string' ? [options.url] : options.url
  const endpoints = urls.map((raw): LDAPEndpoint => {
    const url = new URL(raw)
    const secure = url.protocol === 'ldaps:'
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    return { url: raw, host, port: url.port === '' ? (secure ? 636 : 389) : Number(url.port), secure }
  })
  const groups: ResolvedLDAPOptions['groups'] =
    options.groups?.strategy === 'search'
      ? {
          strategy: 'search',
          base: options.groups.base,
          filter: new FilterTemplate(options.groups.filter ?? '(member={dn})', ['dn', 'username']),
          nameAttribute: options.groups.nameAttribute ?? 'cn',
        }
      : { strategy: 'memberOf', attribute: options.groups?.attribute ?? 'memberOf' }

  const rolesByGroupDN = new Map<string, string[]>()
  const rolesByGroupName = new Map<string, string[]>()
  for (const [group, roles] of Object.entries(options.groupRoles ?? {})) {
    const list = typeof roles === 'string' ? [roles] : roles
    // A key with "=" is a DN: compare it in canonical form, however the server spells it.
    const isDNKey = group.includes('=')
    if (isDNKey && !isDN(group)) throw new TypeError(`LDAPAuthenticator: invalid options: groupRoles: ${JSON.stringify(group)} is not a valid DN`)
    const map = isDNKey ? rolesByGroupDN : rolesByGroupName
    const key = isDNKey ? dnKey(group) : group.trim().toLowerCase()
    map.set(key, [...new Set([...(map.get(key) ?? []), ...list.map((role) => role.trim())])])
  }

  return {
    id: options.id ?? 'ldap',
    endpoints,
    service: options.bindDN !== undefined && options.bindPassword !== undefined ? { dn: options.bindDN, password: options.bindPassword } : null,
    userDNTemplate: options.userDNTemplate ?? null,
    searchBase: options.searchBase ?? null,
    searchFilter: new FilterTemplate(options.searchFilter ?? '(uid={username})', ['username']),
    usernameAttribute: options.usernameAttribute ?? 'uid',
    displayNameAttribute: options.displayNameAttribute ?? 'cn',
    emailAttribute: options.emailAttribute ?? 'mail',
    groups,
    rolesByGroupDN,
    rolesByGroupName,
    defaultRoles: [...new Set((options.defaultRoles ?? []).map((role) => role.trim()))],
    tls: { ca: options.tls?.ca, rejectUnauthorized: options.tls?.rejectUnauthorized ?? true, startTLS: options.tls?.startTLS ?? false },
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    timeoutMs: options.timeoutMs ?? 5000,
    revalidateAfterMs: options.revalidateAfterSeconds === undefined ? null : options.revalidateAfterSeconds * 1000,
    maxIdleConnections: options.maxIdleConnections ?? 4,
    maxConnections: options.maxConnections ?? 10,
    logger: options.logger ?? NOOP_LOGGER,
  }
}

/** `true` for loopback hosts, where plaintext LDAP does not cross a network. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

import * as net from 'node:net'
import { randomBytes } from 'node:crypto'
import type { AuthEnv, Authenticator, AuthResult, CreateAuthOptions } from '@gatehouse/core'
import { MemoryUserStore, NOOP_LOGGER, PasswordAuthenticator, Permission, Protected, Role, createAuth } from '@gatehouse/core'
import type { LDAPServerInfo } from '@gatehouse/testkit'
import { createTestHasher, ldapadd, ldapmodify, ldifLine } from '@gatehouse/testkit'
import { Hono } from 'hono'
import type { LDAPAuthenticator, LDAPAuthenticatorOptions } from '../src/index.js'

export const ORIGIN = 'http://app.test'
export const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
export const GROUP_ROLES = { admins: 'Administrator', staff: 'User' }

/** Search-then-bind options against a test slapd. */
export function searchOptions(ldap: LDAPServerInfo, overrides: Partial<LDAPAuthenticatorOptions> = {}): LDAPAuthenticatorOptions {
  return {
    url: ldap.url,
    bindDN: ldap.serviceDN,
    bindPassword: ldap.servicePassword,
    searchBase: ldap.peopleDN,
    groupRoles: GROUP_ROLES,
    timeoutMs: 2000,
    connectTimeoutMs: 2000,
    ...overrides,
  }
}

export function login(authenticator: Authenticator, username: string, password: string): Promise<AuthResult> {
  return authenticator.authenticate!({ credentials: { username, password }, request: new Request(`${ORIGIN}/auth/login`, { method: 'POST' }) })
}

/** A real Hono app: `createAuth` over the chain [sql, ...ldap], as the demo wires it. */
export async function createChainApp(ldap: LDAPAuthenticator | LDAPAuthenticator[], overrides: Partial<CreateAuthOptions> = {}) {
  const store = new MemoryUserStore()
  const hasher = createTestHasher()
  const sql = new PasswordAuthenticator({ id: 'sql', store, hasher })
  const view = new Permission({ name: 'view' })
  const roles = [new Role({ name: 'Administrator', permissions: [view] }), new Role({ name: 'User', permissions: [view] }), new Role({ name: 'Viewer', permissions: [view] })]
  const auth = createAuth({
    roles,
    authenticators: [sql, ...(Array.isArray(ldap) ? ldap : [ldap])],
    session: { secret: SECRET, secure: false, cache: false },
    store,
    logger: NOOP_LOGGER,
    ...overrides,
  })
  const app = new Hono<AuthEnv>()
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  app.get('/admin', Protected(['Administrator']), (c) => c.text('admin area'))

  async function postLogin(username: string, password: string) {
    const res = await app.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username, password }),
    })
    const cookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('gatehouse='))
      ?.split(';')[0]
    return { res, cookie, body: (await res.json().catch(() => null)) as { user?: { id: string; username: string; source: string; roles: string[] }; error?: { code: string } } | null }
  }
  const get = (path: string, cookie?: string) => app.request(`${ORIGIN}${path}`, { headers: cookie ? { cookie } : {} })
  return { app, auth, store, hasher, postLogin, get }
}

/** Adds a throwaway person (unique uid) to the test directory, in the given groups. */
export async function addPerson(ldap: LDAPServerInfo, options: { groups?: string[]; prefix?: string } = {}) {
  const uid = `${options.prefix ?? 'tmp'}-${randomBytes(4).toString('hex')}`
  const password = `${uid}-password`
  const dn = `uid=${uid},${ldap.peopleDN}`
  await ldapadd(ldap, `${[ldifLine('dn', dn), 'objectClass: inetOrgPerson', `cn: ${uid}`, `sn: ${uid}`, `uid: ${uid}`, `userPassword: ${password}`].join('\n')}\n`)
  for (const group of options.groups ?? []) {
    await ldapModifyGroup(ldap, group, 'add', dn)
  }
  return { uid, password, dn }
}

export async function ldapModifyGroup(ldap: LDAPServerInfo, group: string, change: 'add' | 'delete', memberDN: string) {
  await ldapmodify(ldap, [ldifLine('dn', ldap.groups[group]!), 'changetype: modify', `${change}: member`, ldifLine('member', memberDN), ''].join('\n'))
}

/** A TCP proxy on loopback that counts the connections it accepts and can cut them all. */
export async function tcpProxy(targetPort: number) {
  const sockets = new Set<net.Socket>()
  let accepted = 0
  const server = net.createServer((client) => {
    accepted++
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort })
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(a)
      a.on('error', () => b.destroy())
      a.on('close', () => {
        sockets.delete(a)
        b.destroy()
      })
      a.pipe(b)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    url: `ldap://127.0.0.1:${port}`,
    get accepted() {
      return accepted
    },
    /** Cuts every open connection, as a server restart or an idle timeout would. */
    cutAll() {
      for (const socket of sockets) socket.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A listener that accepts connections and never answers (a hung server). */
export async function hungListener() {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    port,
    get connections() {
      return sockets.size
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A loopback port nobody listens on (connections are refused). */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A logger that remembers what it was told. */
export function recordingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = []
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message })
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}

import type { ChildProcess } from 'node:child_process'
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import * as net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fixture account of the test directory. */
export interface LDAPFixtureUser {
  readonly dn: string
  /** The login name (`uid`). */
  readonly uid: string
  readonly password: string
  readonly cn: string
  readonly mail: string | undefined
  /** cn of the groups the user is a member of. */
  readonly groups: readonly string[]
}

/**
 * What tests need to talk to a test slapd. Plain JSON: handed from the global setup to the tests
 * with `inject('ldap')`.
 */
export interface LDAPServerInfo {
  /** `ldap://127.0.0.1:PORT` (StartTLS is offered on it). */
  readonly url: string
  /** `ldaps://127.0.0.1:TLS_PORT`. */
  readonly ldapsUrl: string
  readonly port: number
  readonly tlsPort: number
  /** PEM of the test CA that signed the server certificate (not the server certificate itself). */
  readonly caPEM: string
  /** PEM of a second CA that signed nothing: "a CA, but the wrong one". */
  readonly otherCaPEM: string
  readonly baseDN: string
  readonly peopleDN: string
  readonly groupsDN: string
  readonly adminDN: string
  readonly adminPassword: string
  /** The service account the LDAP authenticator binds as (read access to people and groups). */
  readonly serviceDN: string
  readonly servicePassword: string
  /** Fixture users by key: alice, bob, carol, comma, quote, plus, backslash, unicode, twin. */
  readonly users: Readonly<Record<string, LDAPFixtureUser>>
  /** Group DNs by cn: admins, staff. */
  readonly groups: Readonly<Record<string, string>>
}

/** A running test slapd. */
export interface SlapdServer extends LDAPServerInfo {
  /** The JSON-safe part, for `project.provide`. */
  readonly info: LDAPServerInfo
  /** PID of the slapd process (while it runs). */
  readonly pid: number | undefined
  /** Stops slapd and deletes its directory. */
  stop(): Promise<void>
  /** Stops the slapd process but keeps its data and ports, for {@link SlapdServer.restart}. */
  halt(): Promise<void>
  /** Starts slapd again after {@link SlapdServer.halt}, on the same ports with the same data. */
  restart(): Promise<void>
}

declare module 'vitest' {
  export interface ProvidedContext {
    ldap: LDAPServerInfo
  }
}

/** Options of {@link startSlapd}. */
export interface StartSlapdOptions {
  /** Load the fixture entries (people, groups, service account). @default true */
  readonly fixtures?: boolean
}

const SLAPD = '/usr/sbin/slapd'
const BASE_DN = 'dc=example,dc=org'
const PEOPLE_DN = `ou=people,${BASE_DN}`
const GROUPS_DN = `ou=groups,${BASE_DN}`
const SERVICE_DN = `cn=gatehouse,ou=services,${BASE_DN}`

/** The fixture people: DNs with escaped characters and Unicode on purpose. */
const FIXTURE_USERS: Record<string, LDAPFixtureUser> = {
  alice: person('uid=alice', 'alice', 'Alice Liddell', 'alice-password-1', ['admins', 'staff'], 'alice@example.org'),
  bob: person('uid=bob', 'bob', 'Bob Builder', 'bob-password-1', ['staff'], 'bob@example.org'),
  carol: person('uid=carol', 'carol', 'Carol Nogroup', 'carol-password-1', [], undefined),
  comma: person('cn=Smith\\, John', 'jsmith', 'Smith, John', 'jsmith-password-1', ['staff'], 'john.smith@example.org'),
  quote: person('cn=Eve \\"Q\\" Doe+uid=eve', 'eve', 'Eve "Q" Doe', 'eve-password-1', ['admins'], undefined),
  plus: person('cn=Dan \\+ Co', 'dplus', 'Dan + Co', 'dplus-password-1', ['staff'], undefined),
  backslash: person('cn=Back\\\\slash', 'backslash', 'Back\\slash', 'backslash-password-1', ['staff'], undefined),
  unicode: person('uid=zoë', 'zoë', 'Zoë Ünïcode', 'pässwörd-zoë-1', ['staff'], 'zoe@example.org'),
  twin: person('uid=twin', 'twin', 'Twin One', 'twin-password-1', [], undefined),
}

function person(rdn: string, uid: string, cn: string, password: string, groups: string[], mail: string | undefined): LDAPFixtureUser {
  return { dn: `${rdn},${PEOPLE_DN}`, uid, cn, password, groups, mail }
}

/**
 * Starts a private OpenLDAP server on loopback (free ports, a temporary directory): mdb backend,
 * memberof overlay, a test CA with a server certificate for LDAPS and StartTLS, and the fixture
 * entries. Anonymous users can read nothing; bound users can read people and groups.
 * Throws a clear error when slapd or the ldap-utils are not installed.
 *
 * @example
 * ```ts
 * const slapd = await startSlapd()
 * try { ... slapd.url ... } finally { await slapd.stop() }
 * ```
 */
export async function startSlapd(options: StartSlapdOptions = {}): Promise<SlapdServer> {
  if (!existsSync(SLAPD) || !(await commandExists('ldapadd'))) {
    throw new Error('OpenLDAP is not installed: the LDAP tests need `slapd` and `ldap-utils` (as root: apt-get install slapd ldap-utils)')
  }
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-slapd-'))
  try {
    const certs = await makeCertificates(dir)
    await mkdir(join(dir, 'data'))
    const adminPassword = randomBytes(12).toString('hex')
    const servicePassword = randomBytes(12).toString('hex')
    await writeFile(join(dir, 'slapd.conf'), slapdConf(dir, adminPassword))
    const [port, tlsPort] = await freePorts(2)
    const info: LDAPServerInfo = {
      url: `ldap://127.0.0.1:${port}`,
      ldapsUrl: `ldaps://127.0.0.1:${tlsPort}`,
      port: port!,
      tlsPort: tlsPort!,
      caPEM: certs.caPEM,
      otherCaPEM: certs.otherCaPEM,
      baseDN: BASE_DN,
      peopleDN: PEOPLE_DN,
      groupsDN: GROUPS_DN,
      adminDN: `cn=admin,${BASE_DN}`,
      adminPassword,
      serviceDN: SERVICE_DN,
      servicePassword,
      users: FIXTURE_USERS,
      groups: { admins: `cn=admins,${GROUPS_DN}`, staff: `cn=staff,${GROUPS_DN}` },
    }
    let running: RunningSlapd | undefined = await launch(dir, info)
    try {
      await ldapadd(info, fixturesLDIF(info, options.fixtures ?? true))
    } catch (error) {
      await running.stop()
      throw error
    }
    const halt = async () => {
      const stopping = running
      running = undefined
      await stopping?.stop()
    }
    return {
      ...info,
      info,
      get pid() {
        return running?.pid
      },
      halt,
      async restart() {
        running ??= await launch(dir, info)
      },
      async stop() {
        await halt()
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** For the global setup: one shared server, provided to tests as `inject('ldap')`. */
export async function start(): Promise<{ provide: { ldap: LDAPServerInfo }; stop(): Promise<void> }> {
  const server = await startSlapd()
  return { provide: { ldap: server.info }, stop: () => server.stop() }
}

/** Adds entries (LDIF) as the directory admin. */
export function ldapadd(info: LDAPServerInfo, ldif: string): Promise<void> {
  return ldapTool('ldapadd', info, ldif)
}

/** Applies LDIF changes (`changetype: modify` / `delete` / ...) as the directory admin. */
export function ldapmodify(info: LDAPServerInfo, ldif: string): Promise<void> {
  return ldapTool('ldapmodify', info, ldif)
}

/** One `name: value` LDIF line; base64 (`name:: ...`) when the value is not plain ASCII. */
export function ldifLine(name: string, value: string): string {
  // LDIF SAFE-STRING: printable ASCII, not starting with space, colon or "<", not ending with space.
  return /^[\x21-\x39\x3b\x3d-\x7e][\x20-\x7e]*$/.test(value) && !value.endsWith(' ') ? `${name}: ${value}` : `${name}:: ${Buffer.from(value, 'utf8').toString('base64')}`
}

function ldapTool(tool: 'ldapadd' | 'ldapmodify', info: LDAPServerInfo, ldif: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(tool, ['-x', '-H', info.url, '-D', info.adminDN, '-w', info.adminPassword], { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${tool} failed: ${stderr.trim() || error.message}`))
      else resolve()
    })
    child.stdin!.on('error', () => {}).end(ldif)
  })
}

function fixturesLDIF(info: LDAPServerInfo, withFixtures: boolean): string {
  const entries: string[][] = [
    [`dn: ${BASE_DN}`, 'objectClass: dcObject', 'objectClass: organization', 'o: Gatehouse tests', 'dc: example'],
    [`dn: ${PEOPLE_DN}`, 'objectClass: organizationalUnit', 'ou: people'],
    [`dn: ${GROUPS_DN}`, 'objectClass: organizationalUnit', 'ou: groups'],
    [`dn: ou=services,${BASE_DN}`, 'objectClass: organizationalUnit', 'ou: services'],
    [`dn: ${SERVICE_DN}`, 'objectClass: organizationalRole', 'objectClass: simpleSecurityObject', 'cn: gatehouse', `userPassword: ${info.servicePassword}`],
  ]
  if (withFixtures) {
    for (const user of Object.values(FIXTURE_USERS)) entries.push(personLDIF(user))
    // A second entry with uid=twin under the search base: a login as "twin" is ambiguous.
    entries.push([`dn: ou=contractors,${PEOPLE_DN}`, 'objectClass: organizationalUnit', 'ou: contractors'])
    entries.push(personLDIF({ ...FIXTURE_USERS.twin!, dn: `uid=twin,ou=contractors,${PEOPLE_DN}`, cn: 'Twin Two' }))
    for (const [cn, dn] of Object.entries(info.groups)) {
      const members = Object.values(FIXTURE_USERS).filter((user) => user.groups.includes(cn))
      entries.push([ldifLine('dn', dn), 'objectClass: groupOfNames', `cn: ${cn}`, ...members.map((user) => ldifLine('member', user.dn))])
    }
  }
  return `${entries.map((lines) => lines.join('\n')).join('\n\n')}\n`
}

function personLDIF(user: LDAPFixtureUser): string[] {
  const sn = user.cn.split(' ').at(-1) ?? user.cn
  return [
    ldifLine('dn', user.dn),
    'objectClass: inetOrgPerson',
    ldifLine('cn', user.cn),
    ldifLine('sn', sn),
    ldifLine('uid', user.uid),
    ...(user.mail === undefined ? [] : [ldifLine('mail', user.mail)]),
    ldifLine('userPassword', user.password),
  ]
}

function slapdConf(dir: string, adminPassword: string): string {
  return `# Gatehouse test directory (generated)
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
TLSCACertificateFile ${dir}/ca.pem
TLSCertificateFile ${dir}/server.pem
TLSCertificateKeyFile ${dir}/server.key

database mdb
maxsize 33554432
suffix "${BASE_DN}"
rootdn "cn=admin,${BASE_DN}"
rootpw ${adminPassword}
directory ${dir}/data
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
# Passwords are only ever compared by a bind; anonymous users can read nothing else.
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
`
}

/**
 * slapd runs under a small sh guard that reads a pipe from this process: when the test process
 * ends in any way (even SIGKILL, when no teardown runs), the pipe closes and the guard stops
 * slapd, so an aborted test run leaves no directory server behind. The guard prints slapd's PID.
 */
const GUARD = ['exec 3<&0', '"$0" "$@" & pid=$!', 'echo $pid', '{ cat >/dev/null; kill $pid 2>/dev/null; } <&3 & watcher=$!', 'wait $pid; status=$?', 'kill $watcher 2>/dev/null', 'exit $status'].join(
  '\n',
)

/** A slapd process started by {@link launch}. */
interface RunningSlapd {
  readonly pid: number
  stop(): Promise<void>
}

/** Starts slapd in the foreground (daemon mode logs only to syslog) and waits for both ports. */
async function launch(dir: string, info: LDAPServerInfo): Promise<RunningSlapd> {
  const args = ['-d', 'none', '-f', join(dir, 'slapd.conf'), '-h', `${info.url}/ ${info.ldapsUrl}/`]
  const guard = spawn('sh', ['-c', GUARD, SLAPD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  guard.stdin!.on('error', () => {})
  let stderr = ''
  guard.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise<never>((_, reject) => {
    guard.once('exit', (code, signal) => reject(new Error(`slapd exited at startup (${signal ?? code}):\n${stderr}`)))
    guard.once('error', reject)
  })
  exited.catch(() => {})
  const firstLine = new Promise<string>((resolve) => {
    let out = ''
    guard.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      if (out.includes('\n')) resolve(out.split('\n')[0]!)
    })
  })
  const deadline = Date.now() + 10_000
  let pid = 0
  try {
    pid = Number(await Promise.race([firstLine, exited]))
    for (const port of [info.port, info.tlsPort]) {
      while (!(await canConnect(port))) {
        await Promise.race([exited, sleep(25)])
        if (Date.now() > deadline) throw new Error(`slapd did not listen on 127.0.0.1:${port} within 10 s:\n${stderr}`)
      }
    }
  } catch (error) {
    await terminate(guard, pid)
    throw error
  }
  return { pid, stop: () => terminate(guard, pid) }
}

/** Closes the guard's pipe (it stops slapd and waits for it); kills both if that takes over 5 s. */
function terminate(guard: ChildProcess, pid: number): Promise<void> {
  if (guard.exitCode !== null || guard.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
      guard.kill('SIGKILL')
    }, 5000)
    guard.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    guard.stdin!.end()
  })
}

/** A test CA, a server certificate it signs (for 127.0.0.1 and localhost), and an unrelated CA. */
async function makeCertificates(dir: string): Promise<{ caPEM: string; otherCaPEM: string }> {
  const f = (name: string) => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  const caExt = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']
  await openssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Gatehouse Test CA', ...caExt])
  await openssl(['req', '-x509', ...ec, '-keyout', f('other-ca.key'), '-out', f('other-ca.pem'), '-days', '2', '-subj', '/CN=Gatehouse Other CA', ...caExt])
  await openssl(['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'])
  await writeFile(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n')
  await openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext')])
  return { caPEM: await readFile(f('ca.pem'), 'utf8'), otherCaPEM: await readFile(f('other-ca.pem'), 'utf8') }
}

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { timeout: 10_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`openssl ${args[0]} failed: ${stderr || error.message}`)) : resolve()))
  })
}

function commandExists(name: string): Promise<boolean> {
  return new Promise((resolve) => execFile('sh', ['-c', `command -v ${name}`], (error) => resolve(!error)))
}

/** Ports the kernel says are free now (a tiny race remains until slapd binds them). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer()
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

import { execFile, execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://postgres@127.0.0.1:PORT/postgres` of the server the global setup started. */
    postgresUrl: string
  }
}

const run = promisify(execFile)

/** A private PostgreSQL server on loopback, in a temporary directory. */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication, no password). */
  readonly url: string
  readonly port: number
  /** The cluster's data directory (also holds the Unix socket and `postgres.log`). */
  readonly dataDir: string
  /** Creates a database and returns its URL. @default name a random `gh_…` name */
  createDatabase(name?: string): Promise<string>
  /**
   * Stops the server but keeps its data, for fault tests; `start()` brings it back on the same port.
   * `immediate` drops connections without a clean shutdown, as a crash would. @default 'fast'
   */
  shutdown(options?: { mode?: 'fast' | 'immediate' }): Promise<void>
  /** Starts the server again after {@link PostgresServer.shutdown}. */
  start(): Promise<void>
  /** Stops the server for good and deletes its directory. */
  stop(): Promise<void>
}

// Servers still running when the process exits are stopped synchronously, so that a crashed test
// worker does not leave a postmaster behind.
const running = new Set<() => void>()
let exitHookInstalled = false

/**
 * Starts a real PostgreSQL (Debian's, from /usr/lib/postgresql/<version>/bin) on 127.0.0.1 only,
 * with fsync off, as the `postgres` user when run as root (initdb and postgres refuse root).
 * About 1.5 s from nothing to ready.
 *
 * @example
 * ```ts
 * const pg = await startPostgres()
 * const url = await pg.createDatabase()
 * await pg.shutdown({ mode: 'immediate' }) // the database is gone
 * await pg.start()                         // and back
 * await pg.stop()
 * ```
 */
export async function startPostgres(options: { port?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinDir()
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'))
  const dataDir = join(root, 'data')
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()))
    chownSync(root, uid!, gid!)
  }
  // initdb and pg_ctl refuse to run as root; `cd /` because the postgres user may not read our cwd.
  const asPostgres = (command: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { cwd: '/' }) : run(join(bin, command), args, { cwd: '/' }))

  await asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--no-locale'])
  const port = options.port ?? (await freePort())
  const serverOptions = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off`
  let up = false
  const start = async () => {
    await asPostgres('pg_ctl', ['start', '-w', '-t', '60', '-D', dataDir, '-l', join(root, 'postgres.log'), '-o', serverOptions])
    up = true
  }
  const shutdown = async ({ mode = 'fast' }: { mode?: 'fast' | 'immediate' } = {}) => {
    if (!up) return
    await asPostgres('pg_ctl', ['stop', '-w', '-t', '60', '-D', dataDir, '-m', mode])
    up = false
  }
  const killNow = () => {
    if (!up) return
    try {
      const args = ['stop', '-w', '-D', dataDir, '-m', 'immediate']
      if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { cwd: '/', stdio: 'ignore' })
      else execFileSync(join(bin, 'pg_ctl'), args, { cwd: '/', stdio: 'ignore' })
    } catch {
      // already gone
    }
    rmSync(root, { recursive: true, force: true })
  }
  running.add(killNow)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const kill of running) kill()
    })
  }

  try {
    await start()
  } catch (error) {
    killNow()
    running.delete(killNow)
    throw error
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return {
    url,
    port,
    dataDir,
    createDatabase: (name) => createPostgresDatabase(url, name),
    shutdown,
    start,
    async stop() {
      try {
        await shutdown()
      } finally {
        running.delete(killNow)
        rmSync(root, { recursive: true, force: true })
      }
    },
  }
}

/**
 * Creates a database on the server of `serverUrl` (e.g. `inject('postgresUrl')`) and returns its
 * URL, so that each test file works in a database of its own.
 */
export async function createPostgresDatabase(serverUrl: string, name = `gh_${Math.random().toString(36).slice(2, 12)}`): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new TypeError(`createPostgresDatabase: invalid database name ${JSON.stringify(name)}`)
  const server = new URL(serverUrl)
  const args = ['-h', server.hostname, '-p', server.port || '5432', '-U', decodeURIComponent(server.username) || 'postgres', name]
  await run(join(postgresBinDir(), 'createdb'), args, { cwd: '/' })
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return url.toString()
}

function postgresBinDir(): string {
  const base = '/usr/lib/postgresql'
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : []
  versions.sort((a, b) => Number(b) - Number(a))
  if (versions[0] === undefined) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql')
  return join(base, versions[0], 'bin')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

import type { ChildProcess } from 'node:child_process'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The compiled demo as `npm run demo` and the benchmark start it: examples/demo/build.mjs bundles
// src/server.ts, and plain node runs the result. Built here into a directory of its own (inside
// the demo's package, where the bundle's external modules resolve), so no prior build is needed.
const DEMO = join(import.meta.dirname, '..')

interface Metafile {
  readonly inputs: Record<string, unknown>
  readonly outputs: Record<string, { readonly inputs: Record<string, unknown>; readonly imports: ReadonlyArray<{ readonly path: string; readonly kind: string; readonly external?: boolean }> }>
}

/** What a deployment without the matching settings must not load at start, by source path. */
const OPTIONAL = {
  oidc: /packages\/authenticator-oidc\/|node_modules\/\.pnpm\/(jose|openid-client|oauth4webapi)@/,
  ldap: /packages\/authenticator-ldap\/|node_modules\/\.pnpm\/ldapts@/,
  postgres: /node_modules\/\.pnpm\/pg@/,
  sqlite: /packages\/store-sql\/src\/sqlite-dialect\.ts|node_modules\/\.pnpm\/@libsql\+client@/,
}

describe('the bundled demo (dist/server.js)', () => {
  mkdirSync(join(DEMO, 'dist'), { recursive: true })
  const outdir = mkdtempSync(join(DEMO, 'dist', 'test-bundle-'))
  const hooks = mkdtempSync(join(tmpdir(), 'gatehouse-bundle-hooks-'))
  const work = mkdtempSync(join(tmpdir(), 'gatehouse-bundle-run-'))
  let meta: Metafile
  const children: ChildProcess[] = []

  beforeAll(() => {
    const build = spawnSync(process.execPath, [join(DEMO, 'build.mjs'), `--outdir=${outdir}`], { encoding: 'utf8' })
    expect(build.status, build.stderr).toBe(0)
    meta = JSON.parse(readFileSync(join(outdir, 'meta.json'), 'utf8')) as Metafile
    // A module hook that writes every module URL Node loads to a file: what a start really reads.
    writeFileSync(
      join(hooks, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs'
let file
export function initialize(data) { file = data.file }
export async function load(url, context, next) { appendFileSync(file, url + '\\n'); return next(url, context) }
`,
    )
    writeFileSync(
      join(hooks, 'register.mjs'),
      `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(join(hooks, 'hooks.mjs')).href)}, { data: { file: process.env.GATEHOUSE_LOADED_MODULES } })\n`,
    )
  }, 60_000)

  afterAll(async () => {
    await Promise.all(children.map(stop))
    for (const dir of [outdir, hooks, work]) rmSync(dir, { recursive: true, force: true })
  })

  /** The output files that contain a source matching `pattern`. */
  const outputsWith = (pattern: RegExp) => Object.keys(meta.outputs).filter((file) => file.endsWith('.js') && Object.keys(meta.outputs[file]!.inputs).some((input) => pattern.test(input)))

  /** server.js and every output it imports statically: what Node reads before the first line of main() runs. */
  function staticClosure(): Set<string> {
    const entry = Object.keys(meta.outputs).find((file) => file.endsWith('/server.js'))!
    const seen = new Set<string>([entry])
    for (const file of seen) {
      for (const imported of meta.outputs[file]!.imports) if (imported.kind === 'import-statement' && imported.external !== true) seen.add(imported.path)
    }
    return seen
  }

  it('loads OpenID Connect, LDAP, PostgreSQL and the SQLite driver only through dynamic imports', () => {
    const atStart = staticClosure()
    for (const [name, pattern] of Object.entries(OPTIONAL)) {
      const holders = outputsWith(pattern)
      expect(holders, `${name} is in the bundle`).not.toEqual([])
      expect(
        holders.filter((file) => atStart.has(file)),
        `${name} loads at start`,
      ).toEqual([])
    }
  })

  it("bundles @libsql/client's file client only, not its HTTP and WebSocket clients", () => {
    const inputs = Object.keys(meta.inputs)
    expect(inputs.some((input) => input.includes('node_modules/.pnpm/@libsql+client@'))).toBe(true)
    expect(inputs.filter((input) => /@libsql\+hrana-client@|node_modules\/\.pnpm\/ws@|@libsql\/client\/lib-esm\/(ws|http)\.js/.test(input))).toEqual([])
  })

  it('starts under plain node: first start creates the admin (blocklist and argon2 found), /health answers, and no optional chunk was read', async () => {
    const loaded = join(work, 'loaded-default.txt')
    const demo = await start(join(work, 'default'), loaded, {})
    const password = /password: (\S+)/.exec(demo.output())?.[1]
    expect(password, demo.output()).toBeDefined()
    expect((await fetch(`${demo.base}/health`)).status).toBe(200)
    const login = await fetch(`${demo.base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: demo.base }, body: JSON.stringify({ username: 'admin', password }) })
    expect(login.status).toBe(200)
    const urls = readFileSync(loaded, 'utf8').split('\n')
    const read = (file: string) => urls.includes(pathToFileURL(resolve(DEMO, file)).href)
    // The hook sees the chunks: the SQLite driver's is read (the default store), the others are not.
    expect(outputsWith(OPTIONAL.sqlite).some(read)).toBe(true)
    for (const name of ['oidc', 'ldap', 'postgres'] as const) expect(outputsWith(OPTIONAL[name]).filter(read), name).toEqual([])
  })

  it('reads the OpenID Connect chunk when OIDC_* is set', async () => {
    const loaded = join(work, 'loaded-oidc.txt')
    const demo = await start(join(work, 'oidc'), loaded, { OIDC_ISSUER: 'https://sso.example.org/realms/demo', OIDC_CLIENT_ID: 'gatehouse-demo' })
    expect((await fetch(`${demo.base}/health`)).status).toBe(200)
    const urls = readFileSync(loaded, 'utf8').split('\n')
    expect(outputsWith(OPTIONAL.oidc).some((file) => urls.includes(pathToFileURL(resolve(DEMO, file)).href))).toBe(true)
  })

  /** Starts the bundle with plain node (and the module hook) in `cwd`; resolves once it listens. */
  function start(cwd: string, loaded: string, env: Record<string, string>): Promise<{ base: string; output: () => string }> {
    mkdirSync(cwd, { recursive: true })
    writeFileSync(loaded, '')
    const { AUTH_SECRET: _secret, AUTH_DB_URI: _db, ...inherited } = process.env
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(hooks, 'register.mjs')).href, join(outdir, 'server.js')], {
      cwd,
      env: { ...inherited, PORT: '0', LOG_LEVEL: 'silent', GATEHOUSE_LOADED_MODULES: loaded, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => void (output += chunk))
    child.stderr!.on('data', (chunk: Buffer) => void (output += chunk))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bundle did not start:\n${output}`)), 30_000)
      child.stdout!.on('data', () => {
        const port = /on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1]
        if (port) {
          clearTimeout(timer)
          resolve({ base: `http://127.0.0.1:${port}`, output: () => output })
        }
      })
      child.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`the bundle exited with ${code}:\n${output}`))
      })
    })
  }
})

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

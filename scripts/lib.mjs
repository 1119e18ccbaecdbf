// Helpers for the README's two commands. Node built-ins only: these run before anything is installed.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const PNPM_VERSION = '10.34.9'
export const ROOT = new URL('..', import.meta.url).pathname

/** Runs a command in the repository root, inheriting stdio; exits on failure. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options })
  if (result.error) throw result.error
  if (result.status !== 0 && !options.allowFailure) {
    console.error(`\n${command} ${args.join(' ')} failed with exit code ${result.status}`)
    process.exit(result.status ?? 1)
  }
  return result.status ?? 1
}

/** pnpm at the version the workspace pins, without corepack (it fails on these machines). */
export function pnpm(args, options) {
  const installed = spawnSync('pnpm', ['--version'], { encoding: 'utf8' })
  if (installed.status === 0 && installed.stdout.trim() === PNPM_VERSION) return run('pnpm', args, options)
  return run('npx', ['-y', `pnpm@${PNPM_VERSION}`, ...args], options)
}

/** Installs the workspace's npm dependencies exactly as the lockfile says. */
export function installDependencies() {
  // Without a terminal (CI, a service, a script), pnpm would stop rather than ask before it
  // rebuilds node_modules for another store (a new HOME): the workspace's node_modules is ours to rebuild.
  pnpm(['install', '--frozen-lockfile', '--reporter=append-only', '--config.confirmModulesPurge=false'])
}

const haveCommand = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
const havePostgres = () => existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))

/**
 * Debian packages the integration tests need: PostgreSQL, OpenLDAP and Chromium (or only those
 * named in `only`). Installed with apt-get when missing (as root); otherwise a clear message says
 * what to install.
 */
export function installSystemPackages({ only } = {}) {
  const wanted = (name) => only === undefined || only.includes(name)
  const missing = []
  if (wanted('postgresql') && !havePostgres()) missing.push('postgresql')
  if (wanted('slapd') && !existsSync('/usr/sbin/slapd')) missing.push('slapd')
  if (wanted('ldap-utils') && !haveCommand('ldapadd')) missing.push('ldap-utils')
  if (wanted('chromium') && !existsSync('/usr/bin/chromium')) missing.push('chromium')
  if (missing.length === 0) return
  if (process.getuid?.() !== 0 || !haveCommand('apt-get')) {
    console.error(`These Debian packages are needed: ${missing.join(' ')}. Install them (as root: apt-get install ${missing.join(' ')}) and run again.`)
    process.exit(1)
  }
  console.error(`Installing ${missing.join(', ')} with apt-get ...`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  // slapd would otherwise configure a system directory; the tests run their own on loopback.
  spawnSync('sh', ['-c', 'echo "slapd slapd/no_configuration boolean true" | debconf-set-selections'], { stdio: 'inherit', env })
  run('apt-get', ['update', '-qq'], { env })
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env })
}

/** Newest modification time (ms) of the files under `dir`, skipping build output and dependencies. */
function newestMtime(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

/** The TypeScript project at `dir` (relative to the root) and every project it references. */
function projectClosure(dir, seen = new Set()) {
  if (seen.has(dir)) return seen
  seen.add(dir)
  const config = JSON.parse(readFileSync(join(ROOT, dir, 'tsconfig.json'), 'utf8'))
  for (const ref of config.references ?? []) projectClosure(join(dir, ref.path), seen)
  return seen
}

/**
 * Compiles the project at `dir` (and what it references) with `tsc -b` when any of them has no
 * build yet or a source, package.json or tsconfig newer than its last build; otherwise does nothing.
 */
export function buildIfStale(dir) {
  const stale = [...projectClosure(dir)].some((project) => {
    const info = join(ROOT, project, 'tsconfig.tsbuildinfo')
    if (!existsSync(info) || !existsSync(join(ROOT, project, 'dist'))) return true
    const built = statSync(info).mtimeMs
    return [join(ROOT, project, 'src'), join(ROOT, project, 'tsconfig.json'), join(ROOT, project, 'package.json')].some(
      (path) => existsSync(path) && (statSync(path).isDirectory() ? newestMtime(path) : statSync(path).mtimeMs) > built,
    )
  })
  if (!stale) return
  console.error(`Building ${dir} (tsc -b) ...`)
  run(join(ROOT, 'node_modules/.bin/tsc'), ['-b', dir])
}

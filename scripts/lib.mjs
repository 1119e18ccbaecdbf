// Helpers for the README's two commands. Node built-ins only: these run before anything is installed.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'

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
  pnpm(['install', '--frozen-lockfile', '--reporter=append-only'])
}

const haveCommand = (name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
const havePostgres = () =>
  existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))

/**
 * Debian packages the integration tests need: PostgreSQL, OpenLDAP and Chromium. Installed with
 * apt-get when missing (as root); otherwise a clear message says what to install.
 */
export function installSystemPackages() {
  const missing = []
  if (!havePostgres()) missing.push('postgresql')
  if (!existsSync('/usr/sbin/slapd')) missing.push('slapd')
  if (!haveCommand('ldapadd')) missing.push('ldap-utils')
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium')
  if (missing.length === 0) return
  if (process.getuid?.() !== 0 || !haveCommand('apt-get')) {
    console.error(`The tests need these Debian packages: ${missing.join(' ')}. Install them (as root: apt-get install ${missing.join(' ')}) and run again.`)
    process.exit(1)
  }
  console.error(`Installing ${missing.join(', ')} with apt-get ...`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  // slapd would otherwise configure a system directory; the tests run their own on loopback.
  spawnSync('sh', ['-c', 'echo "slapd slapd/no_configuration boolean true" | debconf-set-selections'], { stdio: 'inherit', env })
  run('apt-get', ['update', '-qq'], { env })
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env })
}

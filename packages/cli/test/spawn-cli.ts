import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './helpers.js'

/**
 * The binary as installed (`bin` in package.json: the compiled dist/bin.js), run by this node.
 * About half a second faster per spawn than the TypeScript loader, which keeps the end-to-end
 * suites inside their deadlines on a busy machine. `npm test` builds first; the README's own
 * `npm run auth-user-admin` (sources through tsx) has a test of its own.
 */
export const CLI_COMMAND = process.execPath
export const BIN_ARGS = [join(ROOT, 'packages/cli/dist/bin.js')]

/** Refuses to test a stale build: each package's last build must be newer than its sources. */
function assertBuilt(): void {
  for (const pkg of ['cli', 'store-sql', 'core']) {
    const built = statSync(join(ROOT, 'packages', pkg, 'tsconfig.tsbuildinfo'), { throwIfNoEntry: false })?.mtimeMs ?? 0
    const dir = join(ROOT, 'packages', pkg, 'src')
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && statSync(join(entry.parentPath, entry.name)).mtimeMs > built) {
        throw new Error(`packages/${pkg} is not built, or its build is older than its sources: run \`npm run build\` (npm test does) before the CLI tests`)
      }
    }
  }
}
assertBuilt()

export interface SpawnResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * The environment of a spawned CLI: the test runner's, minus what would change the CLI's
 * behaviour (a database or roles module of the caller, pnpm's script variables).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of ['AUTH_DB_URI', 'AUTH_CONFIG', 'INIT_CWD', 'npm_lifecycle_event', 'NODE_OPTIONS']) delete env[name]
  return { ...env, ...extra }
}

/**
 * Spawns the real binary from the repository root and collects its output. `input` is written
 * to stdin (which is then closed); without it stdin is an empty pipe, never a terminal.
 */
export function spawnCLI(args: readonly string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI_COMMAND, [...BIN_ARGS, ...args], { cwd: ROOT, env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.input ?? '')
  })
}

/** Every line of stderr that is not a warning: errors must be exactly one line. */
export const errorLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line !== '' && !line.startsWith('warning: '))

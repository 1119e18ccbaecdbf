import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { ROOT } from './helpers.js'

/** The binary as `pnpm auth-user-admin` runs it: tsx with the workspace's source condition. */
export const TSX = join(ROOT, 'node_modules/.bin/tsx')
export const BIN_ARGS = ['--conditions=gatehouse-source', 'packages/cli/src/bin.ts']

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
    const child = spawn(TSX, [...BIN_ARGS, ...args], { cwd: ROOT, env: cleanEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000)
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

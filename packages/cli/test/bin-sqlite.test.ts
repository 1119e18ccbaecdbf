// The real binary (compiled, as installed) against SQLite files, and the root script the README shows.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { binaryScenario } from './binary-scenario.js'
import { ROOT, removeTempDirectories, tempDatabase } from './helpers.js'
import { cleanEnv, errorLines, spawnCLI } from './spawn-cli.js'

afterAll(removeTempDirectories)

describe('auth-user-admin on SQLite', () => {
  binaryScenario(async () => `sqlite:${tempDatabase()}`, { full: true })

  it('explains a command with an example in --help, without touching a database', async () => {
    const [main, add] = await Promise.all([spawnCLI(['--help']), spawnCLI(['help', 'add'])])
    expect(main.code).toBe(0)
    for (const command of ['add', 'delete', 'list-users', 'set-password', 'roles', 'disable', 'enable', 'revoke-sessions', 'show', 'migrate', 'check']) {
      expect(main.stdout).toContain(`  ${command}`)
    }
    // Every command's help is checked in process (src/program.test.ts); the binary prints the same.
    expect(add.code).toBe(0)
    expect(add.stdout).toMatch(/Examples:\n +\$ auth-user-admin add /)
  })

  it('runs as the README says, `npm run auth-user-admin --`, on a machine without pnpm', async () => {
    const db = tempDatabase()
    // A fresh machine has node and npm only: no directory on PATH may offer pnpm (or tsx).
    const PATH = (process.env.PATH ?? '')
      .split(delimiter)
      .filter((dir) => !['pnpm', 'tsx'].some((tool) => existsSync(join(dir, tool))))
      .join(delimiter)
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'auth-user-admin', '--', 'check', '--db', db], { cwd: ROOT, env: { ...cleanEnv(), PATH }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, stdout, stderr }))
    })
    // A fresh file: reachable, schema behind (check never migrates).
    expect(result.code).toBe(1)
    expect(result.stdout).toContain(`database:   ${db} (sqlite)`)
    expect(errorLines(result.stderr)).toEqual(['error: the schema is behind: 2 pending migrations (0001-initial, 0002-provider-sessions); run "auth-user-admin migrate"'])
  })
})

import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../../..')
const TSX = join(ROOT, 'node_modules/.bin/tsx')
const SERVER = join(ROOT, 'examples/demo/src/server.ts')

interface Started {
  readonly child: ChildProcess
  readonly output: () => string
  readonly base: string
}

/** Starts the real demo server in `cwd` on a free port; resolves once it listens. */
function startDemo(cwd: string, env: Record<string, string> = {}): Promise<Started> {
  const { AUTH_SECRET: _secret, AUTH_DB_URI: _db, ...inherited } = process.env
  const child = spawn(TSX, ['--conditions=gatehouse-source', SERVER], { cwd, env: { ...inherited, PORT: '0', LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => void (output += chunk))
  child.stderr!.on('data', (chunk: Buffer) => void (output += chunk))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 30_000)
    child.stdout!.on('data', () => {
      const port = /on http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)?.[1]
      if (port) {
        clearTimeout(timer)
        resolve({ child, output: () => output, base: `http://127.0.0.1:${port}` })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(Object.assign(new Error(`demo exited with ${code}:\n${output}`), { code, output }))
    })
  })
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}

async function login(base: string, username: string, password: string) {
  const res = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ username, password }) })
  return { status: res.status, cookie: res.headers.getSetCookie()[0]?.split(';')[0] }
}

describe('the demo server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-server-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('first start: makes a secret file and an admin with a random password shown once; a restart keeps both', async () => {
    const first = await startDemo(dir)
    let cookie: string | undefined
    try {
      const password = /password: (\S+)/.exec(first.output())?.[1]
      expect(password).toBeDefined()
      expect(first.output()).toContain('npm run auth-user-admin -- set-password admin')
      expect(first.output()).toContain('.gatehouse-secret')
      expect(existsSync(join(dir, 'gatehouse.db'))).toBe(true)
      expect(readFileSync(join(dir, '.gatehouse-secret'), 'utf8').trim().length).toBeGreaterThanOrEqual(32)
      const admin = await login(first.base, 'admin', password!)
      expect(admin.status).toBe(200)
      cookie = admin.cookie
      expect((await fetch(`${first.base}/admin`, { headers: { cookie: cookie! } })).status).toBe(200)
      expect((await fetch(`${first.base}/health`)).status).toBe(200)
    } finally {
      await stop(first.child)
    }

    const second = await startDemo(dir)
    try {
      expect(second.output()).not.toContain('password:')
      expect(second.output()).not.toContain('generated a session secret')
      // Same secret from the file: the session of the first run is still valid.
      expect((await fetch(`${second.base}/admin`, { headers: { cookie: cookie! } })).status).toBe(200)
    } finally {
      await stop(second.child)
    }
  })

  it('refuses to start on a wrong setting, with one line naming it', async () => {
    const error = await startDemo(dir, { AUTH_SECRET: 'too-short' }).then(
      () => null,
      (e: { code?: number; output?: string }) => e,
    )
    expect(error?.code).toBe(1)
    expect(error?.output?.trim()).toBe('gatehouse demo: AUTH_SECRET must be at least 32 characters (try: openssl rand -base64 32)')
  })
})

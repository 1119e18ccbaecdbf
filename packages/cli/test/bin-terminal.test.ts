// The hidden prompt, driven through a real pseudo-terminal: util-linux `script` runs the binary
// on a PTY and relays what the test writes to its stdin as typed keys.
import { spawn } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, openStore, removeTempDirectories, tempDatabase } from './helpers.js'
import { BIN_ARGS, CLI_COMMAND, cleanEnv } from './spawn-cli.js'

afterAll(removeTempDirectories)

const PASSWORD = 'violet cormorant at dawn'

interface Session {
  /** Resolves once the terminal has shown `text` (after everything seen so far). */
  waitFor(text: string): Promise<void>
  type(keys: string): void
  exit: Promise<{ code: number | null; screen: string }>
}

/**
 * Runs the binary on a pseudo-terminal, then (to see the state it left the terminal in)
 * `stty -a`. `script -e` exits with the binary's exit code.
 */
function onTerminal(args: string[]): Session {
  const cli = [CLI_COMMAND, ...BIN_ARGS, ...args].map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ')
  const command = `${cli}; code=$?; stty -a; exit $code`
  const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: cleanEnv({ TERM: 'dumb' }), stdio: ['pipe', 'pipe', 'pipe'] })
  let screen = ''
  let seen = 0
  const waiters: Array<{ text: string; resolve: () => void }> = []
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    screen += chunk
    for (const waiter of [...waiters]) {
      const at = screen.indexOf(waiter.text, seen)
      if (at !== -1) {
        seen = at + waiter.text.length
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    }
  })
  const exit = new Promise<{ code: number | null; screen: string }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, screen }))
  })
  return {
    waitFor: (text) =>
      new Promise((resolve, reject) => {
        const at = screen.indexOf(text, seen)
        if (at !== -1) {
          seen = at + text.length
          resolve()
          return
        }
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; the terminal shows ${JSON.stringify(screen)}`)), 20_000)
        waiters.push({ text, resolve: () => (clearTimeout(timer), resolve()) })
      }),
    type: (keys) => void child.stdin.write(keys),
    exit: exit.finally(() => child.stdin.end()),
  }
}

describe('the hidden prompt on a terminal', () => {
  it('asks twice without echoing, and the password works', async () => {
    const db = tempDatabase()
    const session = onTerminal(['add', 'alice', '--roles', 'User', '--db', db])
    await session.waitFor('New password: ')
    session.type(`${PASSWORD}\r`)
    await session.waitFor('Repeat password: ')
    // Typed in two bursts with a mistake corrected by Backspace: the terminal is in raw mode.
    session.type('violet cormorant at dusk\u007f\u007f\u007f\u007f')
    session.type('dawn\r')
    const { code, screen } = await session.exit
    expect(code).toBe(0)
    expect(screen).toContain('created user "alice" with roles User')
    expect(screen).not.toContain('violet')
    expect(screen).not.toContain('cormorant')
    expect(screen).toMatch(/(^|\s)echo(\s|$)/m)

    const store = await openStore(db)
    try {
      const user = await store.accounts.get({ username: 'alice' })
      expect(await store.hasher.verify({ hash: user!.passwordHash!, password: PASSWORD })).toBe(true)
    } finally {
      await store.close()
    }
  }, 60_000)

  it('refuses passwords that do not match, and gives up on Ctrl-C; the terminal is left in its normal mode', async () => {
    const db = tempDatabase()
    const mismatch = onTerminal(['add', 'bob', '--db', db])
    await mismatch.waitFor('New password: ')
    mismatch.type(`${PASSWORD}\r`)
    await mismatch.waitFor('Repeat password: ')
    mismatch.type('violet cormorant at noon\r')
    const refused = await mismatch.exit
    expect(refused.code).toBe(1)
    expect(refused.screen).toContain('error: the passwords do not match')

    const cancelled = onTerminal(['add', 'bob', '--db', db, '--json'])
    await cancelled.waitFor('New password: ')
    cancelled.type('half a pass\u0003')
    const gaveUp = await cancelled.exit
    expect(gaveUp.code).toBe(1)
    expect(gaveUp.screen).toContain('error: cancelled')
    expect(gaveUp.screen).not.toContain('half a pass')
    // Raw mode was undone: the shell after it echoes and edits lines again.
    expect(gaveUp.screen).toMatch(/(^|\s)echo(\s|$)/m)
    expect(gaveUp.screen).toMatch(/(^|\s)icanon(\s|$)/m)

    const store = await openStore(db)
    try {
      expect(await store.accounts.count()).toBe(0)
    } finally {
      await store.close()
    }
  }, 60_000)
})

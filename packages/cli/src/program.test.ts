import { UserExistsError, WeakPasswordError, StoreUnavailableError } from '@gatehouse/core'
import { describe, expect, it, vi } from 'vitest'
import { memoryIO } from '../test/memory-io.js'
import { CLIError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './errors.js'
import { createProgram, reportError, runCLI } from './program.js'
import type { StoreOpener } from './store.js'

// Usage errors must be found before any database is touched.
const noStore: StoreOpener = () => Promise.reject(new Error('the store must not be opened'))
const run = (argv: string[], io = memoryIO()) => runCLI(argv, io, { openStore: noStore }).then((code) => ({ code, out: io.out(), err: io.err() }))

const COMMANDS = ['add', 'delete', 'list-users', 'set-password', 'roles', 'disable', 'enable', 'revoke-sessions', 'show', 'migrate', 'check']

describe('help', () => {
  it('lists every command, the environment and the exit codes', async () => {
    const { code, out, err } = await run(['--help'])
    expect(code).toBe(EXIT_OK)
    expect(err).toBe('')
    for (const command of COMMANDS) expect(out).toContain(`  ${command}`)
    expect(out).toContain('AUTH_DB_URI')
    expect(out).toContain('AUTH_CONFIG')
    expect(out).toMatch(/0 +done\n +1 +failed: .*\n +2 +usage/)
  })

  it.each(COMMANDS)('explains %s with an example and shows the global options', async (command) => {
    const { code, out } = await run([command, '--help'])
    expect(code).toBe(EXIT_OK)
    expect(out).toContain(`Usage: auth-user-admin ${command}`)
    expect(out).toContain('Examples:')
    expect(out).toContain(`$ auth-user-admin ${command}`)
    expect(out).toContain('--db <uri>')
    expect(out).toContain('--json')
  })

  it('prints the version', async () => {
    const { code, out } = await run(['--version'])
    expect(code).toBe(EXIT_OK)
    expect(out).toMatch(/^\d+\.\d+\.\d+\n$/)
  })

  it('shows help on stderr and exits 2 without a command', async () => {
    const { code, out, err } = await run([])
    expect(code).toBe(EXIT_USAGE)
    expect(out).toBe('')
    expect(err).toContain('Usage: auth-user-admin')
  })
})

describe('usage errors exit 2 with one line, before the store is opened', () => {
  it.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['add'], "missing required argument 'username'"],
    [['delete', 'alice', 'bob'], 'too many arguments'],
    [['revoke-sessions'], "missing required argument 'username'"],
    [['revoke-sessions', ' '], 'the username is empty'],
    [['list-users', '--colour'], "unknown option '--colour'"],
    [['add', 'alice', '--password', 'x'], "unknown option '--password'"],
    [['add', 'alice', 'pw-argument-here', 'Admin', '--roles', 'User'], 'either as an argument or with --roles'],
    [['add', 'alice', 'pw-argument-here', '--password-stdin'], 'either as an argument or with --password-stdin'],
    [['add', 'alice'], 'pipe it in with --password-stdin'],
    [['set-password', 'alice'], 'pipe it in with --password-stdin'],
    [['add', '  '], 'the username is empty'],
    [['roles', 'alice'], 'exactly one of --add, --remove or --set'],
    [['roles', 'alice', '--add', 'A', '--set', 'B'], 'exactly one of --add, --remove or --set'],
    [['roles', 'alice', '--add', ' , '], '--add needs at least one role'],
    [['add', 'alice', '--roles', 'Admin', '--config', 'no/such/module.ts', '--password-stdin'], 'config module no/such/module.ts not found'],
  ])('%j', async (argv, message) => {
    const { code, out, err } = await run(argv)
    expect(code).toBe(EXIT_USAGE)
    expect(out).toBe('')
    expect(err).toContain(message)
    expect(err.trimEnd().split('\n')).toHaveLength(1)
  })

  it('suggests the closest command', async () => {
    const { err } = await run(['list-user'])
    expect(err).toContain('list-users')
  })
})

describe('choosing the database', () => {
  const opened = async (argv: string[], options: Parameters<typeof memoryIO>[0] = {}) => {
    const uris: Array<string | undefined> = []
    const io = memoryIO(options)
    await runCLI(argv, io, {
      openStore: async ({ uri }) => {
        uris.push(uri)
        throw new CLIError('stop here')
      },
    })
    return uris
  }

  it('leaves the default to the store (./gatehouse.db in the working directory, as the demo)', async () => {
    expect(await opened(['list-users'])).toEqual([undefined])
  })

  it('takes AUTH_DB_URI, and --db over it; a relative --db is relative to where it was typed', async () => {
    expect(await opened(['list-users'], { env: { AUTH_DB_URI: 'sqlite:app.db' } })).toEqual(['sqlite:app.db'])
    expect(await opened(['list-users', '--db', '/srv/x.db'], { env: { AUTH_DB_URI: 'sqlite:app.db' } })).toEqual(['/srv/x.db'])
    expect(await opened(['list-users', '--db', 'x.db'], { env: { npm_lifecycle_event: 'auth-user-admin', INIT_CWD: '/home/me/app' }, cwd: '/repo' })).toEqual(['/home/me/app/x.db'])
    expect(await opened(['list-users', '--db', 'x.db'], { cwd: '/repo' })).toEqual(['/repo/x.db'])
  })
})

describe('reportError', () => {
  const report = (error: unknown, verbose = false) => {
    const io = memoryIO()
    const code = reportError(io, error, verbose)
    return { code, err: io.err() }
  }

  it('maps expected failures to exit 1 with one escaped line', () => {
    expect(report(new UserExistsError('ali\u001bce'))).toEqual({ code: EXIT_FAILED, err: 'error: user "ali\\u001bce" already exists\n' })
    expect(report(new WeakPasswordError(['shorter than 8 characters', 'a commonly used password']))).toEqual({
      code: EXIT_FAILED,
      err: 'error: the password was rejected: shorter than 8 characters; a commonly used password\n',
    })
    const down = new StoreUnavailableError('the user store is unavailable', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') })
    expect(report(down)).toEqual({ code: EXIT_FAILED, err: 'error: the database is unavailable: connect ECONNREFUSED 127.0.0.1:1\n' })
    expect(report(new CLIError('bad usage', { exitCode: EXIT_USAGE }))).toEqual({ code: EXIT_USAGE, err: 'error: bad usage\n' })
  })

  it('prints no stack trace unless --verbose, and then with causes', () => {
    const error = new Error('boom\nsecond line', { cause: new Error('root cause') })
    const quiet = report(error)
    expect(quiet.code).toBe(EXIT_FAILED)
    expect(quiet.err).toBe('error: root cause (run with --verbose for details)\n')
    const loud = report(error, true)
    expect(loud.err).toContain('    at ')
    expect(loud.err).toContain('Caused by: Error: root cause')
  })
})

describe('createProgram', () => {
  it('never exits the process itself', () => {
    const exits: unknown[] = []
    const exit = vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      exits.push(code)
      throw new Error('process.exit was called')
    }) as never)
    try {
      const { program } = createProgram(memoryIO(), { openStore: noStore })
      for (const argv of [['frobnicate'], ['--version'], ['--help'], ['add']]) {
        let thrown: unknown
        try {
          program.parse(argv, { from: 'user' })
        } catch (error) {
          thrown = error
        }
        // A usage error, --help and --version come back as a CommanderError for bin.ts to map to an exit code.
        expect((thrown as Error | undefined)?.name, argv.join(' ')).toBe('CommanderError')
      }
      expect(exits).toEqual([])
    } finally {
      exit.mockRestore()
    }
  })
})

import { expect, it } from 'vitest'
import { DEMO_ROLES } from './helpers.js'
import type { SpawnResult } from './spawn-cli.js'
import { spawnCLI } from './spawn-cli.js'

const PASSWORD = 'violet cormorant at dawn'
const NEW_PASSWORD = 'quiet harbour, copper kettle'

/**
 * Every command of the real binary, with every exit code, against one database. Shared by the
 * SQLite and the PostgreSQL test files; `database()` gives a fresh, empty database URI.
 *
 * A spawn costs about two seconds of CPU (tsx, then kysely, the drivers and argon2 load), so
 * independent spawns run side by side — several processes on one database, as in production —
 * and failures decided before the database is touched (usage errors, unknown roles) are only
 * spawned when `full` is set (once, on SQLite).
 */
export function binaryScenario(database: () => Promise<string>, options: { full: boolean }): void {
  const { full } = options
  it('every command and every exit code', async () => {
    const db = await database()
    const cli = (args: string[], input?: string): Promise<SpawnResult> => spawnCLI([...args, '--db', db], input === undefined ? {} : { input })
    const skipped = Promise.resolve(null)

    // 0. A fresh database: reachable, schema behind; check never migrates.
    const behind = await cli(['check'])
    expect(behind.code).toBe(1)
    expect(behind.stdout).toMatch(/^connection: ok$/m)
    expect(behind.stdout).toMatch(/^schema: +behind \(0 migrations applied, 2 pending\)$/m)
    expect(behind.stderr).toBe('error: the schema is behind: 2 pending migrations (0001-initial, 0002-provider-sessions); run "auth-user-admin migrate"\n')

    // 1. Accounts are created (the first command migrates); expected failures fail alone, with one line.
    const [seed, piped, unknownUser, weak, unknownRole, noPassword] = await Promise.all([
      cli(['add', 'alice', PASSWORD, 'Administrator,User']),
      cli(['add', 'bob', '--password-stdin', '--roles', 'Viewer', '--config', DEMO_ROLES, '--json'], `${PASSWORD}\n`),
      cli(['set-password', 'nobody', '--password-stdin'], `${NEW_PASSWORD}\n`),
      full ? cli(['add', 'carol', '--password-stdin'], 'password\n') : skipped,
      full ? cli(['add', 'carol', '--password-stdin', '--roles', 'User,Root', '--config', DEMO_ROLES], `${PASSWORD}\n`) : skipped,
      full ? cli(['add', 'carol']) : skipped,
    ])
    expect(seed).toMatchObject({ code: 0, stdout: 'created user "alice" with roles Administrator, User\n' })
    expect(seed.stderr).toContain('warning: a password given as an argument lands in shell history')
    expect(seed.stderr).toContain('warning: roles are not checked')
    expect(piped).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(piped.stdout)).toMatchObject({ username: 'bob', roles: ['Viewer'], disabled: false, lastLoginAt: null })
    expect(unknownUser).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "nobody" does not exist\n' })
    if (full) {
      expect(weak).toMatchObject({ code: 1, stdout: '', stderr: 'error: the password was rejected: a commonly used password\n' })
      expect(unknownRole).toMatchObject({ code: 1, stdout: '', stderr: 'error: unknown role "Root"; known roles: Administrator, User, Viewer\n' })
      expect(noPassword).toMatchObject({ code: 2, stdout: '', stderr: 'error: no password given and stdin is not a terminal: pipe it in with --password-stdin\n' })
    }

    // 2. Changes to the accounts that exist.
    const [duplicate, setPassword, roles, disable, badRole, noRoleOption] = await Promise.all([
      cli(['add', 'ALICE', '--password-stdin'], `${PASSWORD}\n`),
      cli(['set-password', 'alice', '--password-stdin'], `${NEW_PASSWORD}\n`),
      cli(['roles', 'bob', '--add', 'Administrator', '--config', DEMO_ROLES, '--json']),
      cli(['disable', 'alice']),
      full ? cli(['roles', 'bob', '--set', 'Root', '--config', DEMO_ROLES]) : skipped,
      full ? cli(['roles', 'bob']) : skipped,
    ])
    expect(duplicate).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "ALICE" already exists\n' })
    expect(setPassword).toMatchObject({ code: 0, stdout: 'changed the password of user "alice"; their sessions are ended\n', stderr: '' })
    expect(roles.code).toBe(0)
    expect(JSON.parse(roles.stdout)).toMatchObject({ username: 'bob', roles: ['Administrator', 'Viewer'], permissions: ['delete', 'edit', 'view'] })
    expect(disable).toMatchObject({ code: 0, stdout: 'disabled user "alice"; their sessions are ended\n', stderr: '' })
    if (full) {
      expect(badRole).toMatchObject({ code: 1, stdout: '', stderr: 'error: unknown role "Root"; known roles: Administrator, User, Viewer\n' })
      expect(noRoleOption).toMatchObject({ code: 2, stdout: '', stderr: 'error: give exactly one of --add, --remove or --set\n' })
    }

    // 3. Reading; the database also comes from AUTH_DB_URI, and --db wins over it.
    const [show, list, table] = await Promise.all([
      spawnCLI(['show', 'alice', '--json'], { env: { AUTH_DB_URI: db } }),
      spawnCLI(['list-users', '--json', '--db', db], { env: { AUTH_DB_URI: 'postgres://nobody@127.0.0.1:1/none' } }),
      cli(['list-users']),
    ])
    expect(show.code).toBe(0)
    const view = JSON.parse(show.stdout) as Record<string, unknown>
    expect(view).toMatchObject({ username: 'alice', disabled: true, roles: ['Administrator', 'User'] })
    expect(view).not.toHaveProperty('passwordHash')
    expect(list.code).toBe(0)
    const users = JSON.parse(list.stdout) as Array<{ username: string; disabled: boolean }>
    expect(users.map((user) => [user.username, user.disabled])).toEqual([
      ['alice', true],
      ['bob', false],
    ])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^USERNAME +ROLES +DISABLED +CREATED \(UTC\) +LAST LOGIN \(UTC\)\nalice +Administrator,User +yes +\S+ \S+ +never\nbob +Administrator,Viewer +no /)
    for (const output of [show.stdout, list.stdout, table.stdout]) expect(output).not.toContain('argon2')

    // 4. Enable, delete, delete again, show the deleted; migrate and check the database the commands built.
    const [enable, remove, removeUnknown, showUnknown, migrate, check] = await Promise.all([
      cli(['enable', 'alice']),
      cli(['delete', 'bob']),
      cli(['delete', 'nobody']),
      full ? cli(['show', 'nobody']) : skipped,
      cli(['migrate']),
      cli(['check', '--json']),
    ])
    expect(enable).toMatchObject({ code: 0, stdout: 'enabled user "alice"\n', stderr: '' })
    expect(remove).toMatchObject({ code: 0, stdout: 'deleted user "bob"; their sessions are ended\n', stderr: '' })
    expect(removeUnknown).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "nobody" does not exist\n' })
    if (full) expect(showUnknown).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "nobody" does not exist\n' })
    expect(migrate).toMatchObject({ code: 0, stderr: '' })
    expect(migrate.stdout).toMatch(/^schema of .* is current \(2 migrations applied\)\n$/)
    expect(check.code).toBe(0)
    expect(JSON.parse(check.stdout)).toMatchObject({ reachable: true, schema: { current: true, applied: ['0001-initial', '0002-provider-sessions'], pending: [], unknown: [] } })

    const after = await cli(['list-users', '--json'])
    expect((JSON.parse(after.stdout) as Array<{ username: string; disabled: boolean }>).map((user) => [user.username, user.disabled])).toEqual([['alice', false]])
  }, 120_000)
}

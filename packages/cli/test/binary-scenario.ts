import { expect, it } from 'vitest'
import { DEMO_ROLES } from './helpers.js'
import { errorLines, spawnCLI } from './spawn-cli.js'

const PASSWORD = 'violet cormorant at dawn'
const NEW_PASSWORD = 'quiet harbour, copper kettle'
const TIMEOUT = 90_000

/**
 * Every command of the real binary, with every exit code, against one database. Shared by the
 * SQLite and the PostgreSQL test files; `database()` gives a fresh, empty database URI.
 * A spawn costs about two seconds of CPU (tsx, then kysely, the drivers and argon2 load), so
 * independent spawns run side by side — several processes on one database, as in production.
 */
export function binaryScenario(database: () => Promise<string>): void {
  it(
    'every command and every exit code',
    async () => {
      const db = await database()
      const cli = (args: string[], input?: string) => spawnCLI([...args, '--db', db], input === undefined ? {} : { input })

      // 1. Accounts are created; expected failures fail alone, with one line.
      const [seed, piped, unknownRole, weak, noPassword, unknownUser] = await Promise.all([
        cli(['add', 'alice', PASSWORD, 'Administrator,User']),
        cli(['add', 'bob', '--password-stdin', '--roles', 'Viewer', '--config', DEMO_ROLES, '--json'], `${PASSWORD}\n`),
        cli(['add', 'carol', '--password-stdin', '--roles', 'User,Root', '--config', DEMO_ROLES], `${PASSWORD}\n`),
        cli(['add', 'carol', '--password-stdin'], 'password\n'),
        cli(['add', 'carol']),
        cli(['set-password', 'nobody', '--password-stdin'], `${NEW_PASSWORD}\n`),
      ])
      expect(seed).toMatchObject({ code: 0, stdout: 'created user "alice" with roles Administrator, User\n' })
      expect(seed.stderr).toContain('warning: a password given as an argument lands in shell history')
      expect(seed.stderr).toContain('warning: roles are not checked')
      expect(piped).toMatchObject({ code: 0, stderr: '' })
      expect(JSON.parse(piped.stdout)).toMatchObject({ username: 'bob', roles: ['Viewer'], disabled: false, lastLoginAt: null })
      expect(unknownRole).toMatchObject({ code: 1, stdout: '', stderr: 'error: unknown role "Root"; known roles: Administrator, User, Viewer\n' })
      expect(weak).toMatchObject({ code: 1, stdout: '', stderr: 'error: the password was rejected: a commonly used password\n' })
      expect(noPassword).toMatchObject({ code: 2, stdout: '', stderr: 'error: no password given and stdin is not a terminal: pipe it in with --password-stdin\n' })
      expect(unknownUser).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "nobody" does not exist\n' })

      // 2. Changes to the accounts that exist.
      const [duplicate, setPassword, roles, badRole, noRoleOption, disable] = await Promise.all([
        cli(['add', 'ALICE', '--password-stdin'], `${PASSWORD}\n`),
        cli(['set-password', 'alice', '--password-stdin'], `${NEW_PASSWORD}\n`),
        cli(['roles', 'bob', '--add', 'Administrator', '--config', DEMO_ROLES, '--json']),
        cli(['roles', 'bob', '--set', 'Root', '--config', DEMO_ROLES]),
        cli(['roles', 'bob']),
        cli(['disable', 'alice']),
      ])
      expect(duplicate).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "ALICE" already exists\n' })
      expect(setPassword).toMatchObject({ code: 0, stdout: 'changed the password of user "alice"; their sessions are ended\n', stderr: '' })
      expect(roles.code).toBe(0)
      expect(JSON.parse(roles.stdout)).toMatchObject({ username: 'bob', roles: ['Administrator', 'Viewer'], permissions: ['delete', 'edit', 'view'] })
      expect(badRole).toMatchObject({ code: 1, stdout: '', stderr: 'error: unknown role "Root"; known roles: Administrator, User, Viewer\n' })
      expect(noRoleOption).toMatchObject({ code: 2, stdout: '', stderr: 'error: give exactly one of --add, --remove or --set\n' })
      expect(disable).toMatchObject({ code: 0, stdout: 'disabled user "alice"; their sessions are ended\n', stderr: '' })

      // 3. Reading.
      const [show, showUnknown, list, table] = await Promise.all([cli(['show', 'alice', '--json']), cli(['show', 'nobody']), cli(['list-users', '--json']), cli(['list-users'])])
      const view = JSON.parse(show.stdout) as Record<string, unknown>
      expect(view).toMatchObject({ username: 'alice', disabled: true, roles: ['Administrator', 'User'] })
      expect(view).not.toHaveProperty('passwordHash')
      expect(showUnknown).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "nobody" does not exist\n' })
      expect(list.code).toBe(0)
      const users = JSON.parse(list.stdout) as Array<{ username: string; disabled: boolean }>
      expect(users.map((user) => [user.username, user.disabled])).toEqual([
        ['alice', true],
        ['bob', false],
      ])
      expect(table.code).toBe(0)
      expect(table.stdout).toMatch(/^USERNAME +ROLES +DISABLED +CREATED \(UTC\) +LAST LOGIN \(UTC\)\nalice +Administrator,User +yes +\S+ \S+ +never\nbob +Administrator,Viewer +no /)
      for (const output of [show.stdout, list.stdout, table.stdout]) expect(output).not.toContain('argon2')

      // 4. Enable, delete, delete again; migrate and check on the database the commands created.
      const [enable, remove, removeUnknown, migrate, check] = await Promise.all([
        cli(['enable', 'alice']),
        cli(['delete', 'bob']),
        cli(['delete', 'nobody']),
        cli(['migrate']),
        cli(['check', '--json']),
      ])
      expect(enable).toMatchObject({ code: 0, stdout: 'enabled user "alice"\n', stderr: '' })
      expect(remove).toMatchObject({ code: 0, stdout: 'deleted user "bob"; their sessions are ended\n', stderr: '' })
      expect(removeUnknown).toMatchObject({ code: 1, stdout: '', stderr: 'error: user "nobody" does not exist\n' })
      expect(migrate).toMatchObject({ code: 0, stderr: '' })
      expect(migrate.stdout).toMatch(/^schema of .* is current \(1 migration applied\)\n$/)
      expect(check.code).toBe(0)
      expect(JSON.parse(check.stdout)).toMatchObject({ reachable: true, schema: { current: true, pending: [], unknown: [] } })

      const after = await cli(['list-users', '--json'])
      expect((JSON.parse(after.stdout) as Array<{ username: string; disabled: boolean }>).map((user) => [user.username, user.disabled])).toEqual([['alice', false]])
    },
    TIMEOUT,
  )

  it(
    'check reports a schema that is behind; migrate brings it up to date',
    async () => {
      const db = await database()
      const behind = await spawnCLI(['check', '--db', db])
      expect(behind.code).toBe(1)
      expect(behind.stdout).toMatch(/^connection: ok$/m)
      expect(errorLines(behind.stderr)).toEqual(['error: the schema is behind: 1 pending migration (0001-initial); run "auth-user-admin migrate"'])
      const migrate = await spawnCLI(['migrate', '--db', db])
      expect(migrate.code).toBe(0)
      expect(migrate.stdout).toMatch(/^applied 1 migration to .*: 0001-initial\n$/)
      const current = await spawnCLI(['check', '--db', db])
      expect(current.code).toBe(0)
      expect(current.stdout).toMatch(/^schema: +current \(1 migration applied\)\nusers: +0\n$/m)
    },
    TIMEOUT,
  )
}

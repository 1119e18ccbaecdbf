// The commands run in process against the real SQL store (SQLite files), through `runCLI`
// exactly as the binary runs them. The spawned binary is tested in bin-*.test.ts.
import type { SQLStore } from '@gatehouse/store-sql'
import { SQLDatabase } from '@gatehouse/store-sql'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../src/errors.js'
import { DEMO_ROLES, FIXTURES, cli, openStore, removeTempDirectories, tempDatabase, tempDirectory } from './helpers.js'

const PASSWORD = 'violet cormorant at dawn'
const OTHER_PASSWORD = 'quiet harbour, copper kettle'

let db: string
let store: SQLStore

beforeEach(async () => {
  db = tempDatabase()
  store = await openStore(db)
})
afterEach(() => store.close())
afterAll(removeTempDirectories)

const verify = async (username: string, password: string): Promise<boolean> => {
  const user = await store.accounts.get({ username })
  return user?.passwordHash != null && (await store.hasher.verify({ hash: user.passwordHash, password }))
}

const lines = (text: string): string[] => text.trimEnd().split('\n')

describe('add', () => {
  it('takes the seed form `add <username> <password> "Role1,Role2"` with a warning on stderr', async () => {
    const run = await cli(['add', 'Alice', PASSWORD, 'Administrator, User', '--db', db])
    expect(run.code).toBe(EXIT_OK)
    expect(run.out).toBe('created user "alice" with roles Administrator, User\n')
    expect(run.err).toContain('warning: a password given as an argument lands in shell history and process lists')
    expect(run.err).toContain('warning: roles are not checked')
    const user = await store.accounts.get({ username: 'alice' })
    expect(user?.roles).toEqual(['Administrator', 'User'])
    expect(await verify('alice', PASSWORD)).toBe(true)
  })

  it('reads the password from the first line of stdin with --password-stdin, exactly as given', async () => {
    const run = await cli(['add', 'bob', '--password-stdin', '--roles', 'User', '--display-name', 'Bob B.', '--email', 'bob@example.org', '--db', db, '--config', DEMO_ROLES, '--json'], {
      stdin: `  ${PASSWORD}\r\nignored second line\n`,
    })
    expect(run.code).toBe(EXIT_OK)
    expect(run.err).toBe('')
    const view = JSON.parse(run.out) as Record<string, unknown>
    expect(view).toMatchObject({ username: 'bob', displayName: 'Bob B.', email: 'bob@example.org', roles: ['User'], disabled: false, lastLoginAt: null })
    expect(run.out).not.toContain('argon2')
    expect(await verify('bob', `  ${PASSWORD}`)).toBe(true)
  })

  it('asks twice on a terminal and refuses a mismatch without creating the user', async () => {
    const ok = await cli(['add', 'carol', '--db', db], { answers: [PASSWORD, PASSWORD] })
    expect(ok.code).toBe(EXIT_OK)
    expect(ok.io.asked).toEqual(['New password: ', 'Repeat password: '])
    expect(await verify('carol', PASSWORD)).toBe(true)

    const mismatch = await cli(['add', 'dave', '--db', db], { answers: [PASSWORD, OTHER_PASSWORD] })
    expect(mismatch.code).toBe(EXIT_FAILED)
    expect(mismatch.err).toBe('error: the passwords do not match\n')
    expect(await store.accounts.get({ username: 'dave' })).toBeNull()
  })

  it('says what is wrong with a weak password before asking for it again', async () => {
    const run = await cli(['add', 'erin', '--db', db], { answers: ['password', 'password'] })
    expect(run.code).toBe(EXIT_FAILED)
    expect(run.io.asked).toEqual(['New password: '])
    expect(run.err).toBe('error: the password was rejected: a commonly used password\n')
    const piped = await cli(['add', 'erin', '--password-stdin', '--db', db], { stdin: 'short\n' })
    expect(piped.code).toBe(EXIT_FAILED)
    expect(piped.err).toBe('error: the password was rejected: shorter than 8 characters\n')
    const empty = await cli(['add', 'erin', '--password-stdin', '--db', db], { stdin: '' })
    expect(empty.code).toBe(EXIT_FAILED)
    expect(empty.err).toBe('error: --password-stdin: stdin is empty\n')
    expect(await store.accounts.count()).toBe(0)
  })

  it('refuses a duplicate (after normalization) before asking for a password', async () => {
    await store.accounts.add({ username: 'frank', password: PASSWORD })
    const run = await cli(['add', 'ＦＲＡＮＫ', '--db', db], { answers: [] })
    expect(run.code).toBe(EXIT_FAILED)
    expect(run.err).toBe('error: user "ＦＲＡＮＫ" already exists\n')
    expect(run.io.asked).toEqual([])
  })

  it('refuses unknown roles, listing the known ones, and writes nothing', async () => {
    const run = await cli(['add', 'gina', '--password-stdin', '--roles', 'User,Root', '--db', db, '--config', DEMO_ROLES], { stdin: `${PASSWORD}\n` })
    expect(run.code).toBe(EXIT_FAILED)
    expect(run.err).toBe('error: unknown role "Root"; known roles: Administrator, User, Viewer\n')
    expect(await store.accounts.get({ username: 'gina' })).toBeNull()
  })

  it('takes the roles module from AUTH_CONFIG and the database from AUTH_DB_URI', async () => {
    const run = await cli(['add', 'hank', '--password-stdin', '--roles', 'Operator'], {
      stdin: `${PASSWORD}\n`,
      env: { AUTH_DB_URI: `sqlite:${db}`, AUTH_CONFIG: 'default-export.mjs' },
      cwd: FIXTURES,
    })
    expect(run.code).toBe(EXIT_OK)
    expect(run.err).toBe('')
    expect((await store.accounts.get({ username: 'hank' }))?.roles).toEqual(['Operator'])
  })

  it('prefers --db and --config to the environment', async () => {
    const run = await cli(['add', 'ivy', '--password-stdin', '--roles', 'Viewer', '--db', db, '--config', DEMO_ROLES], {
      stdin: `${PASSWORD}\n`,
      env: { AUTH_DB_URI: 'postgres://nobody@127.0.0.1:1/none', AUTH_CONFIG: 'missing.ts' },
    })
    expect(run.code).toBe(EXIT_OK)
    expect(await store.accounts.get({ username: 'ivy' })).not.toBeNull()
  })

  it('resolves a relative --db against the caller directory when run by `pnpm auth-user-admin`', async () => {
    const callerDir = tempDirectory()
    const run = await cli(['add', 'jack', PASSWORD, '--db', 'rel.db', '--json'], {
      env: { npm_lifecycle_event: 'auth-user-admin', INIT_CWD: callerDir },
      cwd: tempDirectory(),
    })
    expect(run.code).toBe(EXIT_OK)
    const there = await openStore(`${callerDir}/rel.db`)
    try {
      expect(await there.accounts.get({ username: 'jack' })).not.toBeNull()
    } finally {
      await there.close()
    }
  })
})

describe('set-password', () => {
  beforeEach(async () => {
    await store.accounts.add({ username: 'alice', password: PASSWORD })
  })

  it('changes the password from the prompt and bumps the session version', async () => {
    const before = await store.accounts.get({ username: 'alice' })
    const run = await cli(['set-password', 'ALICE', '--db', db], { answers: [OTHER_PASSWORD, OTHER_PASSWORD] })
    expect(run.code).toBe(EXIT_OK)
    expect(run.out).toBe('changed the password of user "alice"; their sessions are ended\n')
    expect(await verify('alice', OTHER_PASSWORD)).toBe(true)
    expect((await store.accounts.get({ username: 'alice' }))!.sessionVersion).toBeGreaterThan(before!.sessionVersion)
  })

  it('takes the seed form and stdin', async () => {
    const seed = await cli(['set-password', 'alice', OTHER_PASSWORD, '--db', db])
    expect(seed.code).toBe(EXIT_OK)
    expect(seed.err).toContain('lands in shell history')
    const piped = await cli(['set-password', 'alice', '--password-stdin', '--db', db, '--json'], { stdin: `${PASSWORD}\n` })
    expect(piped.code).toBe(EXIT_OK)
    expect(JSON.parse(piped.out)).toMatchObject({ username: 'alice' })
    expect(await verify('alice', PASSWORD)).toBe(true)
  })

  it('fails for an unknown user before asking, and for a weak password', async () => {
    const unknown = await cli(['set-password', 'nobody', '--db', db], { answers: [] })
    expect(unknown.code).toBe(EXIT_FAILED)
    expect(unknown.err).toBe('error: user "nobody" does not exist\n')
    const weak = await cli(['set-password', 'alice', '--password-stdin', '--db', db], { stdin: 'alice\n' })
    expect(weak.code).toBe(EXIT_FAILED)
    expect(weak.err).toMatch(/^error: the password was rejected: .*the same as the username/)
    expect(await verify('alice', PASSWORD)).toBe(true)
  })
})

describe('the password policy', () => {
  const refused = (problem: string) => `error: the password was rejected: ${problem}\n`

  it('refuses common passwords and their variants with exit 1 and the reason, without quoting the password', async () => {
    for (const [password, problem] of [
      ['Password1!', 'a commonly used password with a few characters added'],
      ['password', 'a commonly used password'],
      ['Summer2024!!', 'a commonly used password with a few characters added'],
    ] as const) {
      const run = await cli(['add', 'carol', '--password-stdin', '--db', db], { stdin: `${password}\n` })
      expect(run).toMatchObject({ code: EXIT_FAILED, out: '', err: refused(problem) })
      expect(run.err).not.toMatch(/Password1|Summer2024/)
    }
    const prompted = await cli(['add', 'carol', '--db', db], { answers: ['Password1!'] })
    expect(prompted).toMatchObject({ code: EXIT_FAILED, err: refused('a commonly used password with a few characters added') })
    expect(prompted.io.asked).toEqual(['New password: '])
    expect(await store.accounts.count()).toBe(0)
  })

  it('refuses the username as the password, and refuses on set-password too', async () => {
    const same = await cli(['add', 'margot-ferrand', '--password-stdin', '--db', db], { stdin: 'Margot-Ferrand\n' })
    expect(same).toMatchObject({ code: EXIT_FAILED, err: refused('the same as the username') })
    expect((await cli(['add', 'margot-ferrand', '--password-stdin', '--db', db], { stdin: `${PASSWORD}\n` })).code).toBe(EXIT_OK)
    const common = await cli(['set-password', 'margot-ferrand', '--password-stdin', '--db', db], { stdin: 'Password1!\n' })
    expect(common).toMatchObject({ code: EXIT_FAILED, err: refused('a commonly used password with a few characters added') })
    const variant = await cli(['set-password', 'margot-ferrand', '--password-stdin', '--db', db], { stdin: 'margot ferrand 2024\n' })
    expect(variant).toMatchObject({ code: EXIT_FAILED, err: refused('the username with a few characters added') })
    expect(await verify('margot-ferrand', PASSWORD)).toBe(true)
  })

  it("refuses the application's name given as a context word by the config module's passwordPolicy", async () => {
    const config = `${FIXTURES}app-policy.ts`
    const named = await cli(['add', 'dora', '--password-stdin', '--config', config, '--db', db], { stdin: 'AcmeNotes2025!\n' })
    expect(named).toMatchObject({ code: EXIT_FAILED, err: refused('based on the name of this service') })
    const reset = await cli(['set-password', 'alice', '--password-stdin', '--config', config, '--db', db], { stdin: 'acme notes\n' })
    expect(reset.code).toBe(EXIT_FAILED)
    // Without the application's config the CLI cannot know its name.
    expect((await cli(['add', 'dora', '--password-stdin', '--db', db], { stdin: 'AcmeNotes2025!\n' })).code).toBe(EXIT_OK)
  })
})

describe('delete, disable, enable, revoke-sessions, show', () => {
  beforeEach(async () => {
    await store.accounts.add({ username: 'alice', password: PASSWORD, roles: ['User'] })
  })

  it('deletes a user, then reports them as unknown', async () => {
    const run = await cli(['delete', 'Alice', '--db', db])
    expect(run).toMatchObject({ code: EXIT_OK, out: 'deleted user "alice"; their sessions are ended\n', err: '' })
    expect(await store.accounts.get({ username: 'alice' })).toBeNull()
    const again = await cli(['delete', 'alice', '--db', db, '--json'])
    expect(again).toMatchObject({ code: EXIT_FAILED, out: '', err: 'error: user "alice" does not exist\n' })
  })

  it('prints one JSON document for delete --json', async () => {
    const run = await cli(['delete', 'alice', '--db', db, '--json'])
    expect(JSON.parse(run.out)).toMatchObject({ username: 'alice', deleted: true })
  })

  it('disables and enables, idempotently', async () => {
    const disabled = await cli(['disable', 'alice', '--db', db])
    expect(disabled.out).toBe('disabled user "alice"; their sessions are ended\n')
    expect((await store.accounts.get({ username: 'alice' }))!.disabled).toBe(true)
    expect((await cli(['disable', 'alice', '--db', db])).out).toBe('user "alice" was already disabled\n')
    const enabled = await cli(['enable', 'alice', '--db', db, '--json'])
    expect(JSON.parse(enabled.out)).toMatchObject({ username: 'alice', disabled: false })
    expect((await cli(['enable', 'nobody', '--db', db])).code).toBe(EXIT_FAILED)
  })

  it('revokes every session of a user, changing nothing else, with --json and exit 1 for an unknown user', async () => {
    const before = (await store.accounts.get({ username: 'alice' }))!
    const run = await cli(['revoke-sessions', 'Alice', '--db', db])
    expect(run).toMatchObject({ code: EXIT_OK, out: 'ended every session of user "alice"; they can sign in again\n', err: '' })
    const after = (await store.accounts.get({ username: 'alice' }))!
    expect(after.sessionVersion).toBe(before.sessionVersion + 1)
    expect(after).toMatchObject({ passwordHash: before.passwordHash, roles: before.roles, disabled: false })
    const json = await cli(['revoke-sessions', 'alice', '--db', db, '--json'])
    expect(json.code).toBe(EXIT_OK)
    expect(JSON.parse(json.out)).toEqual({ username: 'alice', id: before.id, sessionsRevoked: true })
    expect((await store.accounts.get({ username: 'alice' }))!.sessionVersion).toBe(before.sessionVersion + 2)
    expect(await cli(['revoke-sessions', 'nobody', '--db', db, '--json'])).toMatchObject({ code: EXIT_FAILED, out: '', err: 'error: user "nobody" does not exist\n' })
  })

  it('shows a user, with permissions when the roles are known, never the hash', async () => {
    const text = await cli(['show', 'alice', '--db', db, '--config', DEMO_ROLES])
    expect(text.code).toBe(EXIT_OK)
    expect(text.out).toMatch(/^username: +alice$/m)
    expect(text.out).toMatch(/^roles: +User$/m)
    expect(text.out).toMatch(/^permissions: +edit, view$/m)
    const json = await cli(['show', 'alice', '--db', db, '--json'])
    const view = JSON.parse(json.out) as Record<string, unknown>
    expect(view).not.toHaveProperty('passwordHash')
    expect(view).not.toHaveProperty('permissions')
    expect(json.out).not.toContain('$argon2')
    expect((await cli(['show', 'nobody', '--db', db])).err).toBe('error: user "nobody" does not exist\n')
  })
})

describe('roles', () => {
  beforeEach(async () => {
    await store.accounts.add({ username: 'alice', password: PASSWORD, roles: ['User'] })
  })
  const rolesOf = async (): Promise<readonly string[]> => (await store.accounts.get({ username: 'alice' }))!.roles

  it('adds, removes and sets roles', async () => {
    const add = await cli(['roles', 'alice', '--add', 'Administrator,Viewer', '--db', db, '--config', DEMO_ROLES])
    expect(add.code).toBe(EXIT_OK)
    expect([...(await rolesOf())].sort()).toEqual(['Administrator', 'User', 'Viewer'])
    expect((await cli(['roles', 'alice', '--remove', 'Viewer', '--db', db])).code).toBe(EXIT_OK)
    expect([...(await rolesOf())].sort()).toEqual(['Administrator', 'User'])
    const set = await cli(['roles', 'alice', '--set', 'Viewer', '--db', db, '--config', DEMO_ROLES, '--json'])
    expect(JSON.parse(set.out)).toMatchObject({ roles: ['Viewer'], permissions: ['view'] })
    const none = await cli(['roles', 'alice', '--set', '', '--db', db])
    expect(none.out).toBe('user "alice" now has no roles; their sessions are ended\n')
    expect(await rolesOf()).toEqual([])
  })

  it('checks roles to grant but not roles to take away', async () => {
    const unknown = await cli(['roles', 'alice', '--add', 'Root', '--db', db, '--config', DEMO_ROLES])
    expect(unknown).toMatchObject({ code: EXIT_FAILED, err: 'error: unknown role "Root"; known roles: Administrator, User, Viewer\n' })
    await store.accounts.addRoles({ username: 'alice', roles: ['LegacyRole'] })
    const remove = await cli(['roles', 'alice', '--remove', 'LegacyRole', '--db', db, '--config', DEMO_ROLES])
    expect(remove.code).toBe(EXIT_OK)
    expect(await rolesOf()).toEqual(['User'])
  })

  it('fails for an unknown user', async () => {
    expect(await cli(['roles', 'nobody', '--set', 'User', '--db', db])).toMatchObject({ code: EXIT_FAILED })
  })
})

describe('list-users', () => {
  it('says so when there are no users, and prints [] with --json', async () => {
    expect((await cli(['list-users', '--db', db])).out).toBe('no users\n')
    expect(JSON.parse((await cli(['list-users', '--db', db, '--json'])).out)).toEqual([])
  })

  it('prints a table ordered by username, escaping control characters, without hashes', async () => {
    await store.accounts.add({ username: 'bob', password: PASSWORD, roles: ['User', 'Viewer'] })
    await store.accounts.add({ username: 'alice', password: PASSWORD, roles: ['Administrator'] })
    // The store refuses control characters in usernames; role names can still carry them.
    await store.accounts.add({ username: 'mallory', password: PASSWORD, roles: ['Evil\u001b[2J\u001b[31m\u0007'] })
    await store.accounts.setDisabled({ username: 'bob', disabled: true })
    const run = await cli(['list-users', '--db', db])
    expect(run.code).toBe(EXIT_OK)
    const table = lines(run.out)
    expect(table[0]).toMatch(/^USERNAME +ROLES +DISABLED +CREATED \(UTC\) +LAST LOGIN \(UTC\)$/)
    expect(table[1]).toMatch(/^alice +Administrator +no +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +never$/)
    expect(table[2]).toMatch(/^bob +User,Viewer +yes /)
    expect(table[3]).toContain('Evil\\u001b[2J\\u001b[31m\\u0007')
    expect(run.out).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/)
    expect(run.out).not.toContain('argon2')

    const json = await cli(['list-users', '--db', db, '--json'])
    const users = JSON.parse(json.out) as Array<{ username: string; disabled: boolean }>
    expect(users.map((user) => user.username)).toEqual(['alice', 'bob', 'mallory'])
    expect(json.out).not.toContain('\u001b')
    expect(json.out).not.toContain('argon2')
  })

  it('streams many users page by page', async () => {
    for (let i = 0; i < 1200; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => store.store.createUser({ username: `user${String(i + j).padStart(5, '0')}`, passwordHash: null })))
    }
    const run = await cli(['list-users', '--db', db, '--json'])
    const users = JSON.parse(run.out) as Array<{ username: string }>
    expect(users).toHaveLength(1200)
    expect(users[1199]!.username).toBe('user01199')
  })
})

describe('migrate and check', () => {
  it('reports a schema that is behind, migrates it, and then reports it current', async () => {
    const fresh = tempDatabase('fresh.db')
    const behind = await cli(['check', '--db', fresh])
    expect(behind.code).toBe(EXIT_FAILED)
    expect(behind.out).toMatch(/^schema: +behind \(0 migrations applied, 2 pending\)$/m)
    expect(behind.err).toMatch(/^error: the schema is behind: 2 pending migrations \(0001-initial, 0002-provider-sessions\); run "auth-user-admin migrate"\n$/)
    const behindJSON = await cli(['check', '--db', fresh, '--json'])
    expect(JSON.parse(behindJSON.out)).toMatchObject({ reachable: true, schema: { current: false, pending: ['0001-initial', '0002-provider-sessions'] }, users: null })

    const migrate = await cli(['migrate', '--db', fresh])
    expect(migrate).toMatchObject({ code: EXIT_OK, out: `applied 2 migrations to ${fresh}: 0001-initial, 0002-provider-sessions\n` })
    expect((await cli(['migrate', '--db', fresh])).out).toBe(`schema of ${fresh} is current (2 migrations applied)\n`)

    const current = await cli(['check', '--db', fresh, '--json'])
    expect(current.code).toBe(EXIT_OK)
    expect(JSON.parse(current.out)).toEqual({
      database: fresh,
      dialect: 'sqlite',
      reachable: true,
      schema: { current: true, applied: ['0001-initial', '0002-provider-sessions'], pending: [], unknown: [] },
      users: 0,
    })
  })

  it('reports a schema migrated by a newer version, and refuses to work on it', async () => {
    const newer = tempDatabase('newer.db')
    const database = await SQLDatabase.open({ uri: newer })
    try {
      await database.migrate()
      await database.kysely
        .withTables<{ gatehouse_migration: { name: string; timestamp: string } }>()
        .insertInto('gatehouse_migration')
        .values({ name: '9999-from-the-future', timestamp: new Date().toISOString() })
        .execute()
    } finally {
      await database.close()
    }
    for (const argv of [['check'], ['list-users'], ['migrate']]) {
      const run = await cli([...argv, '--db', newer])
      expect(run.code).toBe(EXIT_FAILED)
      expect(lines(run.err)).toHaveLength(1)
      expect(run.err).toMatch(/^error: .*newer schema.*9999-from-the-future/)
    }
    const json = await cli(['check', '--db', newer, '--json'])
    expect(JSON.parse(json.out)).toMatchObject({ reachable: true, schema: null })
  })

  it('fails with exit 2 for a URI it cannot use and exit 1 for a file it cannot open', async () => {
    expect(await cli(['check', '--db', 'mysql://db/x'])).toMatchObject({ code: EXIT_USAGE, out: '' })
    const unopenable = await cli(['list-users', '--db', `${tempDirectory()}/no/such/dir/x.db`])
    expect(unopenable.code).toBe(EXIT_FAILED)
    expect(lines(unopenable.err)).toHaveLength(1)
    expect(unopenable.err).toMatch(/^error: cannot reach the database /)
  })
})

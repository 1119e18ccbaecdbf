import { readFileSync } from 'node:fs'
import { Command, CommanderError, Option } from 'commander'
import { addUser } from './commands/add.js'
import { checkDatabase } from './commands/check.js'
import { deleteUser } from './commands/delete.js'
import { setDisabled } from './commands/disable.js'
import { listUsers } from './commands/list-users.js'
import { migrateSchema } from './commands/migrate.js'
import { revokeSessions } from './commands/revoke-sessions.js'
import { changeRoles } from './commands/roles.js'
import { setPassword } from './commands/set-password.js'
import { showUser } from './commands/show.js'
import type { CommandContext, GlobalOptions } from './context.js'
import { createContext, hasCode, reasonOf } from './context.js'
import { CLIError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js'
import { escapeMessage } from './escape.js'
import type { CLIIO } from './io.js'
import { parseRoleList } from './roles.js'
import type { StoreOpener } from './store.js'
import { openSQLAdminStore } from './store.js'

/** Replaceable parts of the program (tests open their own store). */
export interface ProgramDependencies {
  /** @default opens `@gatehouse/store-sql` */
  readonly openStore?: StoreOpener
}

const BIN = 'auth-user-admin'

const examples = (...lines: string[]): string => `\nExamples:\n${lines.map((line) => `  $ ${BIN} ${line}`).join('\n')}\n`

/**
 * Builds the commander program. Each action runs a plain command function and leaves its exit
 * code in `result.exitCode`; nothing here exits the process. Commander's own exits (help,
 * version, usage errors) are turned into thrown `CommanderError`s by `exitOverride()`.
 */
export function createProgram(io: CLIIO, dependencies?: ProgramDependencies): { program: Command; result: { exitCode: number } } {
  const openStore = dependencies?.openStore ?? openSQLAdminStore
  const result = { exitCode: EXIT_OK }
  const run =
    <A extends unknown[]>(command: (ctx: CommandContext, ...args: A) => Promise<number>) =>
    (cmd: Command, ...args: A): Promise<void> =>
      command(createContext(io, cmd.optsWithGlobals<GlobalOptions>(), openStore), ...args).then((code) => {
        result.exitCode = code
      })

  const program = new Command(BIN)
    .description('Manage the local accounts of a Gatehouse application (the SQL user store).')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .option('--db <uri>', 'postgres://…, sqlite:<file> or a file path (default: $AUTH_DB_URI, else ./gatehouse.db)')
    .option('--config <module>', "the application's module that exports its roles (default: $AUTH_CONFIG)")
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--verbose', 'show stack traces and the store log')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Environment:
  AUTH_DB_URI   the database, as --db (the application reads the same variable)
  AUTH_CONFIG   the module exporting the application's roles, as --config

Exit codes:
  0  done
  1  failed: user exists or not found, weak password, unknown role, database down
  2  usage: a missing or wrong argument or option
${examples('add alice --roles Administrator,User', 'list-users --json', 'set-password alice', 'check --db postgres://gatehouse@127.0.0.1/gatehouse')}`,
    )

  program
    .command('add')
    .summary('create a user')
    .description('Create a user. Without a password argument it is asked for on the terminal (twice), or read from stdin with --password-stdin.')
    .argument('<username>', 'login name (stored normalized: NFKC, lower case)')
    .argument('[password]', 'the password (discouraged: it lands in shell history; leave it out to be prompted)')
    .argument('[roles]', 'comma-separated role names, e.g. "Administrator,User"')
    .option('--roles <roles>', 'comma-separated role names (instead of the [roles] argument)')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('--display-name <name>', 'the name shown for the user')
    .option('--email <address>', "the user's email address")
    .addHelpText(
      'after',
      `
Roles are checked against the application's roles when --config or AUTH_CONFIG names its module;
otherwise any name is accepted, with a warning.
${examples(
  'add alice --roles Administrator,User --config src/roles.ts',
  'add alice --password-stdin < password.txt',
  'add alice s3cret-Pa55phrase "Administrator,User"      # seed-compatible, warns',
)}`,
    )
    .action((username: string, password: string | undefined, roles: string | undefined, options: AddOptions, cmd: Command) => {
      if (roles !== undefined && options.roles !== undefined) throw new UsageError('give the roles either as an argument or with --roles, not both')
      return run(addUser)(cmd, {
        username,
        argument: password,
        fromStdin: options.passwordStdin,
        roles: parseRoleList(options.roles ?? roles ?? ''),
        displayName: options.displayName,
        email: options.email,
      })
    })

  program
    .command('delete')
    .summary('delete a user and end their sessions')
    .description('Delete a user. Their open sessions end: the running application refuses their cookie on the next request.')
    .argument('<username>', 'the user to delete')
    .addHelpText('after', examples('delete alice', 'delete alice --db postgres://gatehouse@127.0.0.1/gatehouse'))
    .action((username: string, _options: unknown, cmd: Command) => run(deleteUser)(cmd, { username }))

  program
    .command('list-users')
    .summary('list all users')
    .description('List every user: username, roles, disabled, created, last login. Password hashes are never shown.')
    .addHelpText(
      'after',
      `
The listing streams page by page, so it works on stores of any size. Control characters in names
are shown escaped (\\u001b). With --json, stdout is one JSON array of users.
${examples('list-users', 'list-users --json | jq -r ".[].username"')}`,
    )
    .action((_options: unknown, cmd: Command) => run(listUsers)(cmd))

  program
    .command('set-password')
    .summary("change a user's password and end their sessions")
    .description("Replace a user's password. Their open sessions end. Without a password argument it is asked for on the terminal (twice), or read from stdin with --password-stdin.")
    .argument('<username>', 'the user')
    .argument('[new-password]', 'the new password (discouraged: it lands in shell history; leave it out to be prompted)')
    .option('--password-stdin', 'read the new password from the first line of stdin')
    .addHelpText('after', examples('set-password alice', 'printf \'%s\\n\' "$NEW_PASSWORD" | auth-user-admin set-password alice --password-stdin'))
    .action((username: string, password: string | undefined, options: { passwordStdin?: boolean }, cmd: Command) =>
      run(setPassword)(cmd, { username, argument: password, fromStdin: options.passwordStdin }),
    )

  program
    .command('roles')
    .summary("grant, take away or replace a user's roles")
    .description("Change a user's roles with exactly one of --add, --remove or --set. Their open sessions end, so the new roles apply at once.")
    .argument('<username>', 'the user')
    .addOption(new Option('--add <roles>', 'comma-separated roles to grant').argParser(parseRoleList))
    .addOption(new Option('--remove <roles>', 'comma-separated roles to take away').argParser(parseRoleList))
    .addOption(new Option('--set <roles>', 'replace all roles ("" for none)').argParser(parseRoleList))
    .addHelpText(
      'after',
      `
Roles to grant are checked against the application's roles (--config / AUTH_CONFIG); roles to
remove are not, so a role the application no longer has can still be taken away.
${examples('roles alice --add Administrator --config src/roles.ts', 'roles alice --remove Administrator', 'roles alice --set User,Viewer', 'roles alice --set ""')}`,
    )
    .action((username: string, options: { add?: string[]; remove?: string[]; set?: string[] }, cmd: Command) =>
      run(changeRoles)(cmd, { username, add: options.add, remove: options.remove, set: options.set }),
    )

  program
    .command('disable')
    .summary('disable a user and end their sessions')
    .description('Disable a user: they cannot log in, and their open sessions end.')
    .argument('<username>', 'the user')
    .addHelpText('after', examples('disable alice'))
    .action((username: string, _options: unknown, cmd: Command) => run(setDisabled)(cmd, { username, disabled: true }))

  program
    .command('enable')
    .summary('enable a disabled user')
    .description('Enable a disabled user again.')
    .argument('<username>', 'the user')
    .addHelpText('after', examples('enable alice'))
    .action((username: string, _options: unknown, cmd: Command) => run(setDisabled)(cmd, { username, disabled: false }))

  program
    .command('revoke-sessions')
    .summary('end every session of a user ("sign out everywhere")')
    .description(
      'End every open session of a user, in every instance of the application: their next request with an old cookie is refused. Nothing else changes: the account stays as it is and the user can sign in again at once.',
    )
    .argument('<username>', 'the user')
    .addHelpText(
      'after',
      `
Use it after a lost device or a suspected stolen cookie. To keep the user out as well, use
"${BIN} disable"; to make a leaked password useless, "${BIN} set-password".
${examples('revoke-sessions alice', 'revoke-sessions alice --json --db postgres://gatehouse@127.0.0.1/gatehouse')}`,
    )
    .action((username: string, _options: unknown, cmd: Command) => run(revokeSessions)(cmd, { username }))

  program
    .command('show')
    .summary('show one user')
    .description('Show one user in detail. With --config, also the permissions their roles grant.')
    .argument('<username>', 'the user')
    .addHelpText('after', examples('show alice', 'show alice --json --config src/roles.ts'))
    .action((username: string, _options: unknown, cmd: Command) => run(showUser)(cmd, { username }))

  program
    .command('migrate')
    .summary('create or upgrade the database schema')
    .description('Create or upgrade the database schema. The other commands (except check) do this too when needed.')
    .addHelpText('after', examples('migrate', 'migrate --db postgres://gatehouse@db.internal/gatehouse'))
    .action((_options: unknown, cmd: Command) => run(migrateSchema)(cmd))

  program
    .command('check')
    .summary('check the database connection and schema')
    .description('Check that the database can be reached and its schema is current: exit 0 if so, 1 if not.')
    .addHelpText(
      'after',
      `
Does not migrate: a schema that is behind is reported (run "${BIN} migrate").
${examples('check', 'check --json --db "$AUTH_DB_URI"')}`,
    )
    .action((_options: unknown, cmd: Command) => run(checkDatabase)(cmd))

  return { program, result }
}

interface AddOptions {
  roles?: string
  passwordStdin?: boolean
  displayName?: string
  email?: string
}

/**
 * Runs `auth-user-admin` with these arguments (without the node and script paths) and returns
 * the exit code: 0 done, 1 failed, 2 usage. Errors are written as one line on stderr (with the
 * stack under `--verbose`); nothing here exits the process.
 *
 * @example
 * ```ts
 * const code = await runCLI(['list-users', '--json'], io)
 * ```
 */
export async function runCLI(argv: readonly string[], io: CLIIO, dependencies?: ProgramDependencies): Promise<number> {
  const { program, result } = createProgram(io, dependencies)
  const verbose = argv.includes('--verbose')
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return result.exitCode
  } catch (error) {
    return reportError(io, error, verbose)
  }
}

/** Writes the one-line message of `error` on stderr and returns its exit code. */
export function reportError(io: CLIIO, error: unknown, verbose: boolean): number {
  if (error instanceof CommanderError) {
    // Commander has already printed help, the version, or its "error: ..." line.
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE
  }
  let exitCode: number = EXIT_FAILED
  let message: string
  if (error instanceof CLIError) {
    exitCode = error.exitCode
    message = escapeMessage(error.message)
  } else if (hasCode(error, 'ERR_WEAK_PASSWORD')) {
    const problems = (error as { problems?: unknown }).problems
    message = `the password was rejected: ${Array.isArray(problems) && problems.length > 0 ? problems.map(String).map(escapeMessage).join('; ') : reasonOf(error)}`
  } else if (hasCode(error, 'ERR_USER_EXISTS') || hasCode(error, 'ERR_USER_NOT_FOUND')) {
    message = escapeMessage(error.message)
  } else if (hasCode(error, 'ERR_MISCONFIGURED')) {
    message = escapeMessage(error.message)
  } else if (hasCode(error, 'ERR_STORE_UNAVAILABLE')) {
    message = `the database is unavailable: ${reasonOf(error)}`
  } else {
    message = `${reasonOf(error)}${verbose ? '' : ' (run with --verbose for details)'}`
  }
  io.stderr.write(`error: ${message}\n`)
  if (verbose && error instanceof Error) io.stderr.write(`${stackOf(error)}\n`)
  return exitCode
}

function stackOf(error: Error): string {
  const parts = [error.stack ?? String(error)]
  let cause: unknown = error.cause
  for (let depth = 0; depth < 5 && cause !== undefined; depth++) {
    parts.push(`Caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`)
    cause = cause instanceof Error ? cause.cause : undefined
  }
  return parts.join('\n')
}

let version: string | undefined
function packageVersion(): string {
  // src/ and dist/ both sit one level below package.json.
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return version
}

import { normalizeUsername } from '@gatehouse/core'
import type { CommandContext } from '../context.js'
import { CLIError, UsageError } from '../errors.js'
import { escapeMessage } from '../escape.js'
import { readFirstLine } from '../password.js'
import type { RoleCatalog } from '../roles.js'
import { assertKnownRoles } from '../roles.js'
import type { AdminStore } from '../store.js'

/** Opens the store, runs `work`, and always closes the store (a pg pool would keep the process alive). */
export async function withStore<T>(ctx: CommandContext, work: (store: AdminStore) => Promise<T>, options?: { migrate?: boolean; passwordPolicy?: boolean }): Promise<T> {
  const store = await ctx.openStore(options)
  try {
    return await work(store)
  } finally {
    await store.close()
  }
}

/** A username argument: non-empty after trimming. */
export function requireUsername(username: string): string {
  if (normalizeUsername(username) === '') throw new UsageError('the username is empty')
  return username
}

/** `user "alice"` with the name escaped for the terminal. */
export const quoteUser = (username: string): string => `user "${escapeMessage(username)}"`

/** The error for a username the store does not know (exit 1). */
export const notFound = (username: string): CLIError => new CLIError(`${quoteUser(username)} does not exist`)

/**
 * Checks roles to be granted against the application's role registry. Without `--config` (or
 * `AUTH_CONFIG`) any name is accepted, with a warning that nothing checked it.
 */
export async function checkRoles(ctx: CommandContext, roles: readonly string[]): Promise<RoleCatalog | null> {
  const catalog = await ctx.roleCatalog()
  if (catalog === null) {
    if (roles.length > 0) ctx.warn('roles are not checked against the application: pass --config <module> or set AUTH_CONFIG')
    return null
  }
  assertKnownRoles(catalog, roles)
  return catalog
}

/** Where a new password comes from, as the command line says. */
export interface PasswordSource {
  /** The password given as an argument (seed compatibility; warned about). */
  readonly argument?: string | undefined
  /** `--password-stdin`: the first line of stdin. */
  readonly fromStdin?: boolean | undefined
}

/**
 * Rejects conflicting password sources and warns about a password given as an argument. Runs
 * before anything else so the warning is the first thing the user sees.
 */
export function checkPasswordSource(ctx: CommandContext, source: PasswordSource): void {
  if (source.argument !== undefined && source.fromStdin === true) {
    throw new UsageError('give the password either as an argument or with --password-stdin, not both')
  }
  if (source.argument !== undefined) {
    ctx.warn('a password given as an argument lands in shell history and process lists; leave it out to be prompted, or use --password-stdin')
  } else if (source.fromStdin !== true && !ctx.io.isTTY) {
    throw new UsageError('no password given and stdin is not a terminal: pipe it in with --password-stdin')
  }
}

/**
 * The new password: the argument, the first line of stdin (`--password-stdin`), or a hidden
 * prompt on the terminal, asked twice. A password is never taken from a flag's value.
 */
export async function readNewPassword(ctx: CommandContext, source: PasswordSource & { readonly username: string }, store: AdminStore): Promise<string> {
  if (source.argument !== undefined) return source.argument
  if (source.fromStdin === true) {
    const line = await readFirstLine(ctx.io.stdin)
    if (line === null) throw new CLIError('--password-stdin: stdin is empty')
    return line
  }
  const first = await ctx.io.prompt('New password: ')
  // Say what is wrong with the password before asking for it a second time.
  const problems = store.accounts.checkPassword(first, source.username)
  if (problems.length > 0) throw new CLIError(`the password was rejected: ${problems.map(escapeMessage).join('; ')}`)
  const second = await ctx.io.prompt('Repeat password: ')
  if (first !== second) throw new CLIError('the passwords do not match')
  return first
}

import type { CommandContext } from '../context.js'
import { hasCode, reasonOf } from '../context.js'
import { CLIError, EXIT_FAILED, EXIT_OK } from '../errors.js'
import { escapeMessage } from '../escape.js'
import { plural } from '../format.js'
import type { AdminStore, SchemaStatus } from '../store.js'

/** What `check --json` prints. */
export interface CheckReport {
  readonly database: string
  readonly dialect: string | null
  readonly reachable: boolean
  readonly schema: (SchemaStatus & { readonly current: boolean }) | null
  readonly users: number | null
  readonly error?: string
}

/**
 * `check`: can the CLI reach the database, and is its schema current? Opens the store without
 * migrating so that a schema that is behind is reported, not silently upgraded. Exit 0 only when
 * both hold; exit 1 otherwise, with the reason on stderr (and, with `--json`, the report on
 * stdout either way, for monitoring).
 */
export async function checkDatabase(ctx: CommandContext): Promise<number> {
  let store: AdminStore
  try {
    store = await ctx.openStore({ migrate: false })
  } catch (error) {
    if (!(error instanceof CLIError) || error.exitCode !== EXIT_FAILED || !ctx.json) throw error
    const reachable = !hasCode(error.cause, 'ERR_STORE_UNAVAILABLE')
    const report: CheckReport = { database: ctx.dbLabel, dialect: null, reachable, schema: null, users: null, error: error.message }
    await ctx.printJSON(report)
    throw error
  }
  try {
    let status: SchemaStatus
    try {
      status = await store.schemaStatus()
    } catch (error) {
      throw new CLIError(`cannot read the schema of ${escapeMessage(store.displayURI)}: ${reasonOf(error)}`, { cause: error })
    }
    const current = status.pending.length === 0 && status.unknown.length === 0
    // Counting needs the users table, which a database that is behind may not have yet.
    const users = status.pending.length === 0 ? await store.accounts.count() : null
    const report: CheckReport = {
      database: store.displayURI,
      dialect: store.dialect,
      reachable: true,
      schema: { current, applied: [...status.applied], pending: [...status.pending], unknown: [...status.unknown] },
      users,
    }
    let problem: string | null = null
    if (status.pending.length > 0) {
      problem = `the schema is behind: ${plural(status.pending.length, 'pending migration')} (${status.pending.join(', ')}); run "auth-user-admin migrate"`
    } else if (status.unknown.length > 0) {
      problem = `the database has migrations this version of Gatehouse does not know (${status.unknown.join(', ')}): it was upgraded by a newer version`
    }
    if (ctx.json) {
      await ctx.printJSON(problem === null ? report : { ...report, error: problem })
    } else {
      await ctx.print(
        [
          `database:   ${escapeMessage(store.displayURI)} (${store.dialect})`,
          'connection: ok',
          `schema:     ${current ? 'current' : status.pending.length > 0 ? 'behind' : 'newer than this version'} (${plural(status.applied.length, 'migration')} applied${status.pending.length > 0 ? `, ${status.pending.length} pending` : ''})`,
          ...(users === null ? [] : [`users:      ${users}`]),
        ].join('\n'),
      )
    }
    if (problem !== null) throw new CLIError(problem)
    return EXIT_OK
  } finally {
    await store.close()
  }
}

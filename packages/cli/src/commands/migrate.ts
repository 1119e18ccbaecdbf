import type { CommandContext } from '../context.js'
import { EXIT_OK } from '../errors.js'
import { escapeMessage } from '../escape.js'
import { plural } from '../format.js'
import { withStore } from './shared.js'

/** `migrate`: brings the schema up to date (a no-op when it is current) and says what it applied. */
export async function migrateSchema(ctx: CommandContext): Promise<number> {
  return withStore(
    ctx,
    async (store) => {
      const before = await store.schemaStatus()
      if (before.pending.length > 0) await store.migrate()
      const after = await store.schemaStatus()
      const applied = before.pending.filter((name) => !after.pending.includes(name))
      if (ctx.json) {
        await ctx.printJSON({ database: store.displayURI, dialect: store.dialect, applied, pending: after.pending, unknown: after.unknown })
      } else if (applied.length === 0) {
        await ctx.print(`schema of ${escapeMessage(store.displayURI)} is current (${plural(after.applied.length, 'migration')} applied)`)
      } else {
        await ctx.print(`applied ${plural(applied.length, 'migration')} to ${escapeMessage(store.displayURI)}: ${applied.join(', ')}`)
      }
      if (after.unknown.length > 0) ctx.warn(`the database has migrations this version does not know: ${after.unknown.join(', ')}`)
      return EXIT_OK
    },
    { migrate: false },
  )
}

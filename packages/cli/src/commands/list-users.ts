import type { CommandContext } from '../context.js'
import { EXIT_OK } from '../errors.js'
import { JSONArrayWriter, TableWriter, USER_COLUMNS, userRow, userView } from '../format.js'
import { withStore } from './shared.js'

/** Users fetched per query; the listing holds about one page in memory, whatever the store's size. */
export const LIST_PAGE_SIZE = 500

/**
 * `list-users`: every account, ordered by username, as a table or (`--json`) one JSON array.
 * Streams page by page, so 100 000 users never sit in memory at once; names are escaped so a
 * stored control character cannot rewrite the operator's terminal.
 */
export async function listUsers(ctx: CommandContext): Promise<number> {
  return withStore(ctx, async (store) => {
    const users = store.accounts.list({ pageSize: LIST_PAGE_SIZE })
    if (ctx.json) {
      const out = new JSONArrayWriter(ctx.io.stdout)
      for await (const user of users) await out.item(userView(user))
      await out.end()
      return EXIT_OK
    }
    const table = new TableWriter(ctx.io.stdout, USER_COLUMNS)
    for await (const user of users) await table.row(userRow(user))
    await table.end()
    if (table.rows === 0) await ctx.print('no users')
    return EXIT_OK
  })
}

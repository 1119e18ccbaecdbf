import type { CommandContext } from '../context.js'
import { EXIT_OK } from '../errors.js'
import { notFound, quoteUser, requireUsername, withStore } from './shared.js'

/**
 * `delete <username>`: removes the account. Its open sessions end with it: the running
 * application refuses the user's cookie on the next request.
 */
export async function deleteUser(ctx: CommandContext, args: { readonly username: string }): Promise<number> {
  requireUsername(args.username)
  return withStore(ctx, async (store) => {
    const user = await store.accounts.get({ username: args.username })
    if (user === null) throw notFound(args.username)
    await store.accounts.delete({ username: user.username })
    if (ctx.json) await ctx.printJSON({ username: user.username, id: user.id, deleted: true })
    else await ctx.print(`deleted ${quoteUser(user.username)}; their sessions are ended`)
    return EXIT_OK
  })
}

import type { CommandContext } from '../context.js'
import { EXIT_OK } from '../errors.js'
import { describeUser, userView } from '../format.js'
import { notFound, requireUsername, withStore } from './shared.js'

/**
 * `show <username>`: one account in detail (never its password hash). With `--config`, the
 * permissions its roles grant are listed too.
 */
export async function showUser(ctx: CommandContext, args: { readonly username: string }): Promise<number> {
  requireUsername(args.username)
  const catalog = await ctx.roleCatalog()
  return withStore(ctx, async (store) => {
    const user = await store.accounts.get({ username: args.username })
    if (user === null) throw notFound(args.username)
    const view = userView(user, catalog?.permissionsOf(user.roles))
    if (ctx.json) await ctx.printJSON(view)
    else await ctx.print(describeUser(view))
    return EXIT_OK
  })
}
